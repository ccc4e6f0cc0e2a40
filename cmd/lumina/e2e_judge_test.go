package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/llm/llmtest"
)

const judgeVerdict = `{"similarity": 0.42, "hallucination": false, "tone_drift": false, "factual_error": true, "refusal": false, "reason": "Says the link lasts 12 hours; the reference says 24."}`

// sendChat ingests one LLM span answering the password-reset prompt with answer, and
// returns its trace id.
func sendChat(t *testing.T, a *testApp, answer string) string {
	t.Helper()
	td, id := llmTrace("gpt-4o-mini", 20, 10)
	attrs := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	attrs.PutStr("gen_ai.input.messages", `[{"role":"user","parts":[{"type":"text","content":"How do I reset my password?"}]}]`)
	attrs.PutStr("gen_ai.output.messages", `[{"role":"assistant","parts":[{"type":"text","content":"`+answer+`"}],"finish_reason":"stop"}]`)
	if resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != 200 {
		t.Fatalf("ingest: got %d %s", resp.StatusCode, body)
	}
	a.waitTrace(id, 1)
	return id
}

// spanQuality is the quality of a one-span trace as the trace API serves it.
func spanQuality(t *testing.T, a *testApp, traceID string) map[string]any {
	t.Helper()
	var tr struct {
		Spans []struct {
			GenAI struct {
				Quality map[string]any `json:"quality"`
			} `json:"genai"`
		} `json:"spans"`
	}
	getOK(t, a.url("api", "/api/v1/traces/"+traceID), &tr)
	if len(tr.Spans) != 1 {
		t.Fatalf("trace %s: got %d spans, want 1", traceID, len(tr.Spans))
	}
	return tr.Spans[0].GenAI.Quality
}

// getOK is getJSON that fails the test unless the answer is 200.
func getOK(t *testing.T, url string, v any) {
	t.Helper()
	if code := getJSON(t, url, v); code != http.StatusOK {
		t.Fatalf("GET %s: got %d, want 200", url, code)
	}
}

