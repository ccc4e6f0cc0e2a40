package alert

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// effects are the store writes of one evaluation, made after the engine's lock is released.
type effects struct {
	rules  []store.AlertRule
	alerts []alertWrite
	events []event
}

// alertWrite is an alert as it is now and the repeats counted since it was last written:
// the store adds them to the count every process shares.
type alertWrite struct {
	alert   store.Alert
	repeats int
}

// event is an alert event to deliver: the alert as it was when it happened.
type event struct {
	alert store.Alert
	kind  string // store.EventTrigger or store.EventResolve
	at    time.Time
}

// maxRetry bounds the failed writes kept for the next tick.
const maxRetry = 10_000

func (fx *effects) merge(o effects) {
	fx.rules = append(fx.rules, o.rules...)
	fx.alerts = slices.Concat(o.alerts, fx.alerts) // older first: the newer state wins
	fx.events = append(fx.events, o.events...)
}

func (fx *effects) empty() bool {
	return len(fx.rules)+len(fx.alerts)+len(fx.events) == 0
}

// collect moves the alerts changed since the last flush into fx, as copies.
func (e *Engine) collect(fx *effects) {
	for _, id := range slices.Sorted(maps.Keys(e.dirty)) {
		fx.alerts = append(fx.alerts, alertWrite{alert: *e.dirty[id], repeats: e.repeats[id]})
		delete(e.repeats, id)
	}
	clear(e.dirty)
}

// applied is what apply did, for settle to record.
type applied struct {
	stored []string
	// written are the open alerts as the store returned them, with the id each was
	// written under (another process's alert id when it had the dedup key open first).
	written []adopted
	failed  effects
}

type adopted struct {
	id    string
	alert store.Alert
}

// apply writes fx: rules, then alerts, then deliveries (each delivery carries its alert, so
// the order only matters to readers). It runs under flushMu and must not take mu (callers
// take mu before flushMu); settle records the outcome afterwards.
func (e *Engine) apply(ctx context.Context, fx effects) applied {
	var failed effects
	var stored []string
	for _, r := range fx.rules {
		if err := e.store.PutAlertRule(ctx, r); err != nil {
			e.log.Warn("store default alert rule failed; retrying on the next tick", "project", r.ProjectID, "rule", r.ID, "err", err)
			failed.rules = append(failed.rules, r)
			continue
		}
		stored = append(stored, r.ProjectID)
	}
	var written []adopted
	unwritten := map[string]bool{}
	for _, w := range fx.alerts {
		a := w.alert
		if id, ok := e.merged[a.ID]; ok {
			a.ID = id
		}
		got, err := e.store.RecordAlert(ctx, a, w.repeats)
		if err != nil {
			e.log.Warn("store alert failed; retrying on the next tick", "alert", a.ID, "err", err)
			failed.alerts = append(failed.alerts, w)
			unwritten[w.alert.ID] = true
			continue
		}
		if got.ID != a.ID {
			// Another process opened this dedup key first: its alert counts our repeats,
			// and ours never existed.
			e.merged[w.alert.ID] = got.ID
			e.m.merged.Inc()
		}
		if got.Status != store.AlertResolved {
			written = append(written, adopted{id: w.alert.ID, alert: got})
		}
	}
	var events []event
	for _, ev := range fx.events {
		if unwritten[ev.alert.ID] { // the event waits for its alert to be stored
			failed.events = append(failed.events, ev)
			continue
		}
		if id, ok := e.merged[ev.alert.ID]; ok {
			if ev.kind == store.EventTrigger {
				continue // the process that opened the alert sent its trigger
			}
			ev.alert.ID = id
		}
		events = append(events, ev)
	}
	if len(events) > 0 {
		if err := e.enqueue(ctx, events); err != nil {
			e.log.Warn("enqueue alert deliveries failed; retrying on the next tick", "events", len(events), "err", err)
			failed.events = append(failed.events, events...)
		}
	}
	if len(e.merged) > maxRetry { // only writes collected before an adoption need it
		clear(e.merged)
	}
	return applied{stored: stored, written: written, failed: failed}
}

