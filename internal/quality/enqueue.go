package quality

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// EnqueueStore is what the Enqueuer needs of the store.
type EnqueueStore interface {
	EnqueueJudgeJobs(ctx context.Context, jobs []store.JudgeJob) ([]store.JudgeJob, error)
	UpdateSpanQuality(ctx context.Context, projectID, traceID, spanID string, q genai.Quality) error
	// Trace loads a reference response's span (store.TraceReader).
	Trace(ctx context.Context, projectID, traceID string) (store.TraceDetail, error)
}

// EnqueuerConfig wires an Enqueuer. Only Judge and Store are required.
type EnqueuerConfig struct {
	Judge *Judge
	Store EnqueueStore
	// CostSpike reports whether a committed span tripped a cost-spike rule (the alert
	// engine's CostSpike); nil means never.
	CostSpike func(s *genai.Span) bool
	// Join attaches GenAI log records to their spans (genai.AttachLogs), so a reference
	// whose content came as log events has its text.
	Join func(spans []genai.Span, logs []genai.LogRecord)
	// Notify is called after jobs were enqueued (Runner.Notify).
	Notify func()
	Logger *slog.Logger
	Now    func() time.Time
}

// Enqueuer decides, after a batch is committed, which LLM spans tier 2 should judge and
// stores a durable job for each (a worker post-commit hook). It is safe for concurrent use.
type Enqueuer struct{ cfg EnqueuerConfig }

// NewEnqueuer returns an Enqueuer.
func NewEnqueuer(cfg EnqueuerConfig) *Enqueuer { return &Enqueuer{cfg: cfg} }

// JudgeJobID is the id of the judge job of one span: one job per span, whatever triggered it.
func JudgeJobID(projectID, traceID, spanID string) string {
	h := sha256.Sum256([]byte(projectID + "\x00" + traceID + "\x00" + spanID))
	return hex.EncodeToString(h[:16])
}

// Observe enqueues the judge jobs of a committed batch. A span whose job already ran with
// the same content (a redelivered batch rewrote it with its tier-1 score) gets the stored
// verdict again instead of a second call. Failures are logged: the batch stays committed
// and its spans keep their tier-1 scores.
func (e *Enqueuer) Observe(ctx context.Context, b store.Batch) {
	if e.cfg.Judge == nil || !e.cfg.Judge.Configured() {
		return
	}
	now := e.cfg.Now()
	var jobs []store.JudgeJob
	traces := map[string]*store.TraceDetail{} // reference traces read for this batch
	for i := range b.Spans {
		s := &b.Spans[i]
		if s.GenAI == nil || s.GenAI.Type != genai.TypeLLM || s.GenAI.Quality == nil {
			continue
		}
		spike := e.cfg.CostSpike != nil && e.cfg.CostSpike(s)
		trigger := e.cfg.Judge.ShouldJudge(s.GenAI.Quality, spike, s.TraceID+"/"+s.SpanID)
		if trigger == "" {
			continue
		}
		var refs []string
		if ref := e.reference(ctx, s.ProjectID, s.GenAI.Quality.ReferenceID, traces); ref != "" {
			refs = []string{ref}
		}
		job := JobFor(s.ProjectID, s.GenAI, refs, trigger)
		job.Prompt, job.Response = clip(job.Prompt), clip(job.Response)
		for k := range job.References {
			job.References[k] = clip(job.References[k])
		}
		jobs = append(jobs, store.JudgeJob{
			ID: JudgeJobID(s.ProjectID, s.TraceID, s.SpanID), ProjectID: s.ProjectID, TraceID: s.TraceID, SpanID: s.SpanID,
			Endpoint: s.GenAI.Quality.Endpoint, Service: s.ServiceName, SpanName: s.Name, Model: s.GenAI.Model(),
			Trigger: trigger, ContentHash: e.cfg.Judge.ContentHash(job),
			Prompt: job.Prompt, References: job.References, Response: job.Response, Tier1: *s.GenAI.Quality,
			Status: store.JudgeJobPending, NextAttempt: now, CreatedAt: now, UpdatedAt: now,
		})
	}
	if len(jobs) == 0 {
		return
	}
	kept, err := e.cfg.Store.EnqueueJudgeJobs(ctx, jobs)
	if err != nil {
		e.cfg.Logger.Warn("judge: enqueueing jobs failed; these spans keep their tier-1 scores", "jobs", len(jobs), "err", err)
		return
	}
	for _, j := range kept {
		if j.Result == nil {
			continue // pending or running: it will write the span when it finishes
		}
		q := j.Tier1
		Apply(&q, *j.Result)
		if err := e.cfg.Store.UpdateSpanQuality(ctx, j.ProjectID, j.TraceID, j.SpanID, q); err != nil {
			e.cfg.Logger.Warn("judge: re-applying a stored verdict failed", "job", j.ID, "err", err)
		}
	}
	if len(kept) < len(jobs) && e.cfg.Notify != nil {
		e.cfg.Notify()
	}
}

// reference returns the response text of the span id ("trace_id/span_id") names, or "".
func (e *Enqueuer) reference(ctx context.Context, projectID, id string, traces map[string]*store.TraceDetail) string {
	traceID, spanID, ok := strings.Cut(id, "/")
	if !ok {
		return ""
	}
	d, seen := traces[traceID]
	if !seen {
		got, err := e.cfg.Store.Trace(ctx, projectID, traceID)
		if err == nil {
			if e.cfg.Join != nil {
				e.cfg.Join(got.Spans, got.Logs)
			}
			d = &got
		}
		traces[traceID] = d
	}
	if d == nil {
		return ""
	}
	for i := range d.Spans {
		if s := &d.Spans[i]; s.SpanID == spanID && s.GenAI != nil {
			text, _ := responseText(s.GenAI)
			return text
		}
	}
	return ""
}
