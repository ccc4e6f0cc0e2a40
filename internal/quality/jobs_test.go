package quality

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/store/sqlite"
)

// jobsHarness is a real SQLite store, a scripted judge on a hand-moved clock, the
// enqueue hook and a runner stepped with drain.
type jobsHarness struct {
	t       *testing.T
	st      *sqlite.Store
	clock   *clock
	llm     *scripted
	enq     *Enqueuer
	run     *Runner
	applied []genai.Quality
	batch   store.Batch
}

func newJobsHarness(t *testing.T, cfg JudgeConfig, rc RunnerConfig, llm *scripted) *jobsHarness {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lumina.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h := &jobsHarness{t: t, st: st, llm: llm}
	var judge *Judge
	judge, h.clock = newTestJudge(cfg, llm)
	logger := slog.New(slog.DiscardHandler)
	h.run = NewRunner(rc, judge, st, func(_ context.Context, _ store.JudgeJob, q genai.Quality) { h.applied = append(h.applied, q) }, logger, h.clock.now)
	h.enq = NewEnqueuer(EnqueuerConfig{Judge: judge, Store: st, Join: genai.AttachLogs, Logger: logger, Now: h.clock.now})
	return h
}

// commit writes a reference span and a borderline span (tier 1 scored 0.6 against it), as
// the worker does, then runs the enqueue hook.
func (h *jobsHarness) commit() {
	h.t.Helper()
	ctx := context.Background()
	mk := func(span, text string) genai.Span {
		return genai.Span{ProjectID: "p1", TraceID: "0af7651916cd43dd8448eb211c80319c", SpanID: span, Name: "chat", ServiceName: "support",
			StartTime: h.clock.now(), EndTime: h.clock.now().Add(time.Second), StatusCode: genai.StatusOK,
			GenAI: &genai.Call{Type: genai.TypeLLM, Operation: "chat", Provider: "openai", RequestModel: "gpt-4o-mini",
				InputMessages:  []genai.Message{{Role: "user", Content: "How do I reset my password?"}},
				OutputMessages: []genai.Message{{Role: "assistant", Content: text}}}}
	}
	ref := mk("00f067aa0ba902b7", passwordAnswer)
	cur := mk("00f067aa0ba902b8", "Go to settings lol")
	cur.GenAI.Quality = &genai.Quality{Score: ptr(0.6), Tier: genai.QualityTier1, Method: MethodPrompt, Endpoint: "support / chat",
		References: 1, ReferenceID: ref.TraceID + "/" + ref.SpanID, ScoredAt: h.clock.now()}
	h.batch = store.Batch{Spans: []genai.Span{ref, cur}}
	if err := h.st.Write(ctx, h.batch); err != nil {
		h.t.Fatal(err)
	}
	h.enq.Observe(ctx, h.batch)
}

func (h *jobsHarness) job() store.JudgeJob {
	h.t.Helper()
	jobs, err := h.st.JudgeJobs(context.Background(), store.JudgeJobQuery{ProjectID: "p1"})
	if err != nil || len(jobs) != 1 {
		h.t.Fatalf("JudgeJobs: got %d jobs, %v; want 1", len(jobs), err)
	}
	return jobs[0]
}

func (h *jobsHarness) quality() genai.Quality {
	h.t.Helper()
	d, err := h.st.Trace(context.Background(), "p1", "0af7651916cd43dd8448eb211c80319c")
	if err != nil {
		h.t.Fatal(err)
	}
	for _, s := range d.Spans {
		if s.SpanID == "00f067aa0ba902b8" {
			return *s.GenAI.Quality
		}
	}
	h.t.Fatal("span not stored")
	return genai.Quality{}
}

func TestJobRetriedWithBackoffThenDone(t *testing.T) {
	llm := &scripted{texts: []string{goodVerdict}, err: tempErr{}}
	h := newJobsHarness(t, JudgeConfig{}, RunnerConfig{Backoff: 30 * time.Second}, llm)
	h.commit()
	j := h.job()
	if j.Status != store.JudgeJobPending || j.Trigger != TriggerBorderline || len(j.References) != 1 || !strings.Contains(j.References[0], "Settings") || j.Response != "Go to settings lol" {
		t.Fatalf("enqueued %+v: want a pending borderline job carrying the reference text loaded from the store", j)
	}
	ctx := context.Background()
	if n := h.run.drain(ctx); n != 1 {
		t.Fatalf("drain processed %d jobs, want 1", n)
	}
	j = h.job()
	if j.Status != store.JudgeJobPending || j.Attempts != 1 || !j.NextAttempt.Equal(h.clock.now().Add(30*time.Second)) || !strings.Contains(j.LastError, "529") {
		t.Fatalf("after a transient failure: %+v; want pending, 1 attempt, due in 30 s, the error kept", j)
	}
	if q := h.quality(); q.Tier != genai.QualityTier1 || q.Judge != nil {
		t.Errorf("span quality %+v: want tier 1 untouched while the job waits", q)
	}
	if n := h.run.drain(ctx); n != 0 {
		t.Fatalf("drain before the backoff ended processed %d jobs, want 0", n)
	}
	h.clock.advance(30 * time.Second)
	llm.err = nil
	if n := h.run.drain(ctx); n != 1 {
		t.Fatalf("drain after the backoff processed %d jobs, want 1", n)
	}
	j = h.job()
	if j.Status != store.JudgeJobDone || j.Attempts != 2 || j.Result == nil || j.CostUSD <= 0 || j.FinishedAt.IsZero() {
		t.Fatalf("after success: %+v; want done in 2 attempts with its verdict and cost", j)
	}
	q := h.quality()
	if q.Tier != genai.QualityTier2 || *q.Score != 0.62 || q.Method != MethodJudge || q.Components["tier1"] != 0.6 || !contains(q.Flags, genai.FlagToneDrift) {
		t.Errorf("span quality %+v: want the verdict (0.62, tone drift) over the tier-1 0.6", q)
	}
	if len(h.applied) != 1 || *h.applied[0].Score != 0.62 {
		t.Errorf("applied %v: want the final quality passed on once", h.applied)
	}
	spent, err := h.st.JudgeSpend(ctx, "p1", h.clock.now().Add(-time.Hour))
	if err != nil || spent != j.CostUSD {
		t.Errorf("JudgeSpend: got %v, %v; want the job's cost %v", spent, err, j.CostUSD)
	}

	// A redelivered batch rewrites the span with its tier-1 score; the hook puts the
	// stored verdict back without a second call.
	calls := llm.calls
	if err := h.st.Write(ctx, h.batch); err != nil {
		t.Fatal(err)
	}
	if q := h.quality(); q.Tier != genai.QualityTier1 {
		t.Fatalf("rewrite: got tier %s, want the redelivered tier 1", q.Tier)
	}
	h.enq.Observe(ctx, h.batch)
	if q := h.quality(); q.Tier != genai.QualityTier2 || *q.Score != 0.62 || llm.calls != calls {
		t.Errorf("after redelivery: quality %+v, %d new calls; want the stored verdict, no call", q, llm.calls-calls)
	}
}

