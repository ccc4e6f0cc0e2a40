package quality

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// llmCall builds a normalized chat call answering prompt with response.
func llmCall(prompt, response string, finish ...string) *genai.Call {
	return &genai.Call{
		Type: genai.TypeLLM, Operation: "chat", Provider: "openai", RequestModel: "gpt-4o-mini",
		SystemInstructions: "You are a helpful support assistant.",
		InputMessages:      []genai.Message{{Role: "user", Content: prompt}},
		OutputMessages:     []genai.Message{{Role: "assistant", Content: response}},
		FinishReasons:      finish,
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestScorer() (*Scorer, *clock) {
	c := &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	return NewScorer(ScorerConfig{}, c.now), c
}

const (
	passwordPrompt = "How do I reset my password?"
	passwordAnswer = `To reset your password:

1. Open **Settings → Account**.
2. Click **Reset password**.
3. Check your inbox for the reset link; it expires after 24 hours.

If the email doesn't arrive, check your spam folder or contact support.`
	customerPrompt = "Extract the customer from this ticket as JSON: 'Hi, I'm Ada Lovelace (ada@example.com), we're on the Pro plan with 5 seats.'"
	customerJSON   = `{"name": "Ada Lovelace", "email": "ada@example.com", "plan": "pro", "seats": 5}`
)

// TestScoreOrdersLikeAPerson checks the ordering a reviewer would give realistic pairs:
// identical = 1 > same answer reworded > format break > JSON key drift > refusal >
// truncation > unrelated answer.
func TestScoreOrdersLikeAPerson(t *testing.T) {
	cases := []struct {
		name     string
		prompt   string
		ref      string
		response string
		finish   []string
		flag     string // a flag the result must carry
	}{
		{"identical", passwordPrompt, passwordAnswer, passwordAnswer, nil, genai.FlagExactMatch},
		{"same answer reworded", passwordPrompt, passwordAnswer, `You can reset it in a few steps:

1. Go to **Settings → Account**.
2. Choose **Reset password**.
3. We'll email you a reset link, valid for 24 hours.

No email? Look in your spam folder or reach out to support.`, nil, ""},
		{"format break (markdown steps become prose)", passwordPrompt, passwordAnswer,
			"To reset your password, open Settings → Account and click Reset password. Check your inbox for the reset link; it expires after 24 hours. If the email doesn't arrive, check your spam folder or contact support.",
			nil, genai.FlagFormatChanged},
		{"JSON key drift", customerPrompt, customerJSON,
			`{"full_name": "Ada Lovelace", "email_address": "ada@example.com", "tier": "pro", "seats": 5}`, nil, genai.FlagKeyDrift},
		{"refusal", passwordPrompt, passwordAnswer, "I'm sorry, but I can't help with that request.", nil, genai.FlagRefusal},
		{"truncation", passwordPrompt, passwordAnswer, "To reset your password:\n\n1. Open **Settings → Account**.\n2. Click", []string{"length"}, genai.FlagTruncated},
		{"unrelated answer", passwordPrompt, passwordAnswer,
			"Our pricing has three tiers: Starter at $9/month, Team at $29/month and Enterprise with custom pricing. All plans include a 14-day free trial.", nil, ""},
	}
	prev := 2.0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestScorer()
			if q := s.Score("p1", "support / chat", llmCall(tc.prompt, tc.ref)); q.Method != MethodFirstSample {
				t.Fatalf("reference: method %q, want %q", q.Method, MethodFirstSample)
			}
			q := s.Score("p1", "support / chat", llmCall(tc.prompt, tc.response, tc.finish...))
			if q.Score == nil {
				t.Fatalf("score nil (method %s, reason %q)", q.Method, q.Reason)
			}
			got := *q.Score
			t.Logf("score %.3f method %s components %v flags %v reason %q", got, q.Method, q.Components, q.Flags, q.Reason)
			if tc.name == "identical" && got != 1 {
				t.Errorf("identical: got %v, want 1", got)
			}
			if got >= prev {
				t.Errorf("got %.3f, want below the previous case's %.3f", got, prev)
			}
			if got < 0 || got > 1 {
				t.Errorf("got %v, want within 0..1", got)
			}
			if tc.flag != "" && !contains(q.Flags, tc.flag) {
				t.Errorf("flags %v, want %q", q.Flags, tc.flag)
			}
			if q.Method != MethodPrompt || q.References != 1 {
				t.Errorf("method %s refs %d, want %s with 1 reference", q.Method, q.References, MethodPrompt)
			}
			prev = got
		})
	}
}

