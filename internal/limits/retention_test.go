package limits

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/use-lumina/lumina/internal/store"
)

// fakeRetainer records policies; block, when set, holds DeleteBefore until closed.
type fakeRetainer struct {
	mu       sync.Mutex
	policies []store.RetentionPolicy
	started  chan struct{}
	block    chan struct{}
}

func (f *fakeRetainer) DeleteBefore(ctx context.Context, p store.RetentionPolicy) (store.DeleteStats, error) {
	f.mu.Lock()
	f.policies = append(f.policies, p)
	f.mu.Unlock()
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.block != nil {
		<-f.block
	}
	return store.DeleteStats{Traces: 2, Spans: 7}, nil
}

func TestRetentionPolicy(t *testing.T) {
	now := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	cfg := RetentionConfig{Days: 7, Projects: map[string]int{"long": 30, "forever": 0}, At: 2 * time.Hour}
	p := cfg.Policy(now)
	if want := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC); !p.Cutoff.Equal(want) {
		t.Errorf("cutoff: got %s, want %s", p.Cutoff, want)
	}
	if want := time.Date(2026, 11, 3, 2, 0, 0, 0, time.UTC); !p.CutoffFor("long").Equal(want) {
		t.Errorf("cutoff of long: got %s, want %s", p.CutoffFor("long"), want)
	}
	if !p.CutoffFor("forever").IsZero() {
		t.Errorf("cutoff of forever: got %s, want zero (keep)", p.CutoffFor("forever"))
	}
	if _, ok := p.OldestCutoff(); ok {
		t.Errorf("OldestCutoff with a keep-forever project: got ok, want none")
	}
	if c := (RetentionConfig{}).Policy(now); !c.Cutoff.IsZero() {
		t.Errorf("0 days: got cutoff %s, want zero (keep)", c.Cutoff)
	}
	for _, tt := range []struct{ now, want time.Time }{
		{time.Date(2026, 12, 3, 1, 59, 59, 0, time.UTC), time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)},
		{time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC), time.Date(2026, 12, 4, 2, 0, 0, 0, time.UTC)},
		{time.Date(2026, 12, 3, 23, 0, 0, 0, time.FixedZone("CET", 3600)), time.Date(2026, 12, 4, 2, 0, 0, 0, time.UTC)},
	} {
		if got := cfg.NextRun(tt.now); !got.Equal(tt.want) {
			t.Errorf("NextRun(%s): got %s, want %s", tt.now, got, tt.want)
		}
	}
	if d, err := ParseTimeOfDay("02:30"); err != nil || d != 2*time.Hour+30*time.Minute {
		t.Errorf("ParseTimeOfDay(02:30): got %v, %v", d, err)
	}
	if _, err := ParseTimeOfDay("2am"); err == nil {
		t.Errorf("ParseTimeOfDay(2am): got nil, want an error")
	}
}

// TestRetentionRunsOnce checks the policy a run passes with an injected clock, and that of
// two runners sharing a lease only one runs while the other holds it.
func TestRetentionRunsOnce(t *testing.T) {
	now := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	clk := &clock{t: now}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	fake := &fakeRetainer{started: make(chan struct{}, 2), block: make(chan struct{})}
	lease := &LocalLease{}
	cfg := RetentionConfig{Days: 7, At: 2 * time.Hour, BatchSize: 500}
	a := NewRetention(cfg, fake, lease, clk.now, prometheus.NewRegistry(), logger)
	b := NewRetention(cfg, fake, lease, clk.now, prometheus.NewRegistry(), logger)

	type result struct {
		ran bool
		err error
	}
	first := make(chan result, 1)
	go func() {
		_, ran, err := a.RunOnce(context.Background())
		first <- result{ran, err}
	}()
	<-fake.started // a holds the lease and is deleting
	if _, ran, err := b.RunOnce(context.Background()); err != nil || ran {
		t.Errorf("second runner while the first runs: got ran=%v, err=%v, want skipped", ran, err)
	}
	close(fake.block)
	if r := <-first; r.err != nil || !r.ran {
		t.Fatalf("first runner: got ran=%v, err=%v, want it to run", r.ran, r.err)
	}
	if len(fake.policies) != 1 {
		t.Fatalf("got %d DeleteBefore calls, want 1", len(fake.policies))
	}
	if p := fake.policies[0]; !p.Cutoff.Equal(now.Add(-7*24*time.Hour)) || p.BatchSize != 500 {
		t.Errorf("policy: got %+v, want cutoff 7 days before %s, batch 500", p, now)
	}
	if got := value(t, a.runs.WithLabelValues("ok")); got != 1 {
		t.Errorf("runs{ok} of a: got %v, want 1", got)
	}
	if got := value(t, b.runs.WithLabelValues("skipped")); got != 1 {
		t.Errorf("runs{skipped} of b: got %v, want 1", got)
	}
	// Released: the other runner can run now.
	fake.block, fake.started = nil, nil
	if _, ran, err := b.RunOnce(context.Background()); err != nil || !ran {
		t.Errorf("second runner after the first finished: got ran=%v, err=%v, want it to run", ran, err)
	}
}

// TestRetentionRunSchedules starts Run with the clock just before the daily time: it runs
// at that time, then waits (for the next day) until its context ends.
func TestRetentionRunSchedules(t *testing.T) {
	at := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	clk := &clock{t: at.Add(-20 * time.Millisecond)}
	fake := &fakeRetainer{started: make(chan struct{}, 4)}
	r := NewRetention(RetentionConfig{Days: 7, At: 2 * time.Hour}, fake, &LocalLease{}, clk.now,
		prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	select {
	case <-fake.started:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not run retention at the scheduled time")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: got %v, want nil after its context ended", err)
	}
	if n := len(fake.started); n != 0 {
		t.Errorf("got %d more runs on the same day, want none", n)
	}
}
