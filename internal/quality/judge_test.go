package quality

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

const goodVerdict = `{"similarity": 0.62, "hallucination": false, "tone_drift": true, "factual_error": false, "refusal": false, "reason": "Same steps, but much more casual."}`

// scripted is a CompleteFunc answering with texts in order (the last repeats).
type scripted struct {
	mu    sync.Mutex
	texts []string
	err   error
	calls int
}

func (s *scripted) complete(_ context.Context, p Prompt) (Completion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.err != nil {
		return Completion{}, s.err
	}
	return Completion{Text: s.texts[min(s.calls-1, len(s.texts)-1)], Provider: "anthropic", Model: "claude-haiku-4-5-20251001",
		Usage: genai.Usage{InputTokens: 1000, OutputTokens: 100, TotalTokens: 1100}, Attempts: 1}, nil
}

// haikuPrice prices claude-haiku-4-5 at $1/M input and $5/M output tokens.
func haikuPrice(_, model string, u genai.Usage) (float64, bool) {
	if !strings.HasPrefix(model, "claude-haiku-4-5") {
		return 0, false
	}
	return float64(u.InputTokens)*1e-6 + float64(u.OutputTokens)*5e-6, true
}

var testJob = Job{ProjectID: "p1", Prompt: "user: how do i reset my password?", References: []string{passwordAnswer}, Response: "Go to settings lol", Trigger: TriggerBorderline}

func newTestJudge(cfg JudgeConfig, s *scripted) (*Judge, *clock) {
	c := &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	cfg.Provider = "anthropic"
	var complete CompleteFunc
	if s != nil {
		complete = s.complete
	}
	return NewJudge(cfg, complete, haikuPrice, nil, c.now), c
}

func TestJudgeScoresAndCaches(t *testing.T) {
	s := &scripted{texts: []string{goodVerdict}}
	j, _ := newTestJudge(JudgeConfig{}, s)
	got, err := j.Evaluate(context.Background(), testJob)
	if err != nil || got.Status != genai.JudgeScored || *got.Similarity != 0.62 || !got.ToneDrift || got.Reason == "" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if got.CostUSD == nil || *got.CostUSD != 1000e-6+100*5e-6 || got.Cached || got.ContentHash == "" {
		t.Errorf("cost %v cached %v hash %q", got.CostUSD, got.Cached, got.ContentHash)
	}
	again, err := j.Evaluate(context.Background(), Job{ProjectID: "p2", Prompt: testJob.Prompt, References: testJob.References, Response: testJob.Response, Trigger: TriggerSampled})
	if err != nil || !again.Cached || *again.Similarity != 0.62 || *again.CostUSD != 0 || again.Trigger != TriggerSampled || s.calls != 1 {
		t.Errorf("second evaluation: %+v, %v after %d calls; want a cache hit with no new call", again, err, s.calls)
	}
}

func TestJudgeCacheExpires(t *testing.T) {
	s := &scripted{texts: []string{goodVerdict}}
	j, c := newTestJudge(JudgeConfig{}, s)
	_, _ = j.Evaluate(context.Background(), testJob)
	c.advance(25 * time.Hour)
	if got, _ := j.Evaluate(context.Background(), testJob); got.Cached || s.calls != 2 {
		t.Errorf("after 25 h: cached %v after %d calls; want a new call", got.Cached, s.calls)
	}
}

func TestJudgeMalformedRetriedOnceThenFailed(t *testing.T) {
	cases := []struct {
		name   string
		texts  []string
		status string
		calls  int
	}{
		{"malformed then valid", []string{"Sure! The similarity is high.", goodVerdict}, genai.JudgeScored, 2},
		{"malformed twice", []string{`{"similarity": 1.4, "hallucination": false, "tone_drift": false, "factual_error": false, "refusal": false, "reason": "x"}`, `{"similarity": 0.5}`}, genai.JudgeFailed, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{texts: tc.texts}
			j, _ := newTestJudge(JudgeConfig{}, s)
			got, err := j.Evaluate(context.Background(), testJob)
			if err != nil || got.Status != tc.status || s.calls != tc.calls || got.Attempts != tc.calls {
				t.Fatalf("got %+v, %v after %d calls; want %s after %d", got, err, s.calls, tc.status, tc.calls)
			}
			if tc.status == genai.JudgeFailed && (got.Similarity != nil || !strings.Contains(got.Error, "malformed")) {
				t.Errorf("failed verdict carries similarity %v / error %q; want none / malformed", got.Similarity, got.Error)
			}
			if got.CostUSD == nil || *got.CostUSD != 2*(1000e-6+100*5e-6) {
				t.Errorf("cost %v, want both calls counted", got.CostUSD)
			}
			if again, _ := j.Evaluate(context.Background(), testJob); tc.status == genai.JudgeFailed && again.Cached {
				t.Errorf("a failure was cached")
			}
		})
	}
}

