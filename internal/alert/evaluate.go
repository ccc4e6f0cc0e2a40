package alert

import (
	"fmt"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// signal is a rule's judgement of one key. Known is false when there is not enough data to
// judge (too few samples, no baseline yet): nothing fires and nothing resolves.
type signal struct {
	known, degraded bool
	metric          string
	observed        float64
	baseline        float64
	threshold       float64
	traceID, spanID string
	explanation     string
	empty           bool // the window holds no request at all
}

// evaluateKey judges every enabled rule of the key's project that matches it. A firing
// cost_and_quality rule replaces the key's cost_spike and quality_drop alerts.
func (e *Engine) evaluateKey(ks *keyState, now time.Time, fx *effects) {
	rules := e.rules[ks.key.Project]
	replaced := false
	for i := range rules {
		r := &rules[i]
		if r.Enabled && r.Type == store.RuleCostAndQuality && matches(r, ks.key) {
			if e.decide(r, ks.key, e.judge(r, ks, now), now, fx) {
				replaced = true
			}
		}
	}
	for i := range rules {
		r := &rules[i]
		if !r.Enabled || r.Type == store.RuleCostAndQuality || r.Type == store.RuleBudget || !matches(r, ks.key) {
			continue
		}
		if replaced && (r.Type == store.RuleCostSpike || r.Type == store.RuleQualityDrop) {
			e.resolve(r, ks.key, now, "replaced", fx)
			continue
		}
		if r.Type == store.RuleNoData { // a request arrived: the silence is over
			e.resolve(r, ks.key, now, "auto", fx)
			continue
		}
		e.decide(r, ks.key, e.judge(r, ks, now), now, fx)
	}
}

// decide fires or resolves on a signal and reports whether the rule is firing.
func (e *Engine) decide(r *store.AlertRule, k Key, sig signal, now time.Time, fx *effects) bool {
	switch {
	case sig.known && sig.degraded:
		e.fire(r, k, sig, now, fx)
		return true
	case sig.known, sig.empty:
		e.resolve(r, k, now, "auto", fx)
	}
	return false
}

// judge evaluates one rule on one key at now.
func (e *Engine) judge(r *store.AlertRule, ks *keyState, now time.Time) signal {
	switch r.Type {
	case store.RuleCostSpike:
		return e.judgeSpike(r, ks, MetricCost, r.Threshold, now)
	case store.RuleLatencySpike:
		return e.judgeSpike(r, ks, MetricLatency, r.Threshold, now)
	case store.RuleQualityDrop:
		roll := ks.win.roll(MetricQuality, r.WindowRequests, r.WindowDuration, now)
		sig := signal{metric: MetricQuality, threshold: r.Threshold, traceID: roll.traceID, spanID: roll.spanID, empty: e.idle(ks, r.WindowDuration, now)}
		if roll.n == 0 || roll.n < r.MinSamples {
			return sig
		}
		sig.known, sig.observed, sig.degraded = true, roll.mean(), roll.mean() < r.Threshold
		if !sig.degraded {
			return sig
		}
		sig.explanation = fmt.Sprintf("quality %.2f over the last %d scored requests of %s is below %.2f",
			sig.observed, roll.n, ks.key, r.Threshold)
		return sig
	case store.RuleErrorRate:
		roll := ks.win.roll(MetricErrors, r.WindowRequests, r.WindowDuration, now)
		sig := signal{metric: MetricErrors, threshold: r.Threshold, traceID: roll.traceID, spanID: roll.spanID, empty: e.idle(ks, r.WindowDuration, now)}
		if roll.n == 0 || roll.n < r.MinSamples {
			return sig
		}
		sig.known, sig.observed = true, roll.mean()
		sig.degraded = sig.observed > r.Threshold
		if !sig.degraded {
			return sig
		}
		sig.explanation = fmt.Sprintf("%d of the last %d requests of %s failed (%.0f%%, threshold %.0f%%)",
			roll.errors, roll.n, ks.key, 100*sig.observed, 100*r.Threshold)
		return sig
	case store.RuleNoData:
		return judgeSilence(r, ks, now)
	case store.RuleCostAndQuality:
		cost := e.judgeSpike(r, ks, MetricCost, r.Threshold, now)
		q := ks.win.roll(MetricQuality, r.WindowRequests, r.WindowDuration, now)
		sig := cost
		sig.empty = cost.empty
		if !cost.known || q.n == 0 {
			sig.known = false
			return sig
		}
		sig.degraded = cost.degraded && q.mean() < r.QualityThreshold
		if !sig.degraded {
			return sig
		}
		sig.explanation = fmt.Sprintf("cost and quality degraded together on %s: %s, and quality %.2f is below %.2f",
			ks.key, cost.explanation, q.mean(), r.QualityThreshold)
		return sig
	}
	return signal{}
}

// idle reports whether the key's window holds no request within d. A process that has
// run for less than d cannot tell: the requests before it started are not in its window
// (a worker process that just joined, or restarted, would otherwise resolve every open
// alert at its first tick), so only a window it could have seen whole counts as empty.
func (e *Engine) idle(ks *keyState, d time.Duration, now time.Time) bool {
	return ks.win.idle(d, now) && now.Sub(e.started) >= d
}

// judgeSilence judges a no_data rule: the key had at least MinSamples requests and none
// arrived within WindowDuration before now. Observed and threshold are in minutes.
func judgeSilence(r *store.AlertRule, ks *keyState, now time.Time) signal {
	var last *sample
	ks.win.each(1, 0, func(s *sample) { last = s })
	sig := signal{metric: MetricSilence, threshold: r.WindowDuration.Minutes()}
	arrived := later(ks.arrived, ks.othersArrived) // the other worker processes' arrivals count
	if last == nil || arrived.IsZero() || ks.win.n < max(r.MinSamples, 1) {
		return sig
	}
	silent := max(now.Sub(arrived), 0)
	sig.known, sig.observed, sig.traceID, sig.spanID = true, silent.Minutes(), last.traceID, last.spanID
	sig.degraded = silent >= r.WindowDuration
	if sig.degraded {
		sig.explanation = fmt.Sprintf("no request from %s for %s (the last arrived at %s; alert after %s without one)",
			ks.key, silent.Round(time.Second), arrived.UTC().Format(time.RFC3339), r.WindowDuration)
	}
	return sig
}

// judgeSpike compares a rolling mean with the baseline's statistic × (1 + threshold).
func (e *Engine) judgeSpike(r *store.AlertRule, ks *keyState, metric string, threshold float64, now time.Time) signal {
	roll := ks.win.roll(metric, r.WindowRequests, r.WindowDuration, now)
	sig := signal{metric: metric, traceID: roll.traceID, spanID: roll.spanID, empty: e.idle(ks, r.WindowDuration, now)}
	d := ks.dists[metric]
	if roll.n == 0 || d == nil {
		return sig
	}
	st := d.summary(now.UnixNano())
	base := st.stat(r.Stat)
	if st.Count < int64(max(r.MinSamples, 1)) || base <= 0 {
		return sig
	}
	limit := base * (1 + threshold)
	sig.known, sig.observed, sig.baseline, sig.threshold = true, roll.mean(), base, limit
	sig.degraded = sig.observed > limit
	if !sig.degraded {
		return sig
	}
	what, unit := "cost per request", "$%.6g"
	if metric == MetricLatency {
		what, unit = "latency", "%.0f ms"
	}
	sig.explanation = fmt.Sprintf("%s "+unit+" over the last %d requests of %s is %+.0f%% vs the baseline %s "+unit+" (alert above +%.0f%%)",
		what, sig.observed, roll.n, ks.key, 100*(sig.observed/base-1), r.Stat, base, 100*threshold)
	return sig
}

// fire opens an alert for the rule on the key, or counts a repeat of the open one. A key
// whose alert resolved less than the rule's cooldown ago stays quiet.
func (e *Engine) fire(r *store.AlertRule, k Key, sig signal, now time.Time, fx *effects) {
	ok := openID{rule: r.ID, key: k}
	if a := e.open[ok]; a != nil {
		a.Count++
		a.LastSeenAt = now.UTC()
		e.dirty[a.ID] = a
		e.repeats[a.ID]++
		return
	}
	if t, found := e.resolved[ok]; found && now.Sub(t) < r.Cooldown {
		return
	}
	a := &store.Alert{
		ID: newID(), ProjectID: k.Project, RuleID: r.ID, Type: r.Type, Severity: e.severity(r, k),
		Status: store.AlertFiring, DedupKey: r.ID + "|" + k.String(), Service: k.Service, Endpoint: k.Endpoint, Model: k.Model,
		Metric: sig.metric, Observed: sig.observed, Baseline: sig.baseline, Threshold: sig.threshold,
		TraceID: sig.traceID, SpanID: sig.spanID, Explanation: sig.explanation, Count: 1,
		FiredAt: now.UTC(), LastSeenAt: now.UTC(),
	}
	e.open[ok] = a
	e.dirty[a.ID] = a
	e.repeats[a.ID] = 1
	e.m.fired.WithLabelValues(a.Type).Inc()
	fx.events = append(fx.events, event{alert: *a, kind: store.EventTrigger, at: now})
}

// severity is the rule's severity; a cost_and_quality alert takes the highest of its own
// and of the single rules it replaces on the key.
func (e *Engine) severity(r *store.AlertRule, k Key) string {
	sev := r.Severity
	if r.Type != store.RuleCostAndQuality {
		return sev
	}
	for _, o := range e.rules[k.Project] {
		if o.Enabled && (o.Type == store.RuleCostSpike || o.Type == store.RuleQualityDrop) && matches(&o, k) &&
			severityRank(o.Severity) > severityRank(sev) {
			sev = o.Severity
		}
	}
	return sev
}

// resolve closes the rule's open alert on the key, if there is one.
func (e *Engine) resolve(r *store.AlertRule, k Key, now time.Time, by string, fx *effects) {
	e.resolveOpen(openID{rule: r.ID, key: k}, now, by, fx)
}

func (e *Engine) resolveOpen(ok openID, now time.Time, by string, fx *effects) {
	a := e.open[ok]
	if a == nil {
		return
	}
	delete(e.open, ok)
	delete(e.written, a.ID)
	e.resolved[ok] = now
	a.Status, a.ResolvedAt, a.ResolvedBy = store.AlertResolved, now.UTC(), by
	e.dirty[a.ID] = a
	e.m.resolved.WithLabelValues(by).Inc()
	fx.events = append(fx.events, event{alert: *a, kind: store.EventResolve, at: now})
}

// syncOpen applies what happened to open alerts outside the engine: an alert a user
// resolved is forgotten (its resolve event is delivered), an acknowledged one keeps counting.
func (e *Engine) syncOpen(stored []store.Alert, before uint64, now time.Time, fx *effects) {
	byID := make(map[string]*store.Alert, len(stored))
	for i := range stored {
		byID[stored[i].ID] = &stored[i]
	}
	for ok, a := range e.open {
		if w, found := e.written[a.ID]; !found || w > before {
			continue // stored after the list was read, or not yet: its absence says nothing
		}
		s, found := byID[a.ID]
		if !found {
			delete(e.open, ok)
			delete(e.written, a.ID)
			e.resolved[ok] = now
			a.Status, a.ResolvedAt, a.ResolvedBy = store.AlertResolved, now.UTC(), "user"
			e.m.resolved.WithLabelValues("user").Inc()
			fx.events = append(fx.events, event{alert: *a, kind: store.EventResolve, at: now})
			continue
		}
		a.Status, a.AcknowledgedAt = s.Status, s.AcknowledgedAt
	}
}

// reevaluate judges every open alert's rule again at now: windows age without traffic, so a
// spike that is over resolves even when its key has gone quiet. Budgets are judged too.
func (e *Engine) reevaluate(now time.Time, fx *effects) {
	for ok, a := range e.open {
		r := e.rule(a.ProjectID, a.RuleID)
		if r == nil || !r.Enabled {
			e.resolveOpen(ok, now, "auto", fx)
			continue
		}
		if r.Type == store.RuleBudget {
			continue
		}
		k := ok.key
		ks := e.keys[k]
		if ks == nil {
			if now.Sub(e.started) >= r.WindowDuration { // see idle
				e.resolveOpen(ok, now, "auto", fx)
			}
			continue
		}
		// Only resolve here: a repeat is counted per request, never per tick.
		if sig := e.judge(r, ks, now); (sig.known && !sig.degraded) || sig.empty {
			e.resolveOpen(ok, now, "auto", fx)
		}
	}
	for p := range e.rules {
		e.evaluateBudgets(p, now, fx)
	}
	e.evaluateSilence(now, fx)
}

// evaluateSilence fires the no_data rules on the keys that went quiet: only the clock can
// tell, so it runs on the tick. A new request on the key resolves the alert (evaluateKey).
func (e *Engine) evaluateSilence(now time.Time, fx *effects) {
	for k, ks := range e.keys {
		rules := e.rules[k.Project]
		for i := range rules {
			r := &rules[i]
			if !r.Enabled || r.Type != store.RuleNoData || !matches(r, k) || e.open[openID{rule: r.ID, key: k}] != nil {
				continue
			}
			if sig := judgeSilence(r, ks, now); sig.known && sig.degraded {
				e.fire(r, k, sig, now, fx)
			}
		}
	}
}

func (e *Engine) rule(project, id string) *store.AlertRule {
	for i, r := range e.rules[project] {
		if r.ID == id {
			return &e.rules[project][i]
		}
	}
	return nil
}
