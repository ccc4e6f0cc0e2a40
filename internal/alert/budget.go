package alert

import (
	"context"
	"fmt"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// budgetKey is one spend accumulator: a project's spend in one period, in total (empty
// service and model), per service, per model, or per both; and the same per user, for the
// users a budget rule names (so user ids never grow the map unbounded).
type budgetKey struct {
	project, period      string
	start                int64 // the period's start, Unix nanoseconds
	service, model, user string
}

// spend is one accumulator as this process knows it: the shared total as the store last
// returned it (every process's spend), plus what this process spent since it last added
// its share. Budgets are judged on the sum.
type spend struct {
	total    float64
	totalN   int64
	pending  float64
	pendingN int64
	dirty    bool // changed since the last baseline snapshot
}

func (sp *spend) usd() float64 { return sp.total + sp.pending }
func (sp *spend) n() int64     { return sp.totalN + sp.pendingN }

// periodStart is the start of the UTC day or month containing t.
func periodStart(t time.Time, period string) time.Time {
	t = t.UTC()
	if period == PeriodMonth {
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// addSpend adds a priced request to its day's and month's accumulators.
func (e *Engine) addSpend(k Key, sm *sample) {
	at := time.Unix(0, sm.at)
	users := []string{""}
	if sm.userID != "" && e.budgetNames(k.Project, sm.userID) {
		users = append(users, sm.userID)
	}
	for _, period := range []string{PeriodDay, PeriodMonth} {
		start := periodStart(at, period).UnixNano()
		for _, dim := range [][2]string{{"", ""}, {k.Service, ""}, {"", k.Model}, {k.Service, k.Model}} {
			for _, user := range users {
				e.spendOn(budgetKey{project: k.Project, period: period, start: start, service: dim[0], model: dim[1], user: user}, sm.cost)
			}
		}
	}
}

// budgetNames reports whether an enabled budget rule of the project is scoped to user.
func (e *Engine) budgetNames(project, user string) bool {
	for i := range e.rules[project] {
		if r := &e.rules[project][i]; r.Enabled && r.Type == store.RuleBudget && r.Scope.User == user {
			return true
		}
	}
	return false
}

func (e *Engine) spendOn(bk budgetKey, usd float64) {
	sp := e.budgets[bk]
	if sp == nil {
		sp = &spend{}
		e.budgets[bk] = sp
	}
	sp.pendingN++
	sp.pending += usd
	sp.dirty = true
}

// evaluateBudgets judges the project's budget rules against the current period's spend.
// A new period starts from zero, so the last period's alert resolves.
func (e *Engine) evaluateBudgets(project string, now time.Time, fx *effects) {
	for i := range e.rules[project] {
		r := &e.rules[project][i]
		if !r.Enabled || r.Type != store.RuleBudget {
			continue
		}
		start := periodStart(now, r.Period)
		var usd float64
		if sp := e.budgets[budgetKey{project: project, period: r.Period, start: start.UnixNano(), service: r.Scope.Service, model: r.Scope.Model, user: r.Scope.User}]; sp != nil {
			usd = sp.usd()
		}
		k := Key{Project: project, Service: r.Scope.Service, Model: r.Scope.Model}
		if usd <= r.Threshold {
			e.resolve(r, k, now, "auto", fx)
			continue
		}
		what := "today"
		if r.Period == PeriodMonth {
			what = "this month"
		}
		scope := ""
		if r.Scope.Service != "" {
			scope += " of service " + r.Scope.Service
		}
		if r.Scope.Model != "" {
			scope += " on model " + r.Scope.Model
		}
		if r.Scope.User != "" {
			scope += " by user " + r.Scope.User
		}
		e.fire(r, k, signal{
			known: true, degraded: true, metric: "spend_" + r.Period, observed: usd, threshold: r.Threshold,
			explanation: fmt.Sprintf("spend%s %s is $%.2f, over the %s budget of $%.2f", scope, what, usd, r.Period, r.Threshold),
		}, now, fx)
	}
}

// prune forgets spend of past periods, cooldowns older than a week and the write marks of
// alerts no longer open.
func (e *Engine) prune(now time.Time) {
	day, month := periodStart(now, PeriodDay).UnixNano(), periodStart(now, PeriodMonth).UnixNano()
	for bk := range e.budgets {
		if (bk.period == PeriodDay && bk.start < day) || (bk.period == PeriodMonth && bk.start < month) {
			delete(e.budgets, bk)
		}
	}
	for k, t := range e.resolved {
		if now.Sub(t) > 7*24*time.Hour {
			delete(e.resolved, k)
		}
	}
	if len(e.written) > len(e.open) {
		open := make(map[string]bool, len(e.open))
		for _, a := range e.open {
			open[a.ID] = true
		}
		for id := range e.written {
			if !open[id] {
				delete(e.written, id)
			}
		}
	}
}

// exchangeSpend adds this process's spend since the last exchange to the shared
// accumulators and learns their totals, which include every other process's spend: so a
// budget is judged against all the traffic, one tick (or two: the other process's and
// this one's) after the spend. The accumulators watched by budget rules are read even when
// this process spent nothing on them. A failed exchange keeps the spend for the next one.
func (e *Engine) exchangeSpend(ctx context.Context) {
	e.mu.Lock()
	now := e.now()
	for p, rules := range e.rules {
		for i := range rules {
			if r := &rules[i]; r.Enabled && r.Type == store.RuleBudget {
				bk := budgetKey{project: p, period: r.Period, start: periodStart(now, r.Period).UnixNano(), service: r.Scope.Service, model: r.Scope.Model, user: r.Scope.User}
				if e.budgets[bk] == nil {
					e.budgets[bk] = &spend{}
				}
			}
		}
	}
	var keys []budgetKey
	var ds []store.Spend
	for bk, sp := range e.budgets {
		if sp.pendingN == 0 && sp.pending == 0 && !e.watched(bk) {
			continue
		}
		keys = append(keys, bk)
		ds = append(ds, store.Spend{ProjectID: bk.project, Period: bk.period, Start: time.Unix(0, bk.start).UTC(),
			Service: bk.service, Model: bk.model, User: bk.user, Requests: sp.pendingN, USD: sp.pending})
	}
	e.mu.Unlock()
	if len(ds) == 0 {
		return
	}
	var totals []store.Spend
	var err error
	for i := 0; i < len(ds) && err == nil; i += snapshotChunk {
		var part []store.Spend
		part, err = e.store.AddSpend(ctx, ds[i:min(i+snapshotChunk, len(ds))])
		totals = append(totals, part...)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.log.Warn("add budget spend failed; retrying at the next tick", "accumulators", len(ds), "err", err)
	}
	for i, t := range totals { // the chunks stored before a failure count
		sp := e.budgets[keys[i]]
		if sp == nil {
			continue // pruned meanwhile: its period is over
		}
		sp.pending -= ds[i].USD
		sp.pendingN -= ds[i].Requests
		if sp.pendingN == 0 {
			sp.pending = 0 // no float residue
		}
		if t.USD != sp.total || t.Requests != sp.totalN {
			sp.total, sp.totalN, sp.dirty = t.USD, t.Requests, true
		}
	}
}

// watched reports whether an enabled budget rule judges the accumulator.
func (e *Engine) watched(bk budgetKey) bool {
	for i := range e.rules[bk.project] {
		r := &e.rules[bk.project][i]
		if r.Enabled && r.Type == store.RuleBudget && r.Period == bk.period && r.Scope.Service == bk.service &&
			r.Scope.Model == bk.model && r.Scope.User == bk.user {
			return true
		}
	}
	return false
}

// restoreSpend resumes a shared accumulator of the current period.
func (e *Engine) restoreSpend(sp store.Spend, now time.Time) {
	if !periodStart(now, sp.Period).Equal(sp.Start) {
		return
	}
	bk := budgetKey{project: sp.ProjectID, period: sp.Period, start: sp.Start.UnixNano(), service: sp.Service, model: sp.Model, user: sp.User}
	e.budgets[bk] = &spend{total: sp.USD, totalN: sp.Requests}
}
