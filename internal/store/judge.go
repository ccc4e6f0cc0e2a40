package store

import (
	"context"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// Judge job states. A job moves pending → running → done, failed or skipped_budget; a
// running job whose lease ends (its worker died) is claimed again as if pending, and a
// transient failure puts it back to pending with a later NextAttempt.
const (
	JudgeJobPending       = "pending"
	JudgeJobRunning       = "running"
	JudgeJobDone          = "done"           // the judge returned a verdict, now on the span
	JudgeJobFailed        = "failed"         // malformed output twice, a permanent error, or retries exhausted
	JudgeJobSkippedBudget = "skipped_budget" // the project's daily judge budget was spent
)

// JudgeJob is one durable tier-2 work item: judge one LLM span's response against its
// reference. It carries the texts it needs (bounded by the judge's clip), so it does not
// depend on the span still being stored, and the span's tier-1 quality, which the verdict
// is applied to.
type JudgeJob struct {
	ID        string `json:"id"` // one job per span: derived from project, trace and span id
	ProjectID string `json:"project_id"`
	TraceID   string `json:"trace_id"`
	SpanID    string `json:"span_id"`
	Endpoint  string `json:"endpoint"`
	// Service, SpanName and Model locate the span's alert key, so a verdict can be fed
	// to the alert rules without reading the span again.
	Service     string `json:"service"`
	SpanName    string `json:"span_name"`
	Model       string `json:"model"`
	Trigger     string `json:"trigger"`
	ContentHash string `json:"content_hash"` // the judge's cache key of the texts below

	Prompt     string        `json:"prompt"`
	References []string      `json:"references"`
	Response   string        `json:"response"`
	Tier1      genai.Quality `json:"tier1"`

	Status      string           `json:"status"`
	Attempts    int              `json:"attempts"`
	NextAttempt time.Time        `json:"next_attempt"`
	LastError   string           `json:"last_error,omitempty"`
	Result      *genai.Judgement `json:"result,omitempty"`
	CostUSD     float64          `json:"cost_usd"` // the judge's own cost, 0 until it ran
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
	FinishedAt  time.Time        `json:"finished_at"` // zero until done, failed or skipped
}

// JudgeJobQuery selects a project's judge jobs, newest first. Zero fields do not filter.
type JudgeJobQuery struct {
	ProjectID string // required
	Status    string
	TraceID   string
	Limit     int // backends treat ≤ 0 as 100, and cap it at 1000
}

// QualityQuery selects the LLM spans a quality summary aggregates.
type QualityQuery struct {
	ProjectID string
	Since     time.Time
	Until     time.Time // exclusive
	Endpoint  string    // exact; empty for every endpoint
	Limit     int       // most points returned; backends treat ≤ 0 as 100,000
}

// QualityPoint is one scored LLM span, as a quality summary needs it.
type QualityPoint struct {
	StartTime    time.Time
	Endpoint     string // genai.Quality.Endpoint, else "service / span name"
	Tier         string
	Method       string
	Score        *float64
	JudgeStatus  string   // "" when tier 2 never ran for the span
	JudgeCostUSD *float64 // the judge's cost recorded on the span
}

// JudgeStore keeps the tier-2 job queue and writes verdicts back to spans. Every call that
// names a project is scoped to it. Each method is one transaction, durable when it returns
// nil, and safe for concurrent use by several processes.
type JudgeStore interface {
	// EnqueueJudgeJobs stores each job that is not stored yet under its ID; a stored job
	// with another ContentHash (the span was resent with other content) is replaced and
	// pending again; a stored job with the same ContentHash is kept as it is and returned,
	// as stored, so the caller can apply its verdict again to a span that was rewritten.
	EnqueueJudgeJobs(ctx context.Context, jobs []JudgeJob) (kept []JudgeJob, err error)
	// ClaimJudgeJobs returns up to limit jobs that are pending, or running with an ended
	// lease, whose NextAttempt is at or before now, oldest NextAttempt first; in the same
	// transaction it marks them running with NextAttempt now+lease, so no other process
	// takes them until the lease ends. The returned jobs have those new values.
	ClaimJudgeJobs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]JudgeJob, error)
	// UpdateJudgeJob replaces the stored job j.ID (ErrNotFound when there is none).
	UpdateJudgeJob(ctx context.Context, j JudgeJob) error
	// JudgeJobs lists a project's jobs matching q, newest CreatedAt first, then id.
	JudgeJobs(ctx context.Context, q JudgeJobQuery) ([]JudgeJob, error)
	// JudgeJobCounts counts a project's jobs per status.
	JudgeJobCounts(ctx context.Context, projectID string) (map[string]int64, error)
	// DeleteJudgeJobs removes the jobs that finished before before and reports how many.
	DeleteJudgeJobs(ctx context.Context, before time.Time) (int64, error)
	// JudgeSpend sums the judge cost of a project's jobs that finished at or after since.
	JudgeSpend(ctx context.Context, projectID string, since time.Time) (float64, error)

	// UpdateSpanQuality replaces the quality of a stored GenAI span; ErrNotFound when the
	// project has no GenAI span with these ids.
	UpdateSpanQuality(ctx context.Context, projectID, traceID, spanID string, q genai.Quality) error
	// QualityPoints lists the LLM spans of q's window that carry a quality assessment,
	// oldest first, at most q.Limit of them.
	QualityPoints(ctx context.Context, q QualityQuery) ([]QualityPoint, error)
}
