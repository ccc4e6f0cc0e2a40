package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// testAlertDedup checks that at most one alert per dedup key is open: a second engine's
// open becomes a repeat of the open alert, which keeps its own document.
func testAlertDedup(t *testing.T, s store.Store) {
	ctx := context.Background()
	first := sampleAlert(projectA, 1, store.RuleCostSpike, store.SeverityWarning, "svc", 0)
	if err := s.PutAlert(ctx, first); err != nil {
		t.Fatalf("PutAlert: %v", err)
	}
	second := sampleAlert(projectA, 2, store.RuleCostSpike, store.SeverityCritical, "svc", time.Minute)
	second.Explanation, second.Count = "opened by a second engine", 3
	got, err := s.RecordAlert(ctx, second, 3)
	if err != nil {
		t.Fatalf("RecordAlert(second open): %v", err)
	}
	want := first
	want.Count, want.LastSeenAt = 4, at(time.Minute)
	diff(t, "RecordAlert of an open dedup key returns the open alert", got, want)
	if _, err := s.Alert(ctx, projectA, second.ID); err == nil {
		t.Errorf("Alert(%s): the second open was stored as an alert of its own", second.ID)
	}
	// PutAlert of a new id on the open key is a repeat too, and an older count or
	// last-seen time never moves the stored ones back.
	third := sampleAlert(projectA, 3, store.RuleCostSpike, store.SeverityWarning, "svc", 30*time.Second)
	if err := s.PutAlert(ctx, third); err != nil {
		t.Fatalf("PutAlert(third open): %v", err)
	}
	stale := first // a user acknowledging from an old read
	stale.Status, stale.AcknowledgedAt = store.AlertAcknowledged, at(2*time.Minute)
	if err := s.PutAlert(ctx, stale); err != nil {
		t.Fatalf("PutAlert(stale ack): %v", err)
	}
	want.Count, want.Status, want.AcknowledgedAt = 5, store.AlertAcknowledged, at(2*time.Minute)
	got, _ = s.Alert(ctx, projectA, first.ID)
	diff(t, "Alert after a third open and a stale acknowledgement", got, want)
	// The same key in another project, and another key, open alerts of their own.
	for _, a := range []store.Alert{
		sampleAlert(projectB, 4, store.RuleCostSpike, store.SeverityWarning, "svc", 0),
		sampleAlert(projectA, 5, store.RuleCostSpike, store.SeverityWarning, "svc-other", 0),
	} {
		if got, err := s.RecordAlert(ctx, a, 1); err != nil || got.ID != a.ID {
			t.Errorf("RecordAlert(%s/%s): got id %q, %v; want its own alert", a.ProjectID, a.DedupKey, got.ID, err)
		}
	}

	// Once resolved, the key opens again with a new alert; repeats still counted on the
	// resolved one keep it resolved.
	resolved := want
	resolved.Status, resolved.ResolvedAt, resolved.ResolvedBy = store.AlertResolved, at(3*time.Minute), "auto"
	if _, err := s.RecordAlert(ctx, resolved, 0); err != nil {
		t.Fatalf("RecordAlert(resolve): %v", err)
	}
	late := first
	late.LastSeenAt = at(4 * time.Minute)
	got, err = s.RecordAlert(ctx, late, 2)
	if err != nil {
		t.Fatalf("RecordAlert(late repeat): %v", err)
	}
	if got.ID != first.ID || got.Status != store.AlertResolved || got.Count != 7 || !got.LastSeenAt.Equal(at(4*time.Minute)) {
		t.Errorf("a late repeat of the resolved alert: got %s %s count %d last seen %v, want %s resolved count 7 at %v",
			got.ID, got.Status, got.Count, got.LastSeenAt, first.ID, at(4*time.Minute))
	}
	again := sampleAlert(projectA, 6, store.RuleCostSpike, store.SeverityWarning, "svc", 5*time.Minute)
	if got, err := s.RecordAlert(ctx, again, 1); err != nil || got.ID != again.ID || got.Status != store.AlertFiring {
		t.Errorf("RecordAlert after the resolve: got %q %s, %v; want the new alert %q firing", got.ID, got.Status, err, again.ID)
	}
	open, err := s.OpenAlerts(ctx)
	if err != nil {
		t.Fatalf("OpenAlerts: %v", err)
	}
	if len(open) != 3 {
		t.Errorf("OpenAlerts: got %d, want 3 (one per project and key)", len(open))
	}
}