// waitTier2 polls the trace API until the span's quality is tier 2.
func waitTier2(t *testing.T, a *testApp, traceID string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var q map[string]any
	for time.Now().Before(deadline) {
		if q = spanQuality(t, a, traceID); q["tier"] == "tier2" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if q["tier"] != "tier2" {
		t.Fatalf("trace %s never reached tier 2; last quality %v", traceID, q)
	}
	// The verdict is written on the span before its job is marked done: wait for the job too.
	for time.Now().Before(deadline) {
		var jobs struct{ Jobs []struct{ Status string } }
		getOK(t, a.url("api", "/api/v1/quality/jobs"), &jobs)
		if !slices.ContainsFunc(jobs.Jobs, func(j struct{ Status string }) bool { return j.Status == "running" }) {
			return q
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("trace %s: its judge job is still running", traceID)
	return nil
}

const (
	answerRef      = "Open Settings, then Account, and click Reset password. The link expires after 24 hours."
	answerReworded = "Go to Settings > Account and press Reset password; the emailed link is valid for 12 hours only."
)

// TestTier2JudgesBorderlineSpan: the second answer to a prompt scores below 1 in tier 1,
// inside the configured band, so a durable job asks the "Anthropic" server (real Messages
// wire format); the verdict becomes the span's final quality in the trace API, with its
// cost, and shows in the judge status, the job list and the quality summary.
func TestTier2JudgesBorderlineSpan(t *testing.T) {
	srv := llmtest.New(t, llmtest.AnthropicText("claude-haiku-4-5-20251001", judgeVerdict, 900, 60))
	a := startTestApp(t, "--anthropic-api-key", "sk-ant-test", "--anthropic-base-url", srv.URL, "--judge-band", "0,1")

	first := sendChat(t, a, answerRef)
	second := sendChat(t, a, answerReworded)
	q := waitTier2(t, a, second)
	comps, _ := q["components"].(map[string]any)
	judge, _ := q["judge"].(map[string]any)
	if q["method"] != "tier2:judge" || q["score"] != 0.42 || !strings.Contains(q["reason"].(string), "12 hours") || comps["tier1"] == nil || comps["judge_similarity"] != 0.42 {
		t.Errorf("quality %v: want the judge's score 0.42, method tier2:judge, its reason, the tier-1 score kept as a component", q)
	}
	if flags, _ := q["flags"].([]any); len(flags) == 0 || flags[len(flags)-1] != "factual_error" {
		t.Errorf("flags %v, want factual_error", q["flags"])
	}
	if cost, _ := judge["cost_usd"].(float64); judge["status"] != "scored" || judge["trigger"] != "borderline" || cost <= 0 {
		t.Errorf("judge %v: want scored, trigger borderline, a positive cost from the price table", judge)
	}
	if fq := spanQuality(t, a, first); fq["tier"] != "tier1" || fq["judge"] != nil {
		t.Errorf("first sample %v: want tier 1 untouched (no score, not judged)", fq)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/v1/messages" || !strings.Contains(string(reqs[0].Raw), "valid for 12 hours") || !strings.Contains(string(reqs[0].Raw), "expires after 24 hours") {
		t.Fatalf("judge requests %d: want one Messages call carrying the reference and the new answer (%v)", len(reqs), reqs)
	}

	var status struct {
		Configured    bool             `json:"configured"`
		Status        string           `json:"status"`
		Model         string           `json:"model"`
		SpentTodayUSD float64          `json:"spent_today_usd"`
		Jobs          map[string]int64 `json:"jobs"`
	}
	getOK(t, a.url("api", "/api/v1/quality/judge"), &status)
	if !status.Configured || status.Status != "active" || status.Model != "claude-haiku-4-5" || status.Jobs["done"] != 1 || status.Jobs["pending"] != 0 || status.SpentTodayUSD != judge["cost_usd"] {
		t.Errorf("judge status %+v: want active, one done job, today's spend = the job's cost %v", status, judge["cost_usd"])
	}
	var jobs struct {
		Jobs []struct {
			TraceID  string `json:"trace_id"`
			Status   string
			Trigger  string
			Attempts int
		} `json:"jobs"`
	}
	getOK(t, a.url("api", "/api/v1/quality/jobs"), &jobs)
	if len(jobs.Jobs) != 1 || jobs.Jobs[0].TraceID != second || jobs.Jobs[0].Status != "done" || jobs.Jobs[0].Attempts != 1 {
		t.Errorf("jobs %+v: want the second trace's job, done in one attempt", jobs)
	}
	var sum struct {
		Tier2     struct{ Configured bool } `json:"tier2"`
		Endpoints []struct {
			Endpoint string
			Totals   struct {
				Spans, Scored, Tier1, Tier2, Unscored, Judged int
				MeanScore                                     *float64 `json:"mean_score"`
				JudgeCostUSD                                  float64  `json:"judge_cost_usd"`
			}
			Buckets []struct{ Spans int }
		} `json:"endpoints"`
	}
	getOK(t, a.url("api", "/api/v1/quality/summary?buckets=4"), &sum)
	if len(sum.Endpoints) != 1 || !sum.Tier2.Configured {
		t.Fatalf("summary %+v: want one endpoint and tier 2 configured", sum)
	}
	e := sum.Endpoints[0]
	tot := e.Totals
	if e.Endpoint != "pricing / chat" || tot.Spans != 2 || tot.Tier2 != 1 || tot.Unscored != 1 || tot.Judged != 1 || tot.MeanScore == nil || *tot.MeanScore != 0.42 || tot.JudgeCostUSD <= 0 || len(e.Buckets) != 4 || e.Buckets[3].Spans != 2 {
		t.Errorf("summary endpoint %+v: want 2 spans (1 first sample, 1 judged at 0.42) in the last of 4 buckets", e)
	}
}

// TestTier2NotConfiguredWithoutKey: no key, no judging: the API says tier 2 is not
// configured and why, the span keeps its tier-1 score and no job exists.
func TestTier2NotConfiguredWithoutKey(t *testing.T) {
	a := startTestApp(t, "--judge-band", "0,1")
	sendChat(t, a, answerRef)
	id := sendChat(t, a, answerReworded)
	var status struct {
		Configured bool             `json:"configured"`
		Status     string           `json:"status"`
		Reason     string           `json:"reason"`
		Jobs       map[string]int64 `json:"jobs"`
	}
	getOK(t, a.url("api", "/api/v1/quality/judge"), &status)
	if status.Configured || status.Status != "not_configured" || !strings.Contains(status.Reason, "ANTHROPIC_API_KEY") {
		t.Errorf("judge status %+v: want not_configured, naming ANTHROPIC_API_KEY", status)
	}
	q := spanQuality(t, a, id)
	if q["tier"] != "tier1" || q["judge"] != nil || q["score"] == nil {
		t.Errorf("quality %v: want the tier-1 score and no judgement", q)
	}
	var jobs struct{ Jobs []any }
	getOK(t, a.url("api", "/api/v1/quality/jobs"), &jobs)
	var sum struct {
		Tier2 struct {
			Configured bool
			Status     string
		} `json:"tier2"`
	}
	getOK(t, a.url("api", "/api/v1/quality/summary"), &sum)
	if len(jobs.Jobs) != 0 || status.Jobs["done"]+status.Jobs["pending"] != 0 || sum.Tier2.Configured || sum.Tier2.Status != "not_configured" {
		t.Errorf("jobs %v, counts %v, summary tier2 %+v: want no job and not_configured", jobs.Jobs, status.Jobs, sum.Tier2)
	}
}

// TestTier2JobSurvivesRestart: the judge is slow, Lumina stops while the job's call is in
// flight; the job goes back to the queue and the next start judges the span.
func TestTier2JobSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	slow := llmtest.New(t, llmtest.Reply{Delay: time.Minute, Body: "{}"})
	first := startTestApp(t, "--data-dir", dir, "--anthropic-api-key", "sk-ant-test", "--anthropic-base-url", slow.URL, "--judge-band", "0,1")
	sendChat(t, first, answerRef)
	id := sendChat(t, first, answerReworded)
	deadline := time.Now().Add(20 * time.Second)
	for len(slow.Requests()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(slow.Requests()) == 0 {
		t.Fatal("the judge was never called")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := first.shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	first.stopped = true

	fast := llmtest.New(t, llmtest.AnthropicText("claude-haiku-4-5-20251001", judgeVerdict, 900, 60))
	second := startTestApp(t, "--data-dir", dir, "--anthropic-api-key", "sk-ant-test", "--anthropic-base-url", fast.URL, "--judge-band", "0,1")
	if q := waitTier2(t, second, id); q["score"] != 0.42 {
		t.Errorf("after restart: quality %v, want the judge's 0.42", q)
	}
	if n := len(fast.Requests()); n != 1 {
		t.Errorf("the restarted process made %d judge calls, want 1", n)
	}
	var jobs struct {
		Jobs []struct {
			Status   string
			Attempts int
		} `json:"jobs"`
	}
	getOK(t, second.url("api", "/api/v1/quality/jobs"), &jobs)
	if len(jobs.Jobs) != 1 || jobs.Jobs[0].Status != "done" || jobs.Jobs[0].Attempts != 1 {
		t.Errorf("jobs %+v: want one done job; the interrupted call is not counted as an attempt", jobs.Jobs)
	}
}
