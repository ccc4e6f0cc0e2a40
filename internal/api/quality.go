package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// QualityStore is what the quality routes read.
type QualityStore interface {
	QualityPoints(ctx context.Context, q store.QualityQuery) ([]store.QualityPoint, error)
	JudgeJobs(ctx context.Context, q store.JudgeJobQuery) ([]store.JudgeJob, error)
	JudgeJobCounts(ctx context.Context, projectID string) (map[string]int64, error)
	JudgeSpend(ctx context.Context, projectID string, since time.Time) (float64, error)
}

// JudgeStatus is tier 2 as this installation configured it. When Configured is false,
// Reason says what to set; nothing is judged and no score is invented.
type JudgeStatus struct {
	Configured     bool    `json:"configured"`
	Status         string  `json:"status"` // "active" or "not_configured"
	Reason         string  `json:"reason,omitempty"`
	Provider       string  `json:"provider"`
	Model          string  `json:"model"`
	BandLow        float64 `json:"band_low"`
	BandHigh       float64 `json:"band_high"`
	SampleRate     float64 `json:"sample_rate"`
	DailyBudgetUSD float64 `json:"daily_budget_usd"` // negative: unlimited
	Concurrency    int     `json:"concurrency"`
}

// maxQualityPoints bounds the spans one summary aggregates.
const maxQualityPoints = 200_000

// RegisterQuality adds the quality routes: GET /api/v1/quality/judge (tier 2's
// configuration, today's spend and its jobs per state), GET /api/v1/quality/jobs and
// GET /api/v1/quality/summary (per endpoint over time).
func (s *Server) RegisterQuality(mux *http.ServeMux, st QualityStore, judge JudgeStatus, now func() time.Time) {
	mux.HandleFunc("GET /api/v1/quality/judge", s.handle(func(ctx context.Context, project string, _ *http.Request) (any, error) {
		counts, err := st.JudgeJobCounts(ctx, project)
		if err != nil {
			return nil, err
		}
		spent, err := st.JudgeSpend(ctx, project, dayStart(now()))
		if err != nil {
			return nil, err
		}
		for _, k := range []string{store.JudgeJobPending, store.JudgeJobRunning, store.JudgeJobDone, store.JudgeJobFailed, store.JudgeJobSkippedBudget} {
			counts[k] += 0
		}
		return struct {
			JudgeStatus
			SpentTodayUSD float64          `json:"spent_today_usd"`
			Jobs          map[string]int64 `json:"jobs"`
		}{judge, spent, counts}, nil
	}))
	mux.HandleFunc("GET /api/v1/quality/jobs", s.handle(func(ctx context.Context, project string, r *http.Request) (any, error) {
		v := r.URL.Query()
		limit, err := intParam(v.Get("limit"), "limit", 100)
		if err != nil {
			return nil, err
		}
		jobs, err := st.JudgeJobs(ctx, store.JudgeJobQuery{ProjectID: project, Status: v.Get("status"), TraceID: normalizeHex(v.Get("trace_id")), Limit: limit})
		if err != nil {
			return nil, err
		}
		out := make([]judgeJobJSON, len(jobs))
		for i, j := range jobs {
			out[i] = newJudgeJobJSON(j)
		}
		return map[string]any{"jobs": out}, nil
	}))
	mux.HandleFunc("GET /api/v1/quality/summary", s.handle(func(ctx context.Context, project string, r *http.Request) (any, error) {
		return qualitySummary(ctx, st, judge, project, r, now())
	}))
}

func dayStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func intParam(s, name string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("%s must be a non-negative integer, got %q", name, s))
	}
	return n, nil
}

// judgeJobJSON is a job as the API lists it: its state and verdict, not the texts.
type judgeJobJSON struct {
	ID          string           `json:"id"`
	TraceID     string           `json:"trace_id"`
	SpanID      string           `json:"span_id"`
	Endpoint    string           `json:"endpoint"`
	Trigger     string           `json:"trigger"`
	Status      string           `json:"status"`
	Attempts    int              `json:"attempts"`
	NextAttempt *time.Time       `json:"next_attempt"`
	LastError   string           `json:"last_error,omitempty"`
	CostUSD     float64          `json:"cost_usd"`
	Result      *genai.Judgement `json:"result"`
	CreatedAt   time.Time        `json:"created_at"`
	FinishedAt  *time.Time       `json:"finished_at"`
}

func newJudgeJobJSON(j store.JudgeJob) judgeJobJSON {
	out := judgeJobJSON{ID: j.ID, TraceID: j.TraceID, SpanID: j.SpanID, Endpoint: j.Endpoint, Trigger: j.Trigger, Status: j.Status,
		Attempts: j.Attempts, LastError: j.LastError, CostUSD: j.CostUSD, Result: j.Result, CreatedAt: j.CreatedAt}
	if !j.NextAttempt.IsZero() {
		out.NextAttempt = &j.NextAttempt
	}
	if !j.FinishedAt.IsZero() {
		out.FinishedAt = &j.FinishedAt
	}
	return out
}