// flush stores fx, in the order of evaluation: called with mu held, it takes flushMu before
// releasing mu, then applies and settles. An evaluation that changed nothing returns at
// once: it has nothing to order, and waiting for another evaluation's writes (a slow
// commit) with mu held would stall every consume loop's evaluation behind them.
func (e *Engine) flush(ctx context.Context, fx effects) {
	if fx.empty() {
		e.mu.Unlock()
		return
	}
	e.flushMu.Lock()
	e.mu.Unlock()
	done := e.apply(ctx, fx)
	e.flushMu.Unlock()
	e.settle(done)
}

// settle records what apply wrote and keeps what failed for the next tick.
func (e *Engine) settle(a applied) {
	stored, written, failed := a.stored, a.written, a.failed
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range stored {
		delete(e.pending, p)
	}
	for _, w := range written {
		e.adopt(w.id, w.alert)
		e.writes++
		e.written[w.alert.ID] = e.writes
	}
	e.retry.merge(failed)
	e.m.failures.Add(float64(len(failed.rules) + len(failed.alerts) + len(failed.events)))
	if n := len(e.retry.alerts) + len(e.retry.events) + len(e.retry.rules); n > maxRetry {
		e.log.Error("alert writes keep failing; dropping the oldest", "pending", n)
		e.retry.alerts = e.retry.alerts[max(0, len(e.retry.alerts)-maxRetry/2):]
		e.retry.events = e.retry.events[max(0, len(e.retry.events)-maxRetry/2):]
	}
}

// enqueue turns alert events into outbox items, one per enabled channel of the project
// whose minimum severity the alert meets, read from the store now. Item ids are derived
// from the alert, the event and the channel, so enqueueing twice delivers once. With a
// local dispatcher the new items are stored claimed for it and handed over.
func (e *Engine) enqueue(ctx context.Context, events []event) error {
	channels := map[string][]store.Channel{}
	var ds []store.Delivery
	for _, ev := range events {
		p := ev.alert.ProjectID
		if _, ok := channels[p]; !ok {
			cs, err := e.store.Channels(ctx, p)
			if err != nil {
				return fmt.Errorf("read channels of %s: %w", p, err)
			}
			channels[p] = cs
		}
		for _, ch := range channels[p] {
			if !ch.Enabled || severityRank(ev.alert.Severity) < severityRank(ch.MinSeverity) {
				continue
			}
			ds = append(ds, store.Delivery{
				ID: ev.alert.ID + ":" + ev.kind + ":" + ch.ID, ProjectID: p, AlertID: ev.alert.ID, ChannelID: ch.ID,
				Event: ev.kind, Alert: ev.alert, Status: store.DeliveryPending,
				NextAttempt: ev.at.UTC(), CreatedAt: ev.at.UTC(), UpdatedAt: ev.at.UTC(),
			})
		}
	}
	if e.local == nil {
		if err := e.store.EnqueueDeliveries(ctx, ds); err != nil {
			return fmt.Errorf("enqueue %d alert deliveries: %w", len(ds), err)
		}
		return nil
	}
	added, err := e.store.EnqueueClaimed(ctx, ds, e.local.LeaseEnd())
	if err != nil {
		return fmt.Errorf("enqueue %d alert deliveries: %w", len(ds), err)
	}
	e.local.Take(added, channels)
	return nil
}

// adopt takes the stored state of an open alert this engine wrote under id: the count
// every process added to, and the stored id, which differs when another process opened
// the dedup key first (later writes and resolves then name that alert).
func (e *Engine) adopt(id string, stored store.Alert) {
	ok := openID{rule: stored.RuleID, key: Key{Project: stored.ProjectID, Service: stored.Service, Endpoint: stored.Endpoint, Model: stored.Model}}
	a := e.open[ok]
	if a == nil || (a.ID != id && a.ID != stored.ID) {
		return // resolved or replaced since it was written
	}
	pending := e.repeats[a.ID]
	if a.ID != stored.ID {
		delete(e.written, a.ID)
		delete(e.repeats, a.ID)
		e.repeats[stored.ID] += pending
		if d, found := e.dirty[a.ID]; found {
			delete(e.dirty, a.ID)
			e.dirty[stored.ID] = d
		}
		*a = stored
	}
	a.Count, a.LastSeenAt = stored.Count+pending, later(a.LastSeenAt, stored.LastSeenAt)
	if store.AlertStatusRank(stored.Status) > store.AlertStatusRank(a.Status) {
		a.Status, a.AcknowledgedAt = stored.Status, stored.AcknowledgedAt
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
