package llm

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/llm/llmtest"
)

// sleeps records the retry waits instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func testConfig(url string, sl *sleeps) Config {
	return Config{
		AnthropicAPIKey: "sk-ant-test", AnthropicBaseURL: url,
		OpenAIAPIKey: "sk-test", OpenAIBaseURL: url,
		Timeout: 2 * time.Second,
		Retry:   Retry{MaxAttempts: 3, Sleep: sl.sleep},
	}
}

func f(x float64) *float64 { return &x }

// replayRequest is what replay sends: a system prompt, a conversation with a tool call and
// its result, sampling parameters and a tool.
var replayRequest = Request{
	Model:  "test-model",
	System: "You are a terse assistant.",
	Messages: []Message{
		{Role: "user", Content: "What's the weather in Paris?"},
		{Role: "assistant", ToolCalls: []ToolCall{{ID: "call_1", Name: "weather", Arguments: `{"city":"Paris"}`}}},
		{Role: "tool", ToolCallID: "call_1", Content: "18°C, sunny"},
		{Role: "user", Content: "Answer in one word."},
	},
	MaxTokens:   256,
	Temperature: f(0.2),
	Stop:        []string{"END"},
	Tools:       []Tool{{Name: "weather", Description: "Current weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}},
}

func jsonEq(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	g, _ := json.Marshal(got)
	var gv any
	_ = json.Unmarshal(g, &gv)
	if !reflect.DeepEqual(gv, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, want)
	}
}

func TestAnthropicRequestBody(t *testing.T) {
	srv := llmtest.New(t, llmtest.AnthropicText("claude-haiku-4-5-20251001", "Sunny.", 120, 3))
	var sl sleeps
	c, err := NewAnthropic(testConfig(srv.URL, &sl))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Chat(context.Background(), replayRequest)
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/v1/messages" {
		t.Fatalf("requests %+v, want one POST /v1/messages", reqs)
	}
	b := reqs[0].Body
	if b["model"] != "test-model" || b["max_tokens"] != 256.0 {
		t.Errorf("model %v max_tokens %v", b["model"], b["max_tokens"])
	}
	if _, ok := b["temperature"]; ok {
		t.Errorf("temperature sent: API 2026-10-21 rejects it")
	}
	jsonEq(t, "system", b["system"], `[{"type":"text","text":"You are a terse assistant."}]`)
	jsonEq(t, "stop_sequences", b["stop_sequences"], `["END"]`)
	jsonEq(t, "messages", b["messages"], `[
		{"role":"user","content":[{"type":"text","text":"What's the weather in Paris?"}]},
		{"role":"assistant","content":[{"type":"tool_use","id":"call_1","name":"weather","input":{"city":"Paris"}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","is_error":false,"content":[{"type":"text","text":"18°C, sunny"}]},{"type":"text","text":"Answer in one word."}]}
	]`)
	jsonEq(t, "tools", b["tools"], `[{"name":"weather","description":"Current weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]`)
	if auth := reqs[0].Header.Get("Authorization") + reqs[0].Header.Get("X-Api-Key"); !strings.Contains(auth, "sk-ant-test") {
		t.Errorf("no API key in the request headers: %v", reqs[0].Header)
	}
	if resp.Text != "Sunny." || resp.Model != "claude-haiku-4-5-20251001" || resp.FinishReason != "stop" || resp.Attempts != 1 {
		t.Errorf("response %+v", resp)
	}
	if resp.Usage.InputTokens != 120 || resp.Usage.OutputTokens != 3 || resp.Usage.TotalTokens != 123 {
		t.Errorf("usage %+v", resp.Usage)
	}
	if !reflect.DeepEqual(resp.Dropped, []string{"temperature"}) {
		t.Errorf("dropped %v, want [temperature]", resp.Dropped)
	}
}

