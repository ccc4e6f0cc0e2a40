package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// judgeTests is the JudgeStore part of the suite, run by Run.
var judgeTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"JudgeJobQueue", testJudgeJobQueue},
	{"JudgeJobLifecycle", testJudgeJobLifecycle},
	{"SpanQualityUpdate", testSpanQualityUpdate},
	{"QualityPoints", testQualityPoints},
}

func runJudgeTests(t *testing.T, open Opener) {
	for _, tt := range judgeTests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func judgeJob(project string, n int, hash string) store.JudgeJob {
	return store.JudgeJob{
		ID: project + "/" + traceID(n) + "/" + spanID(n), ProjectID: project, TraceID: traceID(n), SpanID: spanID(n),
		Endpoint: "svc / chat", Trigger: "borderline", ContentHash: hash,
		Prompt: "user: capital of France?", References: []string{"Paris."}, Response: "It is Paris.",
		Tier1:  genai.Quality{Score: f64(0.6), Tier: genai.QualityTier1, Method: "tier1:prompt", ScoredAt: at(0)},
		Status: store.JudgeJobPending, NextAttempt: at(time.Duration(n) * time.Second), CreatedAt: at(time.Duration(n) * time.Second),
		UpdatedAt: at(time.Duration(n) * time.Second),
	}
}

func testJudgeJobQueue(t *testing.T, s store.Store) {
	ctx := context.Background()
	j1, j2, jb := judgeJob(projectA, 1, "h1"), judgeJob(projectA, 2, "h2"), judgeJob(projectB, 3, "h3")
	kept, err := s.EnqueueJudgeJobs(ctx, []store.JudgeJob{j1, j2, jb})
	if err != nil || len(kept) != 0 {
		t.Fatalf("EnqueueJudgeJobs(new): got %v, %v; want nothing kept", kept, err)
	}
	// Not due yet at 1.5 s: only j1 is.
	claimed, err := s.ClaimJudgeJobs(ctx, at(1500*time.Millisecond), time.Minute, 10)
	if err != nil {
		t.Fatalf("ClaimJudgeJobs: %v", err)
	}
	want := j1
	want.Status, want.NextAttempt = store.JudgeJobRunning, at(1500*time.Millisecond+time.Minute)
	diff(t, "ClaimJudgeJobs(1.5s)", claimed, []store.JudgeJob{want})
	// j1 is leased: a second claim takes the others that are due, never j1.
	claimed, err = s.ClaimJudgeJobs(ctx, at(10*time.Second), time.Minute, 10)
	if err != nil {
		t.Fatalf("ClaimJudgeJobs: %v", err)
	}
	if len(claimed) != 2 || claimed[0].ID == j1.ID || claimed[1].ID == j1.ID {
		t.Fatalf("ClaimJudgeJobs(10s): got %d jobs %v, want j2 and jb", len(claimed), claimed)
	}
	// A lease that ended (its worker died) makes the job claimable again.
	claimed, err = s.ClaimJudgeJobs(ctx, at(2*time.Minute), time.Minute, 1)
	if err != nil || len(claimed) != 1 || claimed[0].ID != j1.ID {
		t.Fatalf("ClaimJudgeJobs(after lease): got %v, %v; want j1 again", claimed, err)
	}

	// Same content: kept and returned as stored (running); new content: replaced, pending.
	kept, err = s.EnqueueJudgeJobs(ctx, []store.JudgeJob{j1, func() store.JudgeJob { j := j2; j.ContentHash = "h2b"; return j }()})
	if err != nil {
		t.Fatalf("EnqueueJudgeJobs(again): %v", err)
	}
	if len(kept) != 1 || kept[0].ID != j1.ID || kept[0].Status != store.JudgeJobRunning {
		t.Fatalf("EnqueueJudgeJobs(again): kept %v, want j1 as stored (running)", kept)
	}
	pending, err := s.JudgeJobs(ctx, store.JudgeJobQuery{ProjectID: projectA, Status: store.JudgeJobPending})
	if err != nil {
		t.Fatalf("JudgeJobs: %v", err)
	}
	if len(pending) != 1 || pending[0].ID != j2.ID || pending[0].ContentHash != "h2b" {
		t.Fatalf("JudgeJobs(pending): got %v, want j2 replaced with h2b", pending)
	}
}

func testJudgeJobLifecycle(t *testing.T, s store.Store) {
	ctx := context.Background()
	jobs := []store.JudgeJob{judgeJob(projectA, 1, "h1"), judgeJob(projectA, 2, "h2"), judgeJob(projectA, 3, "h3"), judgeJob(projectB, 4, "h4")}
	if _, err := s.EnqueueJudgeJobs(ctx, jobs); err != nil {
		t.Fatalf("EnqueueJudgeJobs: %v", err)
	}
	done := jobs[0]
	done.Status, done.Attempts, done.CostUSD, done.FinishedAt, done.UpdatedAt = store.JudgeJobDone, 1, 0.0015, at(time.Hour), at(time.Hour)
	done.Result = &genai.Judgement{Status: genai.JudgeScored, Similarity: f64(0.9), Reason: "same answer", CostUSD: f64(0.0015), JudgedAt: at(time.Hour)}
	skipped := jobs[1]
	skipped.Status, skipped.FinishedAt = store.JudgeJobSkippedBudget, at(2*time.Hour)
	other := jobs[3]
	other.Status, other.CostUSD, other.FinishedAt = store.JudgeJobDone, 5, at(time.Hour)
	for _, j := range []store.JudgeJob{done, skipped, other} {
		if err := s.UpdateJudgeJob(ctx, j); err != nil {
			t.Fatalf("UpdateJudgeJob(%s): %v", j.ID, err)
		}
	}
	if err := s.UpdateJudgeJob(ctx, judgeJob(projectA, 9, "x")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateJudgeJob(missing): got %v, want ErrNotFound", err)
	}
	all, err := s.JudgeJobs(ctx, store.JudgeJobQuery{ProjectID: projectA})
	if err != nil {
		t.Fatalf("JudgeJobs: %v", err)
	}
	diff(t, "JudgeJobs(A)", all, []store.JudgeJob{jobs[2], skipped, done}) // newest first
	byTrace, err := s.JudgeJobs(ctx, store.JudgeJobQuery{ProjectID: projectA, TraceID: traceID(1)})
	if err != nil || len(byTrace) != 1 || byTrace[0].Result == nil || *byTrace[0].Result.Similarity != 0.9 {
		t.Fatalf("JudgeJobs(trace 1): got %v, %v", byTrace, err)
	}
	counts, err := s.JudgeJobCounts(ctx, projectA)
	if err != nil {
		t.Fatalf("JudgeJobCounts: %v", err)
	}
	diff(t, "JudgeJobCounts(A)", counts, map[string]int64{store.JudgeJobDone: 1, store.JudgeJobSkippedBudget: 1, store.JudgeJobPending: 1})
	for _, tc := range []struct {
		project string
		since   time.Time
		want    float64
	}{{projectA, at(0), 0.0015}, {projectA, at(90 * time.Minute), 0}, {projectB, at(0), 5}} {
		got, err := s.JudgeSpend(ctx, tc.project, tc.since)
		if err != nil || got != tc.want {
			t.Errorf("JudgeSpend(%s, %v): got %v, %v; want %v", tc.project, tc.since, got, err, tc.want)
		}
	}
	// A finished job is not claimed again.
	claimed, err := s.ClaimJudgeJobs(ctx, at(24*time.Hour), time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].ID != jobs[2].ID {
		t.Fatalf("ClaimJudgeJobs: got %v, %v; want only the pending job", claimed, err)
	}
	n, err := s.DeleteJudgeJobs(ctx, at(90*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("DeleteJudgeJobs: got %d, %v; want the 2 jobs finished before 90 min", n, err)
	}
	left, err := s.JudgeJobCounts(ctx, projectA)
	if err != nil {
		t.Fatalf("JudgeJobCounts: %v", err)
	}
	diff(t, "JudgeJobCounts(A) after delete", left, map[string]int64{store.JudgeJobSkippedBudget: 1, store.JudgeJobRunning: 1})
}

func testSpanQualityUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := llm(projectA, 1, 1, 0, "gpt-4o", 10, 5, f64(0.01))
	a.GenAI.Quality = &genai.Quality{Score: f64(0.6), Tier: genai.QualityTier1, Method: "tier1:prompt", Endpoint: "svc / chat", ScoredAt: at(0)}
	b := llm(projectB, 1, 1, 0, "gpt-4o", 10, 5, f64(0.01))
	b.GenAI.Quality = &genai.Quality{Score: f64(0.6), Tier: genai.QualityTier1, Method: "tier1:prompt", ScoredAt: at(0)}
	plain := span(projectA, 1, 2, 1, "tool", 0, time.Millisecond)
	write(t, s, []genai.Span{a, plain})
	write(t, s, []genai.Span{b})

	q := *a.GenAI.Quality
	q.Score, q.Tier, q.Method, q.Reason, q.Flags = f64(0.35), genai.QualityTier2, "tier2:judge", "contradicts the reference", []string{genai.FlagFactualError}
	q.Components = map[string]float64{"tier1": 0.6, "judge_similarity": 0.35}
	q.Judge = &genai.Judgement{Status: genai.JudgeScored, Similarity: f64(0.35), FactualError: true, CostUSD: f64(0.001), JudgedAt: at(time.Minute)}
	if err := s.UpdateSpanQuality(ctx, projectA, a.TraceID, a.SpanID, q); err != nil {
		t.Fatalf("UpdateSpanQuality: %v", err)
	}
	got := detail(t, s, projectA, 1)
	for _, sp := range got.Spans {
		if sp.SpanID == a.SpanID {
			diff(t, "updated quality", *sp.GenAI.Quality, q)
			want := *a.GenAI
			want.Quality, want.Counted = sp.GenAI.Quality, sp.GenAI.Counted
			diff(t, "rest of the call", *sp.GenAI, want)
		}
	}
	other := detail(t, s, projectB, 1)
	if sc := other.Spans[0].GenAI.Quality.Score; sc == nil || *sc != 0.6 {
		t.Errorf("project B's span changed: score %v", sc)
	}
	for _, tc := range []struct{ project, trace, span string }{
		{projectA, a.TraceID, spanID(99)}, {projectA, plain.TraceID, plain.SpanID}, {"nobody", a.TraceID, a.SpanID},
	} {
		if err := s.UpdateSpanQuality(ctx, tc.project, tc.trace, tc.span, q); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateSpanQuality(%v): got %v, want ErrNotFound", tc, err)
		}
	}
}

