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
	alerts []store.Alert
	events []event
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
		fx.alerts = append(fx.alerts, *e.dirty[id])
	}
	clear(e.dirty)
}

// applied is what apply did, for settle to record.
type applied struct {
	stored, written []string
	failed          effects
}

// apply writes fx: rules, then alerts, then deliveries (each delivery carries its alert, so
// the order only matters to readers). It runs under flushMu and must not take mu (callers
// take mu before flushMu); settle records the outcome afterwards.
func (e *Engine) apply(ctx context.Context, fx effects) applied {
	if fx.empty() {
		return applied{}
	}
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
	var written []string
	for _, a := range fx.alerts {
		if err := e.store.PutAlert(ctx, a); err != nil {
			e.log.Warn("store alert failed; retrying on the next tick", "alert", a.ID, "err", err)
			failed.alerts = append(failed.alerts, a)
			continue
		}
		if a.Status != store.AlertResolved {
			written = append(written, a.ID)
		}
	}
	if len(fx.events) > 0 {
		if err := e.enqueue(ctx, fx.events); err != nil {
			e.log.Warn("enqueue alert deliveries failed; retrying on the next tick", "events", len(fx.events), "err", err)
			failed.events = fx.events
		} else if e.notify != nil {
			e.notify()
		}
	}
	return applied{stored: stored, written: written, failed: failed}
}

// settle records what apply wrote and keeps what failed for the next tick.
func (e *Engine) settle(a applied) {
	stored, written, failed := a.stored, a.written, a.failed
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range stored {
		delete(e.pending, p)
	}
	for _, id := range written {
		e.writes++
		e.written[id] = e.writes
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
// from the alert, the event and the channel, so enqueueing twice delivers once.
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
	if err := e.store.EnqueueDeliveries(ctx, ds); err != nil {
		return fmt.Errorf("enqueue %d alert deliveries: %w", len(ds), err)
	}
	return nil
}