func TestJobOutcomes(t *testing.T) {
	cases := []struct {
		name      string
		llm       *scripted
		judge     JudgeConfig
		runner    RunnerConfig
		spentFrom float64 // judge spend already recorded today
		status    string
		judgement string
		calls     int
	}{
		{"malformed twice", &scripted{texts: []string{"looks fine to me", `{"similarity": 2}`}}, JudgeConfig{}, RunnerConfig{}, 0, store.JudgeJobFailed, genai.JudgeFailed, 2},
		{"transient errors until the attempts run out", &scripted{err: tempErr{}}, JudgeConfig{}, RunnerConfig{MaxAttempts: 1}, 0, store.JudgeJobFailed, genai.JudgeFailed, 1},
		{"permanent provider error", &scripted{err: errPermanent}, JudgeConfig{}, RunnerConfig{}, 0, store.JudgeJobFailed, genai.JudgeFailed, 1},
		{"budget spent by earlier jobs (any process)", &scripted{texts: []string{goodVerdict}}, JudgeConfig{DailyBudgetUSD: 0.5}, RunnerConfig{}, 0.5, store.JudgeJobSkippedBudget, genai.JudgeOverBudget, 0},
		{"budget too small for one call", &scripted{texts: []string{goodVerdict}}, JudgeConfig{DailyBudgetUSD: 1e-6}, RunnerConfig{}, 0, store.JudgeJobSkippedBudget, genai.JudgeOverBudget, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newJobsHarness(t, tc.judge, tc.runner, tc.llm)
			ctx := context.Background()
			if tc.spentFrom > 0 {
				earlier := store.JudgeJob{ID: "earlier", ProjectID: "p1", TraceID: "t", SpanID: "s", ContentHash: "x", Status: store.JudgeJobPending,
					CreatedAt: h.clock.now(), NextAttempt: h.clock.now().Add(time.Hour)}
				if _, err := h.st.EnqueueJudgeJobs(ctx, []store.JudgeJob{earlier}); err != nil {
					t.Fatal(err)
				}
				earlier.Status, earlier.CostUSD, earlier.FinishedAt = store.JudgeJobDone, tc.spentFrom, h.clock.now()
				if err := h.st.UpdateJudgeJob(ctx, earlier); err != nil {
					t.Fatal(err)
				}
			}
			h.commit()
			h.run.drain(ctx)
			jobs, err := h.st.JudgeJobs(ctx, store.JudgeJobQuery{ProjectID: "p1", TraceID: "0af7651916cd43dd8448eb211c80319c"})
			if err != nil || len(jobs) != 1 {
				t.Fatalf("got %d jobs, %v", len(jobs), err)
			}
			j := jobs[0]
			if j.Status != tc.status || j.Result == nil || j.Result.Status != tc.judgement || j.Result.Similarity != nil {
				t.Fatalf("job %+v: want %s with a %s judgement and no similarity", j, tc.status, tc.judgement)
			}
			if tc.llm.calls != tc.calls {
				t.Errorf("judge calls %d, want %d", tc.llm.calls, tc.calls)
			}
			q := h.quality()
			if q.Tier != genai.QualityTier1 || *q.Score != 0.6 || q.Judge == nil || q.Judge.Status != tc.judgement {
				t.Errorf("span quality %+v: want tier 1's 0.6 kept and the %s judgement visible", q, tc.judgement)
			}
		})
	}
}

func TestNotConfiguredJudgeEnqueuesNothing(t *testing.T) {
	h := newJobsHarness(t, JudgeConfig{}, RunnerConfig{}, nil)
	h.commit()
	jobs, err := h.st.JudgeJobs(context.Background(), store.JudgeJobQuery{ProjectID: "p1"})
	if err != nil || len(jobs) != 0 {
		t.Fatalf("got %d jobs, %v; want none", len(jobs), err)
	}
	if q := h.quality(); q.Judge != nil || q.Tier != genai.QualityTier1 {
		t.Errorf("quality %+v: want tier 1 only", q)
	}
}

var errPermanent = errors.New("anthropic chat: status 400: invalid model")
