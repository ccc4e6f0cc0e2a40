package alert

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/store/postgres"
	"github.com/use-lumina/lumina/internal/store/postgres/pgtest"
	"github.com/use-lumina/lumina/internal/store/sqlite"
)

// sharedStore is a store several engines share, as worker processes share PostgreSQL.
type sharedStore interface {
	Store
	Alerts(ctx context.Context, q store.AlertQuery) (store.AlertPage, error)
	PutChannel(ctx context.Context, c store.Channel) error
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error)
}

// sharedBackends are the stores the multi-engine tests run on: PostgreSQL (what several
// worker processes share; skipped without LUMINA_TEST_POSTGRES_URL unless
// LUMINA_TEST_REQUIRE_SERVICES=1), SQLite and the fake.
var sharedBackends = []struct {
	name string
	open func(t *testing.T) sharedStore
}{
	{"postgres", openPostgres},
	{"sqlite", func(t *testing.T) sharedStore {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lumina.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}},
	{"fake", func(*testing.T) sharedStore { return newFakeStore() }},
}

// openPostgres opens a store in a schema of the test's own on the test server.
func openPostgres(t *testing.T) sharedStore {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.Schema(t, "lumina_alert_", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// twoEngines starts two engines on st, as two worker processes, with the project's rules
// and a webhook channel stored first.
func twoEngines(t *testing.T, st sharedStore, c *clock, rules ...store.AlertRule) [2]*Engine {
	t.Helper()
	ctx := context.Background()
	for _, r := range rules {
		r.ProjectID, r.Enabled = "p", true
		if r.ID == "" {
			r.ID = r.Type
		}
		if err := ValidateRule(&r); err != nil {
			t.Fatalf("rule %+v: %v", r, err)
		}
		if err := st.PutAlertRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutChannel(ctx, store.Channel{ID: "hook", ProjectID: "p", Type: store.ChannelWebhook, URL: "http://example.invalid", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	var es [2]*Engine
	for i := range es {
		es[i] = New(Config{}, st, c.now, nil, nil)
		if err := es[i].Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return es
}

func alertsOf(t *testing.T, st sharedStore, typ string) []store.Alert {
	t.Helper()
	page, err := st.Alerts(context.Background(), store.AlertQuery{ProjectID: "p", Type: typ, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return page.Alerts
}

func deliveries(t *testing.T, st sharedStore, now time.Time) map[string]int {
	t.Helper()
	ds, err := st.DueDeliveries(context.Background(), now.Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, d := range ds {
		out[d.Event]++
	}
	return out
}

// TestTwoEnginesOneSpike has two engines (two worker processes) observe halves of one
// cost spike at the same time: the store keeps one open alert counting every degraded
// request, one trigger goes out, both engines name the stored alert, and resolving it
// from both sends one resolve.
func TestTwoEnginesOneSpike(t *testing.T) {
	for _, b := range sharedBackends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			c := &clock{t: t0}
			es := twoEngines(t, st, c, costRule(10))
			gen := &harness{t: t, clock: c}
			ctx := context.Background()
			for _, e := range es { // each process learns the same baseline from its share
				var base store.Batch
				for range 20 {
					base.Spans = append(base.Spans, gen.span(call{cost: 1}))
				}
				e.Observe(ctx, base)
			}
			c.add(time.Second)
			var halves [2][]store.Batch
			for i := range 10 {
				halves[i%2] = append(halves[i%2], store.Batch{Spans: []genai.Span{gen.span(call{cost: 5})}})
			}
			var wg sync.WaitGroup
			for i, e := range es {
				wg.Go(func() {
					for _, bt := range halves[i] {
						e.Observe(ctx, bt)
					}
				})
			}
			wg.Wait()
			got := alertsOf(t, st, store.RuleCostSpike)
			if len(got) != 1 || got[0].Status != store.AlertFiring || got[0].Count != 10 {
				t.Fatalf("got %d cost alerts %+v, want one firing with count 10", len(got), got)
			}
			if d := deliveries(t, st, c.now()); d[store.EventTrigger] != 1 {
				t.Errorf("deliveries: got %v, want one trigger", d)
			}
			for i, e := range es {
				e.mu.Lock()
				var ids []string
				for _, a := range e.open {
					ids = append(ids, a.ID)
				}
				e.mu.Unlock()
				if len(ids) != 1 || ids[0] != got[0].ID {
					t.Errorf("engine %d: open alerts %v, want the stored %s", i, ids, got[0].ID)
				}
			}
			// Normal traffic on both: each engine counts 7 more degraded requests while the
			// spikes leave its window of 10 (the baseline, now $1.80, falls back with them),
			// then resolves the one alert; one resolve goes out.
			for _, e := range es {
				var calm store.Batch
				for range 10 {
					calm.Spans = append(calm.Spans, gen.span(call{cost: 1}))
				}
				e.Observe(ctx, calm)
			}
			got = alertsOf(t, st, store.RuleCostSpike)
			if len(got) != 1 || got[0].Status != store.AlertResolved || got[0].Count != 10+2*7 {
				t.Fatalf("after calm traffic: got %+v, want the one alert resolved with count 24", got)
			}
			if d := deliveries(t, st, c.now()); d[store.EventTrigger] != 1 || d[store.EventResolve] != 1 {
				t.Errorf("deliveries: got %v, want one trigger and one resolve", d)
			}
		})
	}
}

// TestTwoEnginesShareABudget has two engines each see $60 of a $100 daily budget:
// neither is over on its own, the shared total is, and one budget alert opens.
func TestTwoEnginesShareABudget(t *testing.T) {
	for _, b := range sharedBackends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			c := &clock{t: t0}
			es := twoEngines(t, st, c, store.AlertRule{Type: store.RuleBudget, Threshold: 100, Period: PeriodDay})
			gen := &harness{t: t, clock: c}
			ctx := context.Background()
			for _, e := range es {
				var bt store.Batch
				for range 6 {
					bt.Spans = append(bt.Spans, gen.span(call{cost: 10}))
				}
				e.Observe(ctx, bt)
			}
			if got := alertsOf(t, st, store.RuleBudget); len(got) != 0 {
				t.Fatalf("before the engines share their spend: got %d budget alerts, want 0", len(got))
			}
			for round := range 2 { // the first tick of A adds $60, B's adds $60 and sees $120
				for _, e := range es {
					c.add(5 * time.Second)
					e.Tick(ctx)
				}
				if round == 0 {
					if got := alertsOf(t, st, store.RuleBudget); len(got) != 1 || got[0].Observed != 120 {
						t.Fatalf("after one tick each: got %+v, want one alert at $120", got)
					}
				}
			}
			got := alertsOf(t, st, store.RuleBudget)
			if len(got) != 1 || got[0].Status != store.AlertFiring {
				t.Fatalf("got %+v, want one firing budget alert", got)
			}
			if d := deliveries(t, st, c.now()); d[store.EventTrigger] != 1 {
				t.Errorf("deliveries: got %v, want one trigger", d)
			}
			for i, e := range es {
				e.mu.Lock()
				sp := e.budgets[budgetKey{project: "p", period: PeriodDay, start: periodStart(c.now(), PeriodDay).UnixNano()}]
				e.mu.Unlock()
				if sp == nil || sp.usd() != 120 || sp.n() != 12 {
					t.Errorf("engine %d: spend %+v, want $120 over 12 requests", i, sp)
				}
			}
			// A third process starting now resumes the shared total.
			e := New(Config{}, st, c.now, nil, nil)
			if err := e.Load(ctx); err != nil {
				t.Fatal(err)
			}
			if sp := e.budgets[budgetKey{project: "p", period: PeriodDay, start: periodStart(c.now(), PeriodDay).UnixNano()}]; sp == nil || sp.usd() != 120 {
				t.Errorf("a new engine: spend %+v, want $120", sp)
			}
			// The next day starts from zero: the alert resolves.
			c.add(24 * time.Hour)
			for _, e := range es {
				e.Tick(ctx)
			}
			if got := alertsOf(t, st, store.RuleBudget); len(got) != 1 || got[0].Status != store.AlertResolved {
				t.Errorf("the next day: got %+v, want the alert resolved", got)
			}
		})
	}
}

// TestJoiningEngineKeepsOpenAlerts starts a second engine (a worker process joining, or
// restarting) while a spike's alert is open: with nothing in its window yet it cannot
// tell the key is quiet, so its ticks leave the alert open until a whole window has passed.
func TestJoiningEngineKeepsOpenAlerts(t *testing.T) {
	st := newFakeStore()
	c := &clock{t: t0}
	es := twoEngines(t, st, c, costRule(10))
	gen := &harness{t: t, clock: c}
	ctx := context.Background()
	var bt store.Batch
	for range 20 {
		bt.Spans = append(bt.Spans, gen.span(call{cost: 1}))
	}
	es[0].Observe(ctx, bt)
	es[0].Observe(ctx, store.Batch{Spans: []genai.Span{gen.span(call{cost: 5})}})
	joined := New(Config{}, st, c.now, nil, nil)
	if err := joined.Load(ctx); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		c.add(time.Minute)
		joined.Tick(ctx)
	}
	if got := alertsOf(t, st, store.RuleCostSpike); len(got) != 1 || got[0].Status != store.AlertFiring {
		t.Fatalf("10 minutes after a process joined: got %+v, want the alert still firing", got)
	}
	c.add(6 * time.Minute)
	joined.Tick(ctx)
	if got := alertsOf(t, st, store.RuleCostSpike); len(got) != 1 || got[0].Status != store.AlertResolved {
		t.Fatalf("after a whole quiet window: got %+v, want the alert resolved", got)
	}
}
