package qualityllm

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/llm"
	"github.com/use-lumina/lumina/internal/llm/llmtest"
	"github.com/use-lumina/lumina/internal/quality"
)

const verdict = `{"similarity": 0.71, "hallucination": false, "tone_drift": false, "factual_error": true, "refusal": false, "reason": "Gives a 12-hour link expiry; the reference says 24 hours."}`

var job = quality.Job{
	ProjectID:  "p1",
	Prompt:     "user: how do i reset my password?",
	References: []string{"Open Settings → Account, click Reset password; the link expires after 24 hours."},
	Response:   "Open Settings, then Account, and press Reset password. The link is valid for 12 hours.",
	Trigger:    quality.TriggerBorderline,
}

// price is a stand-in for internal/cost: $1/M in and $5/M out for Claude Haiku 4.5,
// $0.15/M and $0.60/M for GPT-4o mini.
func price(_, model string, u genai.Usage) (float64, bool) {
	switch {
	case strings.HasPrefix(model, "claude-haiku-4-5"):
		return float64(u.InputTokens)*1e-6 + float64(u.OutputTokens)*5e-6, true
	case strings.HasPrefix(model, "gpt-4o-mini"):
		return float64(u.InputTokens)*0.15e-6 + float64(u.OutputTokens)*0.6e-6, true
	}
	return 0, false
}

type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

type provider struct {
	name, model string
	ok          func(text string) llmtest.Reply
	rateLimited llmtest.Reply
	serverError llmtest.Reply
	path        string
}

var providers = []provider{
	{
		name: llm.ProviderAnthropic, model: "claude-haiku-4-5",
		ok: func(text string) llmtest.Reply {
			return llmtest.AnthropicText("claude-haiku-4-5-20251001", text, 900, 60)
		},
		rateLimited: llmtest.AnthropicError(429, "rate_limit_error", "This request would exceed your rate limit", "2"),
		serverError: llmtest.AnthropicError(500, "api_error", "Internal server error", ""),
		path:        "/v1/messages",
	},
	{
		name: llm.ProviderOpenAI, model: "gpt-4o-mini",
		ok:          func(text string) llmtest.Reply { return llmtest.OpenAIText("gpt-4o-mini-2024-07-18", text, 900, 60) },
		rateLimited: llmtest.OpenAIError(429, "rate_limit_exceeded", "Rate limit reached for gpt-4o-mini", "2"),
		serverError: llmtest.OpenAIError(500, "server_error", "The server had an error while processing your request", ""),
		path:        "/chat/completions",
	},
}

func newJudge(t *testing.T, p provider, srv *llmtest.Server, w *waits, cfg quality.JudgeConfig) *quality.Judge {
	t.Helper()
	cfg.Provider, cfg.Model = p.name, p.model
	lc := llm.Config{AnthropicAPIKey: "sk-ant-test", AnthropicBaseURL: srv.URL, OpenAIAPIKey: "sk-test", OpenAIBaseURL: srv.URL,
		Timeout: 300 * time.Millisecond, Retry: llm.Retry{MaxAttempts: 3, Sleep: w.sleep}}
	j, err := NewJudge(cfg, lc, "", price, nil, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestJudgeEndToEnd(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			cases := []struct {
				name     string
				replies  []llmtest.Reply
				cfg      quality.JudgeConfig
				status   string
				retryErr bool // Evaluate's error asks for a later retry
				calls    int
				waits    []time.Duration
			}{
				{"success", []llmtest.Reply{p.ok(verdict)}, quality.JudgeConfig{}, genai.JudgeScored, false, 1, nil},
				{"malformed then valid", []llmtest.Reply{p.ok("The responses are fairly similar."), p.ok(verdict)}, quality.JudgeConfig{}, genai.JudgeScored, false, 2, nil},
				{"malformed twice", []llmtest.Reply{p.ok(`{"similarity": 0.7}`), p.ok("0.7")}, quality.JudgeConfig{}, genai.JudgeFailed, false, 2, nil},
				{"429 with Retry-After, then success", []llmtest.Reply{p.rateLimited, p.ok(verdict)}, quality.JudgeConfig{}, genai.JudgeScored, false, 2, []time.Duration{2 * time.Second}},
				{"500 on every attempt", []llmtest.Reply{p.serverError}, quality.JudgeConfig{}, genai.JudgeFailed, true, 3, nil},
				{"timeout on every attempt", []llmtest.Reply{{Delay: 5 * time.Second, Body: "{}"}}, quality.JudgeConfig{}, genai.JudgeFailed, true, 3, nil},
				{"budget exhausted", []llmtest.Reply{p.ok(verdict)}, quality.JudgeConfig{DailyBudgetUSD: 1e-7}, genai.JudgeOverBudget, false, 0, nil},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					srv := llmtest.New(t, tc.replies...)
					var w waits
					j := newJudge(t, p, srv, &w, tc.cfg)
					got, err := j.Evaluate(context.Background(), job)
					if got.Status != tc.status || (err != nil) != tc.retryErr {
						t.Fatalf("got %+v, err %v; want status %s, retry error %v", got, err, tc.status, tc.retryErr)
					}
					if tc.retryErr && !llm.IsRetryable(err) {
						t.Errorf("error %v is not a retryable llm.Error", err)
					}
					if n := len(srv.Requests()); n != tc.calls {
						t.Errorf("provider saw %d requests, want %d", n, tc.calls)
					}
					if tc.waits != nil && !equalDurations(w.d, tc.waits) {
						t.Errorf("waits %v, want %v (Retry-After)", w.d, tc.waits)
					}
					switch got.Status {
					case genai.JudgeScored:
						if *got.Similarity != 0.71 || !got.FactualError || got.Hallucination || got.Reason == "" || got.CostUSD == nil || *got.CostUSD <= 0 {
							t.Errorf("verdict %+v", got)
						}
					case genai.JudgeFailed, genai.JudgeOverBudget:
						if got.Similarity != nil {
							t.Errorf("similarity %v on a %s judgement: no invented score", *got.Similarity, got.Status)
						}
					}
				})
			}
		})
	}
}

