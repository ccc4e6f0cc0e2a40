package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/use-lumina/lumina/internal/limits"
	"github.com/use-lumina/lumina/internal/otlp"
	"github.com/use-lumina/lumina/internal/store"
)

// retentionConfig is the retention job's configuration from the serve settings.
func retentionConfig(cfg *config) limits.RetentionConfig {
	rc := limits.RetentionConfig{Days: cfg.RetentionDays, At: cfg.retentionAt}
	if len(cfg.retentionDays) > 0 {
		rc.Projects = map[string]int{}
		for p, d := range cfg.retentionDays {
			rc.Projects[p] = int(d)
		}
	}
	return rc
}

// retentionSchedule says when the worker runs retention, for the dashboard.
func retentionSchedule(cfg *config) string {
	if cfg.RetentionTime == "off" {
		return "not scheduled (LUMINA_RETENTION_TIME=off): run lumina retention run"
	}
	return "deleted daily at " + cfg.RetentionTime + " UTC"
}

// jobLease is the lease periodic jobs run under: the PostgreSQL advisory lock when the
// store offers one, else the process itself (embedded SQLite has a single process).
func jobLease(st store.Store) limits.Lease {
	if l, ok := st.(limits.Lease); ok {
		return l
	}
	return &limits.LocalLease{}
}

// startRetention runs the daily retention job in the worker role, in whichever worker
// process holds the lease at the scheduled time.
func (a *app) startRetention(ctx context.Context) {
	if a.cfg.RetentionTime == "off" {
		a.log.Info("retention schedule off; run `lumina retention run` to delete expired traces")
		return
	}
	job := limits.NewRetention(retentionConfig(a.cfg), a.store, jobLease(a.store), time.Now, a.registry, a.log)
	jctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.jobsCancel = cancel
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := job.Run(jctx); err != nil {
			a.errs <- fmt.Errorf("retention: %w", err)
		}
	}()
}

// openQuota builds the daily trace quota for the ingest and api roles: counted in Redis
// when REDIS_URL is set, else in this process, journaled in the data directory when this
// process runs every role. Split roles without Redis count per ingest process (and the
// api role cannot see the counts).
func (a *app) openQuota() error {
	policy := limits.Policy{Default: a.cfg.DailyTraceLimit, Projects: a.cfg.traceLimits}
	var counter limits.Counter
	switch {
	case a.cfg.RedisURL != "":
		r, err := limits.NewRedis(a.cfg.RedisURL, a.cfg.RedisPrefix)
		if err != nil {
			return err
		}
		counter, a.quotaClose = r, r.Close
	case len(a.cfg.roles) == len(allRoles):
		m, err := limits.NewMemory(filepath.Join(a.cfg.DataDir, "quota"))
		if err != nil {
			return err
		}
		counter, a.quotaClose = m, m.Close
	case a.cfg.has(roleIngest):
		a.log.Warn("REDIS_URL is not set: each ingest process counts the daily trace limit on its own, in memory; set REDIS_URL for one exact count")
		m, err := limits.NewMemory("")
		if err != nil {
			return err
		}
		counter = m
	default:
		return nil // the api role alone: usage answers that it needs REDIS_URL
	}
	a.quota = limits.NewQuota(policy, counter, time.Now, a.registry, a.log)
	return nil
}

// admitFunc adapts the quota to the receiver's hook.
func admitFunc(q *limits.Quota) otlp.AdmitFunc {
	if q == nil {
		return nil
	}
	return func(ctx context.Context, project string, traceIDs []string) (otlp.Admission, error) {
		d, err := q.Admit(ctx, project, traceIDs)
		return otlp.Admission{Refused: d.Refused, Limit: d.Limit, Count: d.Count, Reset: d.Reset, Unknown: d.Unknown}, err
	}
}

// usageReader is the quota as the API's usage route reads it; nil when there is none.
func usageReader(q *limits.Quota) interface {
	Usage(context.Context, string) (limits.Usage, error)
} {
	if q == nil {
		return nil
	}
	return q
}

// retentionCommand is `lumina retention run [--vacuum] [serve flags]`: delete expired
// traces now, under the same lease as the worker's schedule.
func retentionCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprint(stderr, "Usage: lumina retention run [--vacuum] [serve flags]\n\n"+
			"Deletes the traces older than --retention-days (and --project-retention-days) now.\n"+
			"--vacuum (SQLite) then rewrites the file to give the freed space back and switches it\n"+
			"to incremental auto-vacuum, so later runs give space back as they go.\n")
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return nil
		}
		return errors.New("usage: lumina retention run [--vacuum] [flags]")
	}
	rest := args[1:]
	vacuum := slices.Contains(rest, "--vacuum")
	rest = slices.DeleteFunc(slices.Clone(rest), func(s string) bool { return s == "--vacuum" })
	cfg, err := parseConfig("retention run", rest, getenv, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	job := limits.NewRetention(retentionConfig(cfg), st, jobLease(st), time.Now, prometheus.NewRegistry(), logger)
	stats, ran, err := job.RunOnce(ctx)
	if err != nil {
		return err
	}
	if !ran {
		fmt.Fprintln(stdout, "retention skipped: another process is running it now")
		return nil
	}
	fmt.Fprintf(stdout, "deleted %d traces, %d spans, %d log records (%d partitions dropped, %d batches, %d bytes given back)\n",
		stats.Traces, stats.Spans, stats.Logs, stats.Partitions, stats.Batches, stats.ReclaimedBytes)
	if !vacuum {
		return nil
	}
	v, ok := st.(interface{ Vacuum(context.Context) error })
	if !ok {
		fmt.Fprintln(stdout, "--vacuum applies to SQLite only; PostgreSQL drops whole partitions and autovacuum reuses the rest")
		return nil
	}
	began := time.Now()
	if err := v.Vacuum(ctx); err != nil {
		return err
	}
	logger.Info("sqlite vacuumed", "took", time.Since(began).Round(time.Millisecond))
	fmt.Fprintf(stdout, "vacuumed in %s\n", time.Since(began).Round(time.Millisecond))
	return nil
}

// alertOwnerSlots bounds the worker processes whose alert engines share one database.
const alertOwnerSlots = 256

// alertOwner names this worker process among those sharing the store, for the alert
// engine's share of the baselines: it takes the first free slot "worker-<n>" under a
// PostgreSQL advisory lock held until release (on a connection of its own), so a restarted
// process resumes the share of the slot it takes and a key keeps at most one share per
// running process. Embedded SQLite has one worker process: no owner.
func alertOwner(ctx context.Context, st store.Store) (owner string, release func(), err error) {
	slots, ok := st.(interface {
		WorkerSlot(ctx context.Context, prefix string, n int) (int, func(), error)
	})
	if !ok {
		return "", func() {}, nil
	}
	n, release, err := slots.WorkerSlot(ctx, "alert-owner", alertOwnerSlots)
	if err != nil {
		return "", nil, fmt.Errorf("alert engine: %w", err)
	}
	return fmt.Sprintf("worker-%d", n), release, nil
}