func testQualityPoints(t *testing.T, s store.Store) {
	ctx := context.Background()
	mk := func(tr, id int, q *genai.Quality) genai.Span {
		sp := llm(projectA, tr, id, 0, "gpt-4o", 10, 5, f64(0.01))
		sp.GenAI.Quality = q
		return sp
	}
	judged := &genai.Quality{Score: f64(0.4), Tier: genai.QualityTier2, Method: "tier2:judge", Endpoint: "svc / chat",
		Judge: &genai.Judgement{Status: genai.JudgeScored, Similarity: f64(0.4), CostUSD: f64(0.002)}}
	spans := []genai.Span{
		mk(1, 1, &genai.Quality{Score: f64(0.9), Tier: genai.QualityTier1, Method: "tier1:prompt", Endpoint: "svc / chat"}),
		mk(2, 2, judged),
		mk(3, 3, &genai.Quality{Tier: genai.QualityTier1, Method: "tier1:first_sample"}), // no endpoint: service / name
		mk(4, 4, nil), // no quality: not a point
		mk(5, 500, &genai.Quality{Score: f64(1), Tier: genai.QualityTier1, Method: "tier1:prompt", Endpoint: "svc / chat"}), // outside
	}
	write(t, s, spans)
	got, err := s.QualityPoints(ctx, store.QualityQuery{ProjectID: projectA, Since: at(0), Until: at(100 * time.Millisecond)})
	if err != nil {
		t.Fatalf("QualityPoints: %v", err)
	}
	diff(t, "QualityPoints", got, []store.QualityPoint{
		{StartTime: at(time.Millisecond), Endpoint: "svc / chat", Tier: "tier1", Method: "tier1:prompt", Score: f64(0.9)},
		{StartTime: at(2 * time.Millisecond), Endpoint: "svc / chat", Tier: "tier2", Method: "tier2:judge", Score: f64(0.4), JudgeStatus: "scored", JudgeCostUSD: f64(0.002)},
		{StartTime: at(3 * time.Millisecond), Endpoint: "svc / chat gpt-4o", Tier: "tier1", Method: "tier1:first_sample"},
	})
	one, err := s.QualityPoints(ctx, store.QualityQuery{ProjectID: projectA, Since: at(0), Until: at(time.Second), Endpoint: "svc / chat gpt-4o"})
	if err != nil || len(one) != 1 || one[0].Method != "tier1:first_sample" {
		t.Fatalf("QualityPoints(endpoint): got %v, %v", one, err)
	}
	none, err := s.QualityPoints(ctx, store.QualityQuery{ProjectID: projectB, Since: at(0), Until: at(time.Second)})
	if err != nil || len(none) != 0 || none == nil {
		t.Fatalf("QualityPoints(B): got %#v, %v; want an empty list", none, err)
	}
}
