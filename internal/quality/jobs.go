package quality

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// JobStore is what the Runner needs of the store (store.JudgeStore).
type JobStore interface {
	ClaimJudgeJobs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.JudgeJob, error)
	UpdateJudgeJob(ctx context.Context, j store.JudgeJob) error
	UpdateSpanQuality(ctx context.Context, projectID, traceID, spanID string, q genai.Quality) error
	JudgeSpend(ctx context.Context, projectID string, since time.Time) (float64, error)
	DeleteJudgeJobs(ctx context.Context, before time.Time) (int64, error)
}

// AppliedFunc is told each span quality a finished job wrote (the alert engine's
// UpdateQuality in cmd/lumina), so the rules see the tier-2 score.
type AppliedFunc func(ctx context.Context, job store.JudgeJob, q genai.Quality)

// RunnerConfig tunes the Runner. Zero values take the defaults.
type RunnerConfig struct {
	// Concurrency is how many jobs run at once in this process; default 4.
	Concurrency int
	// Lease is how long a claimed job is reserved for this process; a process that dies
	// holding it leaves the job to be claimed again after it. Default 5 minutes, longer
	// than one judge call with its provider retries.
	Lease time.Duration
	// Poll is how often the queue is checked when nothing woke the runner; default 2 s.
	Poll time.Duration
	// MaxAttempts bounds the tries of a job whose provider keeps failing transiently; then
	// the job is failed. Default 5.
	MaxAttempts int
	// Backoff is the wait after the first transient failure, doubling per attempt up to
	// 30 minutes; default 30 s.
	Backoff time.Duration
	// KeepFinished is how long finished jobs stay listed; default 7 days.
	KeepFinished time.Duration
	// Registerer receives the runner's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
}

func (c *RunnerConfig) defaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.Lease <= 0 {
		c.Lease = 5 * time.Minute
	}
	if c.Poll <= 0 {
		c.Poll = 2 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.Backoff <= 0 {
		c.Backoff = 30 * time.Second
	}
	if c.KeepFinished <= 0 {
		c.KeepFinished = 7 * 24 * time.Hour
	}
}

// Runner processes the durable tier-2 jobs: it claims due jobs from the store, asks the
// Judge, writes the outcome to the span (and tells AppliedFunc) and records the job's
// final state, its cost and its verdict. Transient failures are retried with backoff; a
// process that dies mid-job leaves it to be claimed again when its lease ends. Several
// runners (processes) may share one store. Run owns its goroutines.
type Runner struct {
	cfg     RunnerConfig
	judge   *Judge
	store   JobStore
	applied AppliedFunc
	log     *slog.Logger
	now     func() time.Time
	wake    chan struct{}
	jobs    *prometheus.CounterVec
	spent   prometheus.Counter
}

// NewRunner returns a Runner for judge, which must be configured.
func NewRunner(cfg RunnerConfig, judge *Judge, st JobStore, applied AppliedFunc, logger *slog.Logger, now func() time.Time) *Runner {
	cfg.defaults()
	r := &Runner{cfg: cfg, judge: judge, store: st, applied: applied, log: logger, now: now, wake: make(chan struct{}, 1),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lumina_judge_jobs_total",
			Help: "Tier-2 judge jobs this process finished or retried, by outcome."}, []string{"outcome"}),
		spent: prometheus.NewCounter(prometheus.CounterOpts{Name: "lumina_judge_cost_usd_total",
			Help: "USD this process spent on tier-2 judge calls."}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(r.jobs, r.spent)
	}
	return r
}

// Notify wakes the runner: new jobs were enqueued. It never blocks.
func (r *Runner) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run processes jobs until ctx ends, then waits for the jobs in flight, which put
// themselves back in the queue when ctx ended their call.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, r.cfg.Concurrency)
	tick := time.NewTicker(r.cfg.Poll)
	defer tick.Stop()
	var lastClean time.Time
	for {
		if now := r.now(); now.Sub(lastClean) > time.Hour {
			lastClean = now
			if _, err := r.store.DeleteJudgeJobs(ctx, now.Add(-r.cfg.KeepFinished)); err != nil && ctx.Err() == nil {
				r.log.Warn("judge: deleting old finished jobs failed", "err", err)
			}
		}
		free := r.cfg.Concurrency - len(slots)
		var claimed []store.JudgeJob
		if free > 0 {
			var err error
			claimed, err = r.store.ClaimJudgeJobs(ctx, r.now(), r.cfg.Lease, free)
			if err != nil && ctx.Err() == nil {
				r.log.Warn("judge: claiming jobs failed; retrying", "err", err)
			}
		}
		for _, j := range claimed {
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots; r.Notify() }()
				r.process(ctx, j)
			})
		}
		if len(claimed) > 0 && len(claimed) == free {
			continue // there may be more due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-tick.C:
		}
	}
}