func TestOpenAIRequestBody(t *testing.T) {
	for _, provider := range []string{ProviderOpenAI, ProviderOpenAICompatible} {
		t.Run(provider, func(t *testing.T) {
			srv := llmtest.New(t, llmtest.OpenAIText("gpt-4o-mini-2024-07-18", "Sunny.", 90, 2))
			var sl sleeps
			c, err := testConfig(srv.URL, &sl).New(provider, "")
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Chat(context.Background(), replayRequest)
			if err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || reqs[0].Path != "/chat/completions" {
				t.Fatalf("requests %+v, want one POST /chat/completions", reqs)
			}
			b := reqs[0].Body
			if b["model"] != "test-model" || b["temperature"] != 0.2 {
				t.Errorf("model %v temperature %v", b["model"], b["temperature"])
			}
			bound := "max_completion_tokens"
			if provider == ProviderOpenAICompatible {
				bound = "max_tokens"
			}
			if b[bound] != 256.0 {
				t.Errorf("%s = %v, want 256 (body %s)", bound, b[bound], reqs[0].Raw)
			}
			jsonEq(t, "messages", b["messages"], `[
				{"role":"system","content":"You are a terse assistant."},
				{"role":"user","content":"What's the weather in Paris?"},
				{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}}]},
				{"role":"tool","tool_call_id":"call_1","content":"18°C, sunny"},
				{"role":"user","content":"Answer in one word."}
			]`)
			jsonEq(t, "stop", b["stop"], `["END"]`)
			jsonEq(t, "tools", b["tools"], `[{"type":"function","function":{"name":"weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]`)
			if got := reqs[0].Header.Get("Authorization"); got != "Bearer sk-test" {
				t.Errorf("Authorization %q", got)
			}
			if resp.Text != "Sunny." || resp.Usage.InputTokens != 90 || resp.Usage.OutputTokens != 2 || resp.Provider != provider || len(resp.Dropped) != 0 {
				t.Errorf("response %+v", resp)
			}
		})
	}
}

