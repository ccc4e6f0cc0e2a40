package alert

import (
	"context"
	"maps"
	"slices"

	"github.com/use-lumina/lumina/internal/store"
)

// effects are the store writes of one evaluation, made after the engine's lock is released.
type effects struct {
	rules      []store.AlertRule
	alerts     []store.Alert
	deliveries []store.Delivery
}

// maxRetry bounds the failed writes kept for the next tick.
const maxRetry = 10_000

func (fx *effects) merge(o effects) {
	fx.rules = append(fx.rules, o.rules...)
	fx.alerts = slices.Concat(o.alerts, fx.alerts) // older first: the newer state wins
	fx.deliveries = append(fx.deliveries, o.deliveries...)
}

func (fx *effects) empty() bool {
	return len(fx.rules)+len(fx.alerts)+len(fx.deliveries) == 0
}

// collect moves the alerts changed since the last flush into fx, as copies.
func (e *Engine) collect(fx *effects) {
	for _, id := range slices.Sorted(maps.Keys(e.dirty)) {
		fx.alerts = append(fx.alerts, *e.dirty[id])
	}
	clear(e.dirty)
}

// apply writes fx: rules, then alerts, then deliveries (each delivery carries its alert, so
// the order only matters to readers). What fails is kept for the next tick.
func (e *Engine) apply(ctx context.Context, fx effects) {
	if fx.empty() {
		return
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
	for _, a := range fx.alerts {
		if err := e.store.PutAlert(ctx, a); err != nil {
			e.log.Warn("store alert failed; retrying on the next tick", "alert", a.ID, "err", err)
			failed.alerts = append(failed.alerts, a)
		}
	}
	if len(fx.deliveries) > 0 {
		if err := e.store.EnqueueDeliveries(ctx, fx.deliveries); err != nil {
			e.log.Warn("enqueue alert deliveries failed; retrying on the next tick", "deliveries", len(fx.deliveries), "err", err)
			failed.deliveries = fx.deliveries
		} else if e.notify != nil {
			e.notify()
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range stored {
		delete(e.pending, p)
	}
	e.retry.merge(failed)
	if n := len(e.retry.alerts) + len(e.retry.deliveries) + len(e.retry.rules); n > maxRetry {
		e.log.Error("alert writes keep failing; dropping the oldest", "pending", n)
		e.retry.alerts = e.retry.alerts[max(0, len(e.retry.alerts)-maxRetry/2):]
		e.retry.deliveries = e.retry.deliveries[max(0, len(e.retry.deliveries)-maxRetry/2):]
	}
}
