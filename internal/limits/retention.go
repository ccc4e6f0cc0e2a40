package limits

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/use-lumina/lumina/internal/store"
)

// RetentionJob is the lease name of the retention job.
const RetentionJob = "retention"

// RetentionConfig says how long traces are kept and when the job runs.
type RetentionConfig struct {
	// Days is how long traces of projects not in Projects are kept; 0 keeps them forever.
	Days int
	// Projects overrides Days per project; 0 keeps that project's traces forever.
	Projects map[string]int
	// At is the time of day, UTC, of the daily run (2h for 02:00).
	At time.Duration
	// BatchSize bounds each delete transaction (store.RetentionPolicy.BatchSize).
	BatchSize int
}

// DaysFor is how many days project's traces are kept; 0 means forever.
func (c RetentionConfig) DaysFor(project string) int {
	if d, ok := c.Projects[project]; ok {
		return d
	}
	return c.Days
}

// Policy is the store policy for a run at now: cutoffs Days (or the project's days) before.
func (c RetentionConfig) Policy(now time.Time) store.RetentionPolicy {
	cutoff := func(days int) time.Time {
		if days <= 0 {
			return time.Time{}
		}
		return now.UTC().Add(-time.Duration(days) * 24 * time.Hour)
	}
	p := store.RetentionPolicy{Cutoff: cutoff(c.Days), BatchSize: c.BatchSize}
	if len(c.Projects) > 0 {
		p.Projects = map[string]time.Time{}
		for project, days := range c.Projects {
			p.Projects[project] = cutoff(days)
		}
	}
	return p
}

// NextRun is the first daily run time strictly after now.
func (c RetentionConfig) NextRun(now time.Time) time.Time {
	next := Day(now).Add(c.At)
	if !next.After(now) {
		next = next.Add(24 * time.Hour)
	}
	return next
}

// ParseTimeOfDay reads "HH:MM" (UTC) as a duration since midnight.
func ParseTimeOfDay(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("time of day %q: want HH:MM (UTC), e.g. 02:00", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Retention deletes expired traces once a day, in whichever process holds the lease.
type Retention struct {
	cfg   RetentionConfig
	store store.Retainer
	lease Lease
	now   func() time.Time
	log   *slog.Logger

	runs    *prometheus.CounterVec
	deleted *prometheus.CounterVec
	last    prometheus.Gauge
}

// NewRetention returns the job; now is the clock and reg receives its metrics.
func NewRetention(cfg RetentionConfig, st store.Retainer, lease Lease, now func() time.Time, reg prometheus.Registerer, logger *slog.Logger) *Retention {
	r := &Retention{cfg: cfg, store: st, lease: lease, now: now, log: logger,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lumina_retention_runs_total", Help: "Retention runs by outcome: ok, failed, or skipped (another process held the lease).",
		}, []string{"outcome"}),
		deleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lumina_retention_deleted_total", Help: "Rows removed by retention: traces, spans, logs, partitions.",
		}, []string{"kind"}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lumina_retention_last_success_timestamp_seconds", Help: "When retention last completed in this process.",
		}),
	}
	reg.MustRegister(r.runs, r.deleted, r.last)
	return r
}

// RunOnce runs the job now if no other process is running it: ran is false when the lease
// is held elsewhere.
func (r *Retention) RunOnce(ctx context.Context) (st store.DeleteStats, ran bool, err error) {
	release, ok, err := r.lease.TryLock(ctx, RetentionJob)
	if err != nil {
		r.runs.WithLabelValues("failed").Inc()
		return st, false, fmt.Errorf("retention: %w", err)
	}
	if !ok {
		r.runs.WithLabelValues("skipped").Inc()
		r.log.Info("retention skipped: another process is running it")
		return st, false, nil
	}
	defer release()
	now := r.now()
	policy := r.cfg.Policy(now)
	began := time.Now()
	st, err = r.store.DeleteBefore(ctx, policy)
	r.deleted.WithLabelValues("traces").Add(float64(st.Traces))
	r.deleted.WithLabelValues("spans").Add(float64(st.Spans))
	r.deleted.WithLabelValues("logs").Add(float64(st.Logs))
	r.deleted.WithLabelValues("partitions").Add(float64(st.Partitions))
	attrs := []any{"cutoff", policy.Cutoff.Format(time.RFC3339), "overrides", len(policy.Projects),
		"traces", st.Traces, "spans", st.Spans, "logs", st.Logs, "partitions", st.Partitions,
		"batches", st.Batches, "reclaimed_bytes", st.ReclaimedBytes, "took", time.Since(began).Round(time.Millisecond)}
	if err != nil {
		r.runs.WithLabelValues("failed").Inc()
		return st, true, fmt.Errorf("retention: %w", err)
	}
	r.runs.WithLabelValues("ok").Inc()
	r.last.Set(float64(r.now().Unix()))
	r.log.Info("retention done", attrs...)
	return st, true, nil
}

// Run runs the job every day at the configured time until ctx ends. A failed run is logged
// and tried again at the next day's time (or sooner by `lumina retention run`).
func (r *Retention) Run(ctx context.Context) error {
	var last time.Time
	for {
		// After last, so a timer that fires a little early never runs a day twice.
		from := r.now()
		if from.Before(last) {
			from = last
		}
		next := r.cfg.NextRun(from)
		last = next
		timer := time.NewTimer(next.Sub(r.now()))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
		if _, _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("retention failed; next attempt at the next scheduled time", "err", err)
		}
	}
}