func TestScoreJSONBreaksBelowKeyDrift(t *testing.T) {
	score := func(resp string) float64 {
		s, _ := newTestScorer()
		s.Score("p", "e", llmCall(customerPrompt, customerJSON))
		q := s.Score("p", "e", llmCall(customerPrompt, resp))
		return *q.Score
	}
	same := score(`{"name":"Ada Lovelace","email":"ada@example.com","plan":"pro","seats":5}`)
	drift := score(`{"full_name": "Ada Lovelace", "email_address": "ada@example.com", "tier": "pro", "seats": 5}`)
	prose := score("The customer is Ada Lovelace (ada@example.com) on the Pro plan with 5 seats.")
	broken := score(`{"name": "Ada Lovelace", "email": "ada@example.com", "plan": "pro", "seats":`)
	fenced := score("```json\n" + customerJSON + "\n```")
	if !(same == 1 && fenced > drift && drift > prose && drift > broken) {
		t.Errorf("same %.3f fenced %.3f drift %.3f prose %.3f broken %.3f: want same = 1, fenced > drift > prose, broken", same, fenced, drift, prose, broken)
	}
}

func TestScoreColdStart(t *testing.T) {
	cases := []struct {
		name, response string
		finish         []string
		method         string
		score          *float64
		flag           string
	}{
		{"clean first sample is not scored", passwordAnswer, nil, MethodFirstSample, nil, ""},
		{"first sample refusal", "I cannot help with that.", nil, MethodAbsolute, ptr(scoreRefusal), genai.FlagRefusal},
		{"first sample empty", "  ", nil, MethodAbsolute, ptr(0), genai.FlagEmpty},
		{"first sample truncated", passwordAnswer[:40], []string{"max_tokens"}, MethodAbsolute, ptr(ceilTruncated), genai.FlagTruncated},
		{"first sample filtered", "", []string{"content_filter"}, MethodAbsolute, ptr(0), genai.FlagContentFilter},
		{"first sample broken JSON", `{"name": "Ada`, nil, MethodAbsolute, ptr(ceilBadJSON), genai.FlagInvalidJSON},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestScorer()
			q := s.Score("p", "e", llmCall(passwordPrompt, tc.response, tc.finish...))
			if q.Method != tc.method {
				t.Fatalf("method %q, want %q (reason %q)", q.Method, tc.method, q.Reason)
			}
			switch {
			case tc.score == nil && q.Score != nil:
				t.Errorf("score %v, want none", *q.Score)
			case tc.score != nil && (q.Score == nil || *q.Score != *tc.score):
				t.Errorf("score %v, want %v", q.Score, *tc.score)
			}
			if tc.flag != "" && !contains(q.Flags, tc.flag) {
				t.Errorf("flags %v, want %q", q.Flags, tc.flag)
			}
			if q.Reason == "" || q.Tier != genai.QualityTier1 || q.Sketch == 0 && tc.response != "" && tc.response != "  " {
				t.Errorf("reason %q tier %q sketch %x: want all set", q.Reason, q.Tier, q.Sketch)
			}
		})
	}
}

func TestScoreFailuresNeverBecomeReferences(t *testing.T) {
	s, _ := newTestScorer()
	s.Score("p", "e", llmCall(passwordPrompt, "I'm sorry, but I can't help with that."))
	q := s.Score("p", "e", llmCall(passwordPrompt, "I'm sorry, but I can't help with that."))
	if q.Method != MethodAbsolute || *q.Score != scoreRefusal {
		t.Errorf("second refusal: method %s score %v, want %s %v (a refusal is no reference)", q.Method, *q.Score, MethodAbsolute, scoreRefusal)
	}
}

func TestScoreEndpointReferences(t *testing.T) {
	s, _ := newTestScorer()
	for i, name := range []string{"Grace Hopper", "Alan Turing", "Edsger Dijkstra"} {
		p := fmt.Sprintf("Extract the customer from ticket %d as JSON", i)
		s.Score("p", "crm / extract", llmCall(p, fmt.Sprintf(`{"name": %q, "email": "x%d@example.com", "plan": "team", "seats": %d}`, name, i, i+2)))
	}
	newPrompt := "Extract the customer from ticket 99 as JSON"
	good := s.Score("p", "crm / extract", llmCall(newPrompt, `{"name": "Barbara Liskov", "email": "bl@example.com", "plan": "pro", "seats": 12}`))
	bad := s.Score("p", "crm / extract", llmCall(newPrompt+"!", "Sure! The customer is Barbara Liskov, her email is bl@example.com and she is on the Pro plan with 12 seats."))
	if good.Method != MethodEndpoint || good.References != 4-1 {
		t.Fatalf("method %s refs %d, want %s with 3", good.Method, good.References, MethodEndpoint)
	}
	if *good.Score < 0.8 || *bad.Score > 0.5 {
		t.Errorf("same-shape JSON %.3f (want ≥ 0.8), prose instead of JSON %.3f (want ≤ 0.5)", *good.Score, *bad.Score)
	}
	if !contains(bad.Flags, genai.FlagFormatChanged) {
		t.Errorf("flags %v, want %s", bad.Flags, genai.FlagFormatChanged)
	}
}

