package alert

import (
	"context"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// TestMergeDistsWeighsReservoirs merges a share of 1,000 requests around 0.5 with one of
// 3,000 around 1.5: counts and sums add exactly, and the median lands where the union's
// is (1.33), not where an unweighted merge of two equal reservoirs would put it (1.0).
func TestMergeDistsWeighsReservoirs(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	window := 7 * 24 * time.Hour
	at := t0.UnixNano()
	a, b := newDist(window), newDist(window)
	for i := range 1000 {
		a.add(at, float64(i)/1000, rng)
	}
	for i := range 3000 {
		b.add(at, 1+float64(i)/3000, rng)
	}
	m := mergeDists([]*dist{a, b}, a.Width, rng)
	st := m.summary(at)
	if st.Count != 4000 || st.Sum != a.summary(at).Sum+b.summary(at).Sum {
		t.Errorf("merged count %d sum %v, want 4000 and the sum of both", st.Count, st.Sum)
	}
	if len(m.Buckets) != 1 || len(m.Buckets[0].Res) != reservoirSize {
		t.Fatalf("merged buckets %d, reservoir %d; want 1 bucket of %d values", len(m.Buckets), len(m.Buckets[0].Res), reservoirSize)
	}
	if st.P50 < 1.18 || st.P50 > 1.5 {
		t.Errorf("merged p50 %v, want about 1.33", st.P50)
	}
	// Judged as a peer, the merge counts with the engine's own share.
	own := newDist(window)
	own.add(at, 1, rng)
	own.setPeer(m)
	if got := own.summary(at).Count; got != 4001 {
		t.Errorf("own share with the peer: count %d, want 4001", got)
	}
}

// sharedEngines starts two engines with owners on st, as two worker processes.
func sharedEngines(t *testing.T, st sharedStore, c *clock, rules ...store.AlertRule) [2]*Engine {
	t.Helper()
	es := twoEngines(t, st, c, rules...)
	for i := range es {
		es[i] = New(Config{Owner: []string{"worker-0", "worker-1"}[i]}, st, c.now, nil, nil)
		if err := es[i].Load(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return es
}

// TestSharedBaselines has two worker processes each see 12 requests of a key whose rule
// needs a baseline of 20: neither could judge on its own share, the merged baseline can,
// and the stored baseline shows all 24. A restarted process resumes its own share.
func TestSharedBaselines(t *testing.T) {
	for _, b := range sharedBackends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			c := &clock{t: t0}
			es := sharedEngines(t, st, c, costRule(1))
			gen := &harness{t: t, clock: c}
			ctx := context.Background()
			for _, e := range es {
				var bt store.Batch
				for range 12 {
					bt.Spans = append(bt.Spans, gen.span(call{cost: 1}))
				}
				e.Observe(ctx, bt)
			}
			es[0].Observe(ctx, store.Batch{Spans: []genai.Span{gen.span(call{cost: 5})}})
			if got := alertsOf(t, st, store.RuleCostSpike); len(got) != 0 {
				t.Fatalf("before the shares are merged: got %d alerts, want 0 (12 samples < 20)", len(got))
			}
			c.add(time.Minute) // snapshots and refreshes are due
			for _, e := range es {
				e.Tick(ctx)
			}
			for _, e := range es {
				e.Tick(ctx) // the second reads the share the other wrote after its own refresh
			}
			es[1].Observe(ctx, store.Batch{Spans: []genai.Span{gen.span(call{cost: 5})}})
			got := alertsOf(t, st, store.RuleCostSpike)
			if len(got) != 1 || got[0].Baseline <= 1 || got[0].Baseline > 1.2 {
				t.Fatalf("after the merge: got %+v, want one alert against the shared baseline (25 samples near $1)", got)
			}
			c.add(time.Minute)
			es[1].snapshot(ctx, true)
			bs, err := st.Baselines(ctx, "p")
			if err != nil {
				t.Fatal(err)
			}
			var cost *store.Baseline
			for i := range bs {
				if bs[i].Metric == MetricCost {
					cost = &bs[i]
				}
			}
			if cost == nil || cost.Count != 26 {
				t.Errorf("stored cost baseline: got %+v, want 26 samples (both shares)", cost)
			}
			// worker-0 restarts: its own share (13) comes back, worker-1's (13) merged in.
			e := New(Config{Owner: "worker-0"}, st, c.now, nil, nil)
			if err := e.Load(ctx); err != nil {
				t.Fatal(err)
			}
			ks := e.keys[Key{Project: "p", Service: "chat-svc", Endpoint: "chat gpt-4o", Model: "gpt-4o"}]
			if ks == nil || ks.dists[MetricCost] == nil {
				t.Fatal("restarted worker-0 has no cost baseline")
			}
			d := ks.dists[MetricCost]
			var own int64
			for _, b := range d.Buckets {
				own += b.N
			}
			if total := d.summary(c.now().UnixNano()).Count; own != 13 || total != 26 {
				t.Errorf("restarted worker-0: own %d, with the peer %d; want 13 and 26", own, total)
			}
		})
	}
}

// TestSharedNoData has two worker processes see one key; then only one keeps receiving
// it. The other must not call the key silent; once both stop, one no_data alert opens.
func TestSharedNoData(t *testing.T) {
	for _, b := range sharedBackends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			c := &clock{t: t0}
			es := sharedEngines(t, st, c, store.AlertRule{Type: store.RuleNoData, WindowDuration: 10 * time.Minute, MinSamples: 5})
			gen := &harness{t: t, clock: c}
			ctx := context.Background()
			send := func(e *Engine) {
				e.Observe(ctx, store.Batch{Spans: []genai.Span{gen.span(call{cost: 1})}})
			}
			for range 5 {
				for _, e := range es {
					send(e)
				}
			}
			for minute := range 20 { // only worker-1 receives the key now
				c.add(time.Minute)
				send(es[1])
				for _, e := range es {
					e.Tick(ctx)
				}
				if got := alertsOf(t, st, store.RuleNoData); len(got) != 0 {
					t.Fatalf("minute %d: got %+v, want no alert while worker-1 receives the key", minute, got[0])
				}
			}
			for range 12 { // silence everywhere
				c.add(time.Minute)
				for _, e := range es {
					e.Tick(ctx)
				}
			}
			got := alertsOf(t, st, store.RuleNoData)
			if len(got) != 1 || got[0].Status != store.AlertFiring {
				t.Fatalf("after 12 silent minutes: got %+v, want one firing no_data alert", got)
			}
		})
	}
}