func TestJudgeNotConfigured(t *testing.T) {
	j, _ := newTestJudge(JudgeConfig{}, nil)
	got, err := j.Evaluate(context.Background(), testJob)
	if err != nil || got.Status != genai.JudgeNotConfigured || got.Similarity != nil || got.CostUSD != nil {
		t.Errorf("got %+v, %v; want not_configured and nothing scored", got, err)
	}
	if j.Configured() || j.ShouldJudge(&genai.Quality{Score: ptr(0.5)}, true, "k") != "" {
		t.Errorf("an unconfigured judge must not trigger")
	}
}

func TestJudgeBudget(t *testing.T) {
	s := &scripted{texts: []string{goodVerdict}}
	// Each call costs $0.0015 and reserves about 2×$0.0021; a $0.005 budget allows one.
	j, c := newTestJudge(JudgeConfig{DailyBudgetUSD: 0.005}, s)
	if got, _ := j.Evaluate(context.Background(), testJob); got.Status != genai.JudgeScored {
		t.Fatalf("first: %+v", got)
	}
	other := testJob
	other.Response = "Something else entirely"
	got, err := j.Evaluate(context.Background(), other)
	if err != nil || got.Status != genai.JudgeOverBudget || s.calls != 1 {
		t.Fatalf("second: %+v, %v after %d calls; want over_budget with no call", got, err, s.calls)
	}
	if spent := j.SpentToday("p1"); spent != 0.0015 {
		t.Errorf("spent %v, want 0.0015", spent)
	}
	other.ProjectID = "p2"
	if got, _ := j.Evaluate(context.Background(), other); got.Status != genai.JudgeScored {
		t.Errorf("another project: %+v, want its own budget", got)
	}
	c.advance(13 * time.Hour) // past midnight UTC
	other.ProjectID, other.Response = "p1", "Yet another answer"
	if got, _ := j.Evaluate(context.Background(), other); got.Status != genai.JudgeScored {
		t.Errorf("next day: %+v, want the budget reset", got)
	}
}

func TestJudgeUnpricedModelRefusedUnderBudget(t *testing.T) {
	s := &scripted{texts: []string{goodVerdict}}
	j, _ := newTestJudge(JudgeConfig{Model: "claude-haiku-5-5"}, s)
	got, err := j.Evaluate(context.Background(), testJob)
	if err != nil || got.Status != genai.JudgeFailed || !strings.Contains(got.Error, "no known price") || s.calls != 0 {
		t.Errorf("got %+v, %v after %d calls", got, err, s.calls)
	}
}

type tempErr struct{}

func (tempErr) Error() string   { return "anthropic chat: status 529 (retryable)" }
func (tempErr) Temporary() bool { return true }

func TestJudgeProviderErrors(t *testing.T) {
	s := &scripted{err: tempErr{}}
	j, _ := newTestJudge(JudgeConfig{}, s)
	got, err := j.Evaluate(context.Background(), testJob)
	if err == nil || got.Status != genai.JudgeFailed || got.Similarity != nil {
		t.Errorf("transient: got %+v, %v; want failed and an error to retry the job", got, err)
	}
	s.err = errors.New("status 401: invalid x-api-key")
	got, err = j.Evaluate(context.Background(), testJob)
	if err != nil || got.Status != genai.JudgeFailed || !strings.Contains(got.Error, "401") {
		t.Errorf("permanent: got %+v, %v; want failed, no retry", got, err)
	}
	if spent := j.SpentToday("p1"); spent != 0 {
		t.Errorf("spent %v after failed calls, want 0", spent)
	}
}

func TestJudgeConcurrentDuplicatesCallOnce(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	complete := func(ctx context.Context, p Prompt) (Completion, error) {
		calls.Add(1)
		<-release
		return Completion{Text: goodVerdict, Model: "claude-haiku-4-5", Usage: genai.Usage{InputTokens: 10, OutputTokens: 10}}, nil
	}
	j := NewJudge(JudgeConfig{Provider: "anthropic", Concurrency: 2}, complete, haikuPrice, nil, time.Now)
	var wg sync.WaitGroup
	results := make([]genai.Judgement, 5)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = j.Evaluate(context.Background(), testJob)
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the duplicates queue up behind the first call
	close(release)
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("%d calls for 5 identical jobs, want 1", calls.Load())
	}
	for i, r := range results {
		if r.Status != genai.JudgeScored {
			t.Errorf("result %d: %+v", i, r)
		}
	}
}