func TestRetryAndClassification(t *testing.T) {
	type mk func(url string, sl *sleeps) (Client, error)
	anth := func(url string, sl *sleeps) (Client, error) { return NewAnthropic(testConfig(url, sl)) }
	oai := func(url string, sl *sleeps) (Client, error) { return NewOpenAI(testConfig(url, sl)) }
	cases := []struct {
		name      string
		client    mk
		replies   []llmtest.Reply
		wantErr   bool
		retryable bool
		status    int
		calls     int
		waits     []time.Duration // exact waits, when Retry-After fixed them
	}{
		{"anthropic 429 Retry-After then success", anth, []llmtest.Reply{llmtest.AnthropicError(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", "7"), llmtest.AnthropicText("m", "ok", 1, 1)}, false, false, 0, 2, []time.Duration{7 * time.Second}},
		{"openai 429 Retry-After then success", oai, []llmtest.Reply{llmtest.OpenAIError(429, "rate_limit_exceeded", "Rate limit reached", "3"), llmtest.OpenAIText("m", "ok", 1, 1)}, false, false, 0, 2, []time.Duration{3 * time.Second}},
		{"anthropic 529 overloaded, every attempt", anth, []llmtest.Reply{llmtest.AnthropicError(529, "overloaded_error", "Overloaded", "")}, true, true, 529, 3, nil},
		{"openai 500 then success", oai, []llmtest.Reply{llmtest.OpenAIError(500, "server_error", "The server had an error", ""), llmtest.OpenAIText("m", "ok", 1, 1)}, false, false, 0, 2, nil},
		{"anthropic 400 is permanent", anth, []llmtest.Reply{llmtest.AnthropicError(400, "invalid_request_error", "temperature: Extra inputs are not permitted", "")}, true, false, 400, 1, []time.Duration{}},
		{"openai 401 is permanent", oai, []llmtest.Reply{llmtest.OpenAIError(401, "invalid_api_key", "Incorrect API key provided", "")}, true, false, 401, 1, []time.Duration{}},
		{"retry-after beyond MaxDelay ends retries", anth, []llmtest.Reply{llmtest.AnthropicError(429, "rate_limit_error", "slow down", "3600")}, true, true, 429, 1, []time.Duration{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.New(t, tc.replies...)
			var sl sleeps
			c, err := tc.client(srv.URL, &sl)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Chat(context.Background(), Request{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}})
			if got := len(srv.Requests()); got != tc.calls {
				t.Errorf("provider saw %d requests, want %d", got, tc.calls)
			}
			if tc.waits != nil && !reflect.DeepEqual(sl.d, tc.waits) && !(len(sl.d) == 0 && len(tc.waits) == 0) {
				t.Errorf("waits %v, want %v", sl.d, tc.waits)
			}
			if !tc.wantErr {
				if err != nil || resp.Text != "ok" || resp.Attempts != tc.calls {
					t.Errorf("got %+v, %v; want ok after %d attempts", resp, err, tc.calls)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v, want *llm.Error", err)
			}
			if e.Retryable != tc.retryable || e.StatusCode != tc.status || IsRetryable(err) != tc.retryable {
				t.Errorf("error %v: retryable %v status %d, want %v %d", e, e.Retryable, e.StatusCode, tc.retryable, tc.status)
			}
		})
	}
}

func TestTimeoutIsRetryable(t *testing.T) {
	srv := llmtest.New(t, llmtest.Reply{Delay: 5 * time.Second, Body: "{}"})
	var sl sleeps
	cfg := testConfig(srv.URL, &sl)
	cfg.Timeout = 50 * time.Millisecond
	cfg.Retry.MaxAttempts = 2
	c, _ := NewOpenAI(cfg)
	_, err := c.Chat(context.Background(), Request{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}})
	var e *Error
	if !errors.As(err, &e) || !e.Retryable || e.StatusCode != 0 || e.Attempts != 2 {
		t.Fatalf("got %v, want a retryable timeout after 2 attempts", err)
	}
	// The caller's own cancellation is never retryable.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	cfg.Timeout = time.Minute
	c, _ = NewOpenAI(cfg)
	_, err = c.Chat(ctx, Request{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}})
	if IsRetryable(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("caller deadline: got %v, want permanent context.DeadlineExceeded", err)
	}
}

func TestMissingKey(t *testing.T) {
	cases := []struct{ provider, variable string }{{ProviderAnthropic, "ANTHROPIC_API_KEY"}, {ProviderOpenAI, "OPENAI_API_KEY"}}
	for _, tc := range cases {
		_, err := Config{}.New(tc.provider, "")
		if !errors.Is(err, ErrMissingKey) || !strings.Contains(err.Error(), tc.variable) {
			t.Errorf("%s: got %v, want ErrMissingKey naming %s", tc.provider, err, tc.variable)
		}
	}
	if _, err := (Config{}).New(ProviderOpenAICompatible, ""); err == nil || !strings.Contains(err.Error(), "OPENAI_BASE_URL") {
		t.Errorf("compatible without base URL: got %v", err)
	}
	if _, err := (Config{}).New(ProviderOpenAICompatible, "http://localhost:11434/v1"); err != nil {
		t.Errorf("compatible without key: got %v, want a client (local servers need no key)", err)
	}
	cfg := ConfigFromEnv(func(k string) string { return map[string]string{"ANTHROPIC_API_KEY": "a", "OPENAI_BASE_URL": "u"}[k] })
	if cfg.AnthropicAPIKey != "a" || cfg.OpenAIBaseURL != "u" {
		t.Errorf("ConfigFromEnv: %+v", cfg)
	}
}

func TestEmbed(t *testing.T) {
	srv := llmtest.New(t, llmtest.OpenAIEmbeddings("text-embedding-3-small", []float64{1, 0}, []float64{0, 1}))
	var sl sleeps
	c, _ := NewOpenAI(testConfig(srv.URL, &sl))
	vecs, err := c.Embed(context.Background(), []string{"a", "b"})
	if err != nil || len(vecs) != 2 || vecs[1][1] != 1 {
		t.Fatalf("got %v, %v", vecs, err)
	}
	b := srv.Requests()[0].Body
	if srv.Requests()[0].Path != "/embeddings" || b["model"] != "text-embedding-3-small" || b["encoding_format"] != "float" {
		t.Errorf("request %s %s", srv.Requests()[0].Path, srv.Requests()[0].Raw)
	}
}