// qualityStatsJSON aggregates the scored LLM spans of one endpoint and bucket.
type qualityStatsJSON struct {
	Spans        int      `json:"spans"`    // LLM spans with a quality assessment
	Scored       int      `json:"scored"`   // of which carry a score
	Tier1        int      `json:"tier1"`    // final score from tier 1
	Tier2        int      `json:"tier2"`    // final score from the judge
	Unscored     int      `json:"unscored"` // first samples, no content, failed calls
	MeanScore    *float64 `json:"mean_score"`
	P50Score     *float64 `json:"p50_score"`
	Judged       int      `json:"judged"`        // judge verdicts (scored)
	JudgeFailed  int      `json:"judge_failed"`  // judge ran and failed
	JudgeSkipped int      `json:"judge_skipped"` // over the daily budget
	JudgeCostUSD float64  `json:"judge_cost_usd"`
	scores       []float64
}

type qualityBucketJSON struct {
	Start time.Time `json:"start"`
	qualityStatsJSON
}

type endpointQualityJSON struct {
	Endpoint string              `json:"endpoint"`
	Totals   qualityStatsJSON    `json:"totals"`
	Buckets  []qualityBucketJSON `json:"buckets"`
}

func (q *qualityStatsJSON) add(p store.QualityPoint) {
	q.Spans++
	switch {
	case p.Score == nil:
		q.Unscored++
	case p.Tier == genai.QualityTier2:
		q.Tier2++
	default:
		q.Tier1++
	}
	if p.Score != nil {
		q.Scored++
		q.scores = append(q.scores, *p.Score)
	}
	switch p.JudgeStatus {
	case genai.JudgeScored:
		q.Judged++
	case genai.JudgeFailed:
		q.JudgeFailed++
	case genai.JudgeOverBudget:
		q.JudgeSkipped++
	}
	if p.JudgeCostUSD != nil {
		q.JudgeCostUSD += *p.JudgeCostUSD
	}
}

func (q *qualityStatsJSON) finish() {
	q.JudgeCostUSD = math.Round(q.JudgeCostUSD*1e9) / 1e9
	if len(q.scores) == 0 {
		return
	}
	slices.Sort(q.scores)
	sum := 0.0
	for _, v := range q.scores {
		sum += v
	}
	mean := round4(sum / float64(len(q.scores)))
	n := len(q.scores)
	p50 := q.scores[n/2]
	if n%2 == 0 {
		p50 = (q.scores[n/2-1] + q.scores[n/2]) / 2
	}
	p50 = round4(p50)
	q.MeanScore, q.P50Score = &mean, &p50
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

func qualitySummary(ctx context.Context, st QualityStore, judge JudgeStatus, project string, r *http.Request, now time.Time) (any, error) {
	v := r.URL.Query()
	until, err := timeParam(v, "until")
	if err != nil {
		return nil, err
	}
	if until.IsZero() {
		until = now.UTC()
	}
	since, err := timeParam(v, "since")
	if err != nil {
		return nil, err
	}
	if since.IsZero() {
		since = until.Add(-24 * time.Hour)
	}
	if !until.After(since) {
		return nil, errorf(http.StatusBadRequest, "invalid_parameter", "until must be after since")
	}
	buckets, err := intParam(v.Get("buckets"), "buckets", 24)
	if err != nil {
		return nil, err
	}
	buckets = min(max(buckets, 1), store.MaxOverviewBuckets)
	width := until.Sub(since) / time.Duration(buckets)
	if width*time.Duration(buckets) < until.Sub(since) {
		width++
	}
	points, err := st.QualityPoints(ctx, store.QualityQuery{ProjectID: project, Since: since, Until: until, Endpoint: v.Get("endpoint"), Limit: maxQualityPoints + 1})
	if err != nil {
		return nil, err
	}
	truncated := len(points) > maxQualityPoints
	if truncated {
		points = points[:maxQualityPoints]
	}
	byEndpoint := map[string]*endpointQualityJSON{}
	var order []string
	for _, p := range points {
		e := byEndpoint[p.Endpoint]
		if e == nil {
			e = &endpointQualityJSON{Endpoint: p.Endpoint, Buckets: make([]qualityBucketJSON, buckets)}
			for i := range e.Buckets {
				e.Buckets[i].Start = since.Add(time.Duration(i) * width)
			}
			byEndpoint[p.Endpoint] = e
			order = append(order, p.Endpoint)
		}
		i := min(int(p.StartTime.Sub(since)/width), buckets-1)
		e.Buckets[i].add(p)
		e.Totals.add(p)
	}
	slices.Sort(order)
	out := make([]endpointQualityJSON, 0, len(order))
	for _, name := range order {
		e := byEndpoint[name]
		e.Totals.finish()
		for i := range e.Buckets {
			e.Buckets[i].finish()
		}
		out = append(out, *e)
	}
	return map[string]any{
		"since": since, "until": until, "bucket_width_ms": ms(width), "truncated": truncated,
		"tier2": judge, "endpoints": out,
	}, nil
}