func TestJudgeRequestAndCacheHit(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			srv := llmtest.New(t, p.ok(verdict))
			var w waits
			j := newJudge(t, p, srv, &w, quality.JudgeConfig{MaxTokens: 200})
			first, err := j.Evaluate(context.Background(), job)
			if err != nil || first.Status != genai.JudgeScored {
				t.Fatalf("got %+v, %v", first, err)
			}
			second, err := j.Evaluate(context.Background(), job)
			if err != nil || !second.Cached || *second.Similarity != *first.Similarity || *second.CostUSD != 0 {
				t.Errorf("second: %+v, %v; want a free cache hit", second, err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || reqs[0].Path != p.path {
				t.Fatalf("requests %d (%v); want one to %s", len(reqs), reqs, p.path)
			}
			b := reqs[0].Body
			if b["model"] != p.model {
				t.Errorf("model %v, want %s", b["model"], p.model)
			}
			msgs, _ := b["messages"].([]any)
			var system, user string
			switch p.name {
			case llm.ProviderAnthropic:
				if b["max_tokens"] != 200.0 {
					t.Errorf("max_tokens %v, want 200", b["max_tokens"])
				}
				sys, _ := b["system"].([]any)
				if len(sys) == 1 {
					system, _ = sys[0].(map[string]any)["text"].(string)
				}
				if len(msgs) == 1 {
					blocks, _ := msgs[0].(map[string]any)["content"].([]any)
					if len(blocks) == 1 {
						user, _ = blocks[0].(map[string]any)["text"].(string)
					}
				}
			case llm.ProviderOpenAI:
				if b["max_completion_tokens"] != 200.0 {
					t.Errorf("max_completion_tokens %v, want 200", b["max_completion_tokens"])
				}
				if rf, _ := b["response_format"].(map[string]any); rf["type"] != "json_object" {
					t.Errorf("response_format %v, want json_object", b["response_format"])
				}
				if len(msgs) == 2 {
					system, _ = msgs[0].(map[string]any)["content"].(string)
					user, _ = msgs[1].(map[string]any)["content"].(string)
				}
			}
			if !strings.Contains(system, `"similarity"`) || !strings.Contains(user, job.References[0]) || !strings.Contains(user, job.Response) {
				t.Errorf("system %q / user %q: want the judge contract and the texts (body %s)", system, user, reqs[0].Raw)
			}
		})
	}
}

func TestNewJudgeWithoutKey(t *testing.T) {
	j, err := NewJudge(quality.JudgeConfig{}, llm.Config{}, "", price, nil, time.Now)
	if !errors.Is(err, llm.ErrMissingKey) || !strings.Contains(err.Error(), "ANTHROPIC_API_KEY") || j == nil {
		t.Fatalf("got %v, %v; want a not-configured judge and an error naming ANTHROPIC_API_KEY", j, err)
	}
	got, err := j.Evaluate(context.Background(), job)
	if err != nil || got.Status != genai.JudgeNotConfigured || got.Similarity != nil {
		t.Errorf("got %+v, %v", got, err)
	}
	if _, err := NewJudge(quality.JudgeConfig{Provider: "mistral", Model: "x"}, llm.Config{}, "", price, nil, time.Now); err == nil || errors.Is(err, llm.ErrMissingKey) {
		t.Errorf("unknown provider: got %v", err)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