func TestParseVerdict(t *testing.T) {
	cases := []struct {
		text string
		ok   bool
	}{
		{goodVerdict, true},
		{"```json\n" + goodVerdict + "\n```", true},
		{"Here you go: " + goodVerdict, false},
		{goodVerdict + " extra", false},
		{`{"similarity": 0.5, "hallucination": false, "tone_drift": false, "factual_error": false, "refusal": false}`, false},
		{`{"similarity": "high", "hallucination": false, "tone_drift": false, "factual_error": false, "refusal": false, "reason": "x"}`, false},
		{`{"similarity": -0.1, "hallucination": false, "tone_drift": false, "factual_error": false, "refusal": false, "reason": "x"}`, false},
		{`{"similarity": 0.5, "hallucination": false, "tone_drift": false, "factual_error": false, "refusal": false, "reason": "x", "confidence": 0.9}`, false},
		{`{"similarity": 0.5, "hallucination": "no", "tone_drift": false, "factual_error": false, "refusal": false, "reason": "x"}`, false},
		{`{"similarity": 0.5, "hallucination": false, "tone_drift": false, "factual_error": false, "refusal": false, "reason": "  "}`, false},
		{`[` + goodVerdict + `]`, false},
	}
	for _, tc := range cases {
		_, err := parseVerdict(tc.text)
		if (err == nil) != tc.ok {
			t.Errorf("%.60q: err %v, want ok=%v", tc.text, err, tc.ok)
		}
		if err != nil && !errors.Is(err, errMalformed) {
			t.Errorf("%.60q: err %v does not wrap errMalformed", tc.text, err)
		}
	}
}

func TestTriggerDecide(t *testing.T) {
	q := func(score *float64, method string) *genai.Quality {
		return &genai.Quality{Score: score, Method: method, Tier: genai.QualityTier1}
	}
	cases := []struct {
		name  string
		t     Trigger
		q     *genai.Quality
		spike bool
		want  string
	}{
		{"borderline low edge", Trigger{}, q(ptr(0.4), MethodPrompt), false, TriggerBorderline},
		{"borderline", Trigger{}, q(ptr(0.65), MethodEndpoint), false, TriggerBorderline},
		{"high edge is outside", Trigger{}, q(ptr(0.8), MethodPrompt), false, ""},
		{"clearly good", Trigger{}, q(ptr(0.97), MethodPrompt), false, ""},
		{"clearly bad (refusal) is already explained", Trigger{}, q(ptr(0.25), MethodPrompt), false, ""},
		{"cost spike on a good score", Trigger{}, q(ptr(0.97), MethodPrompt), true, TriggerCostSpike},
		{"cold start with a cost spike", Trigger{}, q(nil, MethodFirstSample), true, TriggerCostSpike},
		{"cold start", Trigger{}, q(nil, MethodFirstSample), false, ""},
		{"no output never", Trigger{}, q(nil, MethodNoOutput), true, ""},
		{"custom band", Trigger{Low: 0.5, High: 0.95}, q(ptr(0.9), MethodPrompt), false, TriggerBorderline},
		{"sample everything", Trigger{SampleRate: 1}, q(ptr(0.97), MethodPrompt), false, TriggerSampled},
	}
	for _, tc := range cases {
		if got := tc.t.Decide(tc.q, tc.spike, "trace/span"); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	// Sampling is deterministic per key and close to the rate.
	tr, n := Trigger{SampleRate: 0.1}, 0
	for i := range 10000 {
		k := "t/" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune(i))
		if tr.Decide(q(ptr(0.97), MethodPrompt), false, k) != "" {
			n++
		}
		if tr.Decide(q(ptr(0.97), MethodPrompt), false, k) != tr.Decide(q(ptr(0.97), MethodPrompt), false, k) {
			t.Fatal("sampling is not deterministic")
		}
	}
	if n < 800 || n > 1200 {
		t.Errorf("sampled %d of 10000 at rate 0.1", n)
	}
}

func TestApply(t *testing.T) {
	q := &genai.Quality{Score: ptr(0.55), Tier: genai.QualityTier1, Method: MethodPrompt, Flags: []string{genai.FlagFormatChanged}}
	Apply(q, genai.Judgement{Status: genai.JudgeFailed, Error: "malformed"})
	if *q.Score != 0.55 || q.Tier != genai.QualityTier1 || q.Judge == nil {
		t.Fatalf("failed judgement changed the score: %+v", q)
	}
	Apply(q, genai.Judgement{Status: genai.JudgeScored, Similarity: ptr(0.3), Hallucination: true, Reason: "Invents a refund policy."})
	if *q.Score != 0.3 || q.Tier != genai.QualityTier2 || q.Method != MethodJudge || q.Components["tier1"] != 0.55 ||
		!contains(q.Flags, genai.FlagHallucination) || q.Reason != "Invents a refund policy." {
		t.Errorf("got %+v", q)
	}
}