// testAlertOpenRace opens one dedup key from many goroutines at once, as engines in
// several processes do on one spike: one alert is stored, counting every open.
func testAlertOpenRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	const engines = 8
	for round := range 5 {
		key := fmt.Sprintf("rule|race-%d", round)
		ids := make([]string, engines)
		errs := make([]error, engines)
		var wg sync.WaitGroup
		for i := range engines {
			wg.Go(func() {
				a := sampleAlert(projectA, 100*round+i, store.RuleCostSpike, store.SeverityWarning, "svc", time.Duration(i)*time.Second)
				a.DedupKey = key
				got, err := s.RecordAlert(ctx, a, 1)
				ids[i], errs[i] = got.ID, err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, engine %d: %v", round, i, err)
			}
			if ids[i] != ids[0] {
				t.Fatalf("round %d: engines got alerts %v, want one", round, ids)
			}
		}
		got, err := s.Alert(ctx, projectA, ids[0])
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if got.Count != engines {
			t.Errorf("round %d: got count %d, want %d", round, got.Count, engines)
		}
	}
	open, err := s.OpenAlerts(ctx)
	if err != nil {
		t.Fatalf("OpenAlerts: %v", err)
	}
	if len(open) != 5 {
		t.Errorf("OpenAlerts: got %d, want 5", len(open))
	}
}

// testAlertSpend adds spend from several goroutines, as worker processes do: every
// addition counts, the totals come back in order, and Spends lists current periods.
func testAlertSpend(t *testing.T, s store.Store) {
	ctx := context.Background()
	day, yesterday := at(0).Truncate(24*time.Hour), at(0).Truncate(24*time.Hour).Add(-24*time.Hour)
	total := store.Spend{ProjectID: projectA, Period: "day", Start: day}
	svc := store.Spend{ProjectID: projectA, Period: "day", Start: day, Service: "svc", Model: "gpt-4o", User: "u1"}
	old := store.Spend{ProjectID: projectA, Period: "day", Start: yesterday, Requests: 1, USD: 9}
	if _, err := s.AddSpend(ctx, []store.Spend{old}); err != nil {
		t.Fatalf("AddSpend(yesterday): %v", err)
	}
	const workers, adds = 6, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*adds)
	for range workers {
		wg.Go(func() {
			for range adds {
				a, b := svc, total // each in its own order
				a.Requests, a.USD, b.Requests, b.USD = 1, 0.5, 1, 0.25
				if _, err := s.AddSpend(ctx, []store.Spend{a, b}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("AddSpend: %v", err)
	}
	got, err := s.AddSpend(ctx, []store.Spend{svc, total}) // zero deltas read the totals
	if err != nil {
		t.Fatalf("AddSpend(read): %v", err)
	}
	wantSvc, wantTotal := svc, total
	wantSvc.Requests, wantSvc.USD = workers*adds, workers*adds*0.5
	wantTotal.Requests, wantTotal.USD = workers*adds, workers*adds*0.25
	diff(t, "AddSpend totals", got, []store.Spend{wantSvc, wantTotal})
	list, err := s.Spends(ctx, day)
	if err != nil {
		t.Fatalf("Spends: %v", err)
	}
	diff(t, "Spends since today", list, []store.Spend{wantTotal, wantSvc})
	if list, _ := s.Spends(ctx, yesterday); len(list) != 3 {
		t.Errorf("Spends since yesterday: got %d, want 3", len(list))
	}
}

// testBaselineParts stores two owners' shares of one baseline, replaces one, and lists
// the parts updated since a time, by key then owner.
func testBaselineParts(t *testing.T, s store.Store) {
	ctx := context.Background()
	part := func(owner, endpoint string, updated time.Duration, state string) store.BaselinePart {
		return store.BaselinePart{Owner: owner, ProjectID: projectA, Service: "svc", Endpoint: endpoint, Model: "gpt-4o",
			Metric: "cost_usd", Arrived: at(updated - time.Second), UpdatedAt: at(updated), State: []byte(state)}
	}
	w1, w0, old := part("worker-1", "chat", time.Minute, "one"), part("worker-0", "chat", time.Minute, "zero"), part("worker-0", "embed", 0, "old")
	if err := s.PutBaselineParts(ctx, []store.BaselinePart{w1, old, w0}); err != nil {
		t.Fatalf("PutBaselineParts: %v", err)
	}
	w1 = part("worker-1", "chat", 2*time.Minute, "one, later")
	if err := s.PutBaselineParts(ctx, []store.BaselinePart{w1}); err != nil {
		t.Fatalf("PutBaselineParts(replace): %v", err)
	}
	got, err := s.BaselineParts(ctx, at(time.Minute))
	if err != nil {
		t.Fatalf("BaselineParts: %v", err)
	}
	diff(t, "BaselineParts since a minute", got, []store.BaselinePart{w0, w1})
	if all, _ := s.BaselineParts(ctx, time.Time{}); len(all) != 3 {
		t.Errorf("BaselineParts(all): got %d, want 3", len(all))
	}
}
