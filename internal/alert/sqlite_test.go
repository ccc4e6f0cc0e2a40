package alert

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/store/sqlite"
)

// TestRestartResumesFromSQLite runs the engine on the real embedded store: baselines
// written by one engine are read back by the next, whose first spike fires, is stored, and
// is queued for the project's channel.
func TestRestartResumesFromSQLite(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lumina.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PutChannel(ctx, store.Channel{ID: "hook", ProjectID: "p", Type: store.ChannelWebhook, URL: "http://example.invalid", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: t0}
	h := &harness{t: t, clock: c, e: New(Config{}, db, c.now, nil, nil)}
	if err := h.e.Load(ctx); err != nil {
		t.Fatal(err)
	}
	h.observe(repeat(20, call{cost: 1})...) // creates the default rules and the baselines
	h.e.snapshot(ctx, true)

	h.e = New(Config{}, db, c.now, nil, nil)
	if err := h.e.Load(ctx); err != nil {
		t.Fatal(err)
	}
	spike := h.observe(call{cost: 5})
	page, err := db.Alerts(ctx, store.AlertQuery{ProjectID: "p", Status: store.AlertFiring})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Alerts) != 1 || page.Alerts[0].Type != store.RuleCostSpike || page.Alerts[0].TraceID != spike.Spans[0].TraceID {
		t.Fatalf("after a restart: got alerts %+v, want one cost spike on the spiking trace", page.Alerts)
	}
	ds, err := db.DueDeliveries(ctx, c.now().Add(time.Second), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].AlertID != page.Alerts[0].ID || ds[0].ChannelID != "hook" {
		t.Fatalf("outbox: got %+v, want the trigger for the hook", ds)
	}
	bs, err := db.Baselines(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	var cost *store.Baseline
	for i := range bs {
		if bs[i].Metric == MetricCost {
			cost = &bs[i]
		}
	}
	if cost == nil || cost.Count != 20 || cost.Mean != 1 || cost.Endpoint != "chat gpt-4o" || cost.Model != "gpt-4o" {
		t.Errorf("stored cost baseline: got %+v, want 20 samples at $1 on chat gpt-4o", cost)
	}
}

func TestKeysAreBounded(t *testing.T) {
	st := newFakeStore()
	c := &clock{t: t0}
	h := &harness{t: t, store: st, clock: c, e: New(Config{MaxKeys: 2}, st, c.now, nil, nil)}
	for _, m := range []string{"a", "b", "c"} {
		h.observe(call{cost: 1, model: m})
	}
	if len(h.e.keys) != 2 || h.e.lru.Len() != 2 {
		t.Fatalf("got %d keys (%d in the LRU), want 2", len(h.e.keys), h.e.lru.Len())
	}
	for k := range h.e.keys {
		if k.Model == "a" {
			t.Errorf("the least recently seen key %v was kept", k)
		}
	}
}