func TestScoreSpanRedeliveryIsNotItsOwnReference(t *testing.T) {
	s, _ := newTestScorer()
	sp := &genai.Span{ProjectID: "p", TraceID: "t1", SpanID: "s1", ServiceName: "support", Name: "chat", GenAI: llmCall(passwordPrompt, passwordAnswer)}
	for i := range 2 {
		if q := s.ScoreSpan(sp); q.Method != MethodFirstSample {
			t.Fatalf("delivery %d: method %s, want %s", i+1, q.Method, MethodFirstSample)
		}
	}
	other := *sp
	other.SpanID = "s2"
	if q := s.ScoreSpan(&other); q.Method != MethodPrompt || *q.Score != 1 {
		t.Errorf("another span: method %s score %v, want %s 1", q.Method, q.Score, MethodPrompt)
	}
}

func TestScoreBoundsAndAge(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}
	s := NewScorer(ScorerConfig{MaxEndpoints: 2, MaxPrompts: 2, RefsPerEndpoint: 2, RefsPerPrompt: 2, MaxAge: time.Hour}, c.now)
	for _, e := range []string{"a", "b", "c"} {
		s.Score("p", e, llmCall("prompt "+e, "answer "+e))
	}
	if s.endpoints.len() != 2 || s.prompts.len() != 2 {
		t.Fatalf("keys held: %d endpoints, %d prompts; want 2 and 2", s.endpoints.len(), s.prompts.len())
	}
	if q := s.Score("p", "a", llmCall("prompt a", "answer a")); q.Method != MethodFirstSample {
		t.Errorf("evicted endpoint: method %s, want %s", q.Method, MethodFirstSample)
	}
	for i := range 5 {
		s.Score("p", "d", llmCall("prompt d", fmt.Sprintf("answer number %d", i)))
	}
	if n := len(s.prompts.get("p\x00" + s.Score("p", "d", llmCall("prompt d", "x")).PromptHash)); n != 2 {
		t.Errorf("references per prompt: %d, want 2", n)
	}
	c.advance(2 * time.Hour)
	if q := s.Score("p", "d", llmCall("prompt d", "answer number 4")); q.Method != MethodFirstSample {
		t.Errorf("after MaxAge: method %s, want %s", q.Method, MethodFirstSample)
	}
}

func TestScoreNotApplicable(t *testing.T) {
	s, _ := newTestScorer()
	if q := s.Score("p", "e", &genai.Call{Type: genai.TypeTool}); q != nil {
		t.Errorf("tool call: got %+v, want nil", q)
	}
	if q := s.Score("p", "e", nil); q != nil {
		t.Errorf("nil call: got %+v, want nil", q)
	}
	failed := &genai.Call{Type: genai.TypeLLM, ErrorType: "rate_limit_error", InputMessages: []genai.Message{{Role: "user", Content: "hi"}}}
	if q := s.Score("p", "e", failed); q.Method != MethodNoOutput || q.Score != nil {
		t.Errorf("failed call: method %s score %v, want %s and no score", q.Method, q.Score, MethodNoOutput)
	}
	uncaptured := &genai.Call{Type: genai.TypeLLM, FinishReasons: []string{"stop"}, Usage: genai.Usage{OutputTokens: 120}}
	if q := s.Score("p", "e", uncaptured); q.Method != MethodNoContent || q.Score != nil || len(q.Flags) != 0 {
		t.Errorf("content not captured: method %s score %v flags %v, want %s, no score, no flag", q.Method, q.Score, q.Flags, MethodNoContent)
	}
}

func TestScoreConcurrent(t *testing.T) {
	s, _ := newTestScorer()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				q := s.Score("p", fmt.Sprintf("e%d", i%5), llmCall(fmt.Sprintf("prompt %d", i%7), fmt.Sprintf("answer %d from %d", i, g)))
				if q == nil || q.Tier != genai.QualityTier1 {
					t.Errorf("got %+v", q)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestEndpoint(t *testing.T) {
	sp := &genai.Span{ServiceName: "support", Name: "chat", Attributes: map[string]any{}}
	if got := Endpoint(sp); got != "support / chat" {
		t.Errorf("got %q", got)
	}
	sp.Name, sp.GenAI = "chat gpt-4o-mini", &genai.Call{Type: genai.TypeLLM, RequestModel: "gpt-4o-mini"}
	if got := Endpoint(sp); got != "support / chat" {
		t.Errorf("OTel span name with the model: got %q, want the model cut", got)
	}
	sp.Attributes["gen_ai.prompt.name"] = "reset-v2"
	if got := Endpoint(sp); got != "support / chat / reset-v2" {
		t.Errorf("got %q", got)
	}
}