// drain claims and processes due jobs one at a time until none is due; tests use it to
// step the queue deterministically.
func (r *Runner) drain(ctx context.Context) int {
	n := 0
	for {
		jobs, err := r.store.ClaimJudgeJobs(ctx, r.now(), r.cfg.Lease, 1)
		if err != nil || len(jobs) == 0 {
			return n
		}
		r.process(ctx, jobs[0])
		n++
	}
}

// process runs one claimed job to its next state.
func (r *Runner) process(ctx context.Context, j store.JudgeJob) {
	// Store writes finish even when ctx ends, so a job is never left claimed for nothing.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if limit := r.judge.limit(j.ProjectID); limit >= 0 {
		now := r.now().UTC()
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		spent, err := r.store.JudgeSpend(ctx, j.ProjectID, day)
		if err != nil {
			r.retry(wctx, ctx, j, fmt.Errorf("read the judge spend: %w", err))
			return
		}
		// The durable spend covers every process and survives restarts; the judge's own
		// reservations then bound the calls in flight.
		if spent >= limit {
			provider, model := r.judge.Model()
			r.finish(wctx, j, genai.Judgement{Status: genai.JudgeOverBudget, Trigger: j.Trigger, Provider: provider, Model: model,
				Reason: fmt.Sprintf("daily judge budget of $%.2f for project %s is spent ($%.4f today)", limit, j.ProjectID, spent), JudgedAt: r.now()})
			return
		}
	}
	verdict, err := r.judge.Evaluate(ctx, Job{ProjectID: j.ProjectID, Prompt: j.Prompt, References: j.References, Response: j.Response, Trigger: j.Trigger})
	if err != nil {
		if ctx.Err() != nil {
			// Shutting down: hand the job back untouched, due at once for the next start.
			j.Status, j.NextAttempt, j.UpdatedAt = store.JudgeJobPending, r.now(), r.now()
			r.update(wctx, j)
			return
		}
		j.Attempts++
		if j.Attempts >= r.cfg.MaxAttempts {
			verdict.Error = fmt.Sprintf("gave up after %d attempts: %v", j.Attempts, err)
			r.finish(wctx, j, verdict)
			return
		}
		r.retry(wctx, ctx, j, err)
		return
	}
	j.Attempts++
	r.finish(wctx, j, verdict)
}

// retry puts j back in the queue after a backoff that doubles per attempt.
func (r *Runner) retry(wctx, ctx context.Context, j store.JudgeJob, cause error) {
	if ctx.Err() != nil {
		j.NextAttempt = r.now()
	} else {
		wait := r.cfg.Backoff
		for i := 1; i < j.Attempts && wait < 30*time.Minute; i++ {
			wait *= 2
		}
		j.NextAttempt = r.now().Add(min(wait, 30*time.Minute))
	}
	j.Status, j.LastError, j.UpdatedAt = store.JudgeJobPending, cause.Error(), r.now()
	r.jobs.WithLabelValues("retried").Inc()
	r.update(wctx, j)
}

// finish records a final outcome: on the span first (the verdict is what users wait for),
// then on the job. A span that is gone (retention) only loses the write-back.
func (r *Runner) finish(ctx context.Context, j store.JudgeJob, v genai.Judgement) {
	switch v.Status {
	case genai.JudgeScored:
		j.Status = store.JudgeJobDone
	case genai.JudgeOverBudget:
		j.Status = store.JudgeJobSkippedBudget
	default:
		j.Status = store.JudgeJobFailed
	}
	q := j.Tier1
	Apply(&q, v)
	if err := r.store.UpdateSpanQuality(ctx, j.ProjectID, j.TraceID, j.SpanID, q); err != nil && !errors.Is(err, store.ErrNotFound) {
		r.retry(ctx, ctx, j, fmt.Errorf("write the verdict to the span: %w", err))
		return
	}
	if v.CostUSD != nil {
		j.CostUSD = *v.CostUSD
		r.spent.Add(*v.CostUSD)
	}
	j.Result, j.LastError = &v, v.Error
	j.NextAttempt, j.FinishedAt, j.UpdatedAt = time.Time{}, r.now(), r.now()
	r.jobs.WithLabelValues(j.Status).Inc()
	r.update(ctx, j)
	if r.applied != nil {
		r.applied(ctx, j, q)
	}
}

func (r *Runner) update(ctx context.Context, j store.JudgeJob) {
	if err := r.store.UpdateJudgeJob(ctx, j); err != nil {
		// The lease ends and the job is claimed again; the verdict is cached by content.
		r.log.Warn("judge: recording a job's state failed; it will be claimed again", "job", j.ID, "status", j.Status, "err", err)
	}
}
