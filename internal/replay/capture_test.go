package replay

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

func llmSpan(mod func(c *genai.Call)) *genai.Span {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cost := 0.0021
	c := &genai.Call{Type: genai.TypeLLM, Operation: "chat", Provider: "anthropic", RequestModel: "claude-sonnet-4",
		SystemInstructions: "You are terse.",
		InputMessages: []genai.Message{
			{Role: "user", Content: "weather in Paris?"},
			{Role: "assistant", ToolCalls: []genai.ToolCall{{ID: "c1", Name: "weather", Arguments: `{"city":"Paris"}`}}},
			{Role: "tool", ToolCallID: "c1", Content: `{"temp":21}`},
		},
		OutputMessages: []genai.Message{{Role: "assistant", Content: "21 °C and sunny."}},
		RequestParams: map[string]any{"temperature": 0.2, "max_tokens": int64(300), "top_p": 0.9, "stop": []string{"END"},
			"response_format": "json_object"},
		ToolDefinitions: []any{map[string]any{"type": "function", "function": map[string]any{"name": "weather",
			"description": "Current weather", "parameters": map[string]any{"type": "object"}}}},
		Usage: genai.Usage{InputTokens: 120, OutputTokens: 9, Reported: true},
		Cost:  genai.Cost{TotalUSD: &cost},
	}
	if mod != nil {
		mod(c)
	}
	return &genai.Span{TraceID: "t1", SpanID: "s1", StartTime: t0, EndTime: t0.Add(1500 * time.Millisecond), GenAI: c}
}

func TestCaptureSpan(t *testing.T) {
	c := CaptureSpan(llmSpan(nil))
	if !c.Replayable || c.Reason != "" {
		t.Fatalf("got replayable %v (%s), want a faithful capture", c.Replayable, c.Reason)
	}
	if got := fmt.Sprintf("%s|%s|%s|%d|%v|%s|%v", c.Provider, c.Model, c.System, len(c.Messages), c.LatencyMS, c.Response, *c.CostUSD); got != "anthropic|claude-sonnet-4|You are terse.|3|1500|21 °C and sunny.|0.0021" {
		t.Errorf("got %s", got)
	}
	p := c.Params
	if *p.Temperature != 0.2 || *p.MaxTokens != 300 || *p.TopP != 0.9 || fmt.Sprint(p.Stop) != "[END]" || p.ResponseFormat != "json_object" {
		t.Errorf("params: got %+v", p)
	}
	if len(p.Tools) != 1 || p.Tools[0].Name != "weather" || string(p.Tools[0].Parameters) != `{"type":"object"}` {
		t.Errorf("tools: got %+v", p.Tools)
	}
	if c.Messages[1].ToolCalls[0].Arguments != `{"city":"Paris"}` || c.Messages[2].ToolCallID != "c1" {
		t.Errorf("tool call and result not kept: %+v", c.Messages)
	}
}

func TestCaptureNotReplayable(t *testing.T) {
	for _, tt := range []struct {
		name, want string
		mod        func(c *genai.Call)
	}{
		{"tool span", "not an LLM call", func(c *genai.Call) { c.Type = genai.TypeTool }},
		{"embeddings", "not a chat", func(c *genai.Call) { c.Operation = "embeddings" }},
		{"no messages", "no input messages", func(c *genai.Call) { c.InputMessages = nil }},
		{"partial", "incomplete", func(c *genai.Call) { c.ContentPartial = true }},
		{"cut message", "could not be parsed", func(c *genai.Call) { c.InputMessages[0].Raw = `[{"role":"user","con` }},
		{"image", `"image" part`, func(c *genai.Call) {
			c.InputMessages[0].Parts = []any{map[string]any{"type": "image", "url": "x"}}
		}},
		{"schema format", "json_schema", func(c *genai.Call) { c.RequestParams["response_format"] = map[string]any{"type": "json_schema"} }},
		{"bad tools", "tool definition 0", func(c *genai.Call) { c.ToolDefinitions = []any{"weather"} }},
		{"no model", "no model", func(c *genai.Call) { c.RequestModel = "" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := CaptureSpan(llmSpan(tt.mod))
			if c.Replayable || !strings.Contains(c.Reason, tt.want) {
				t.Errorf("got replayable %v reason %q, want not replayable because %q", c.Replayable, c.Reason, tt.want)
			}
		})
	}
	if c := CaptureSpan(&genai.Span{}); c.Replayable || c.Reason != "not a GenAI span" {
		t.Errorf("plain span: got %+v", c)
	}
}

func TestCaptureSystemFromMessagesIsNotDoubled(t *testing.T) {
	c := CaptureSpan(llmSpan(func(c *genai.Call) {
		c.SystemInstructions = "Be kind."
		c.Sources = map[string]string{"system_instructions": "input_messages"}
		c.InputMessages = append([]genai.Message{{Role: "system", Content: "Be kind."}}, c.InputMessages...)
	}))
	req := Overrides{}.request(&c)
	if req.System != "" || req.Messages[0].Role != "system" {
		t.Errorf("got system %q and first message %+v, want the system prompt once, as its message", req.System, req.Messages[0])
	}
	if got := originalSystem(&c); got != "Be kind." {
		t.Errorf("original system: got %q", got)
	}
}

func TestOverridesRequest(t *testing.T) {
	c := CaptureSpan(llmSpan(func(c *genai.Call) {
		c.InputMessages = append([]genai.Message{{Role: "developer", Content: "old rules"}}, c.InputMessages...)
		c.InputMessages = append(c.InputMessages, genai.Message{Role: "user", Content: "and tomorrow?"})
	}))
	sys, temp, maxTok := "New rules. {{original}}", 0.0, int64(50)
	o := Overrides{Model: "claude-haiku", SystemPrompt: &sys, PromptTemplate: "Answer in French: {{original}}", Temperature: &temp, MaxTokens: &maxTok}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	req := o.request(&c)
	if req.Model != "claude-haiku" || req.System != "New rules. You are terse.\n\nold rules" || *req.Temperature != 0 || req.MaxTokens != 50 {
		t.Errorf("got model %q system %q temp %v max %d", req.Model, req.System, *req.Temperature, req.MaxTokens)
	}
	if len(req.Messages) != 4 || req.Messages[0].Role != "user" || req.Messages[3].Content != "Answer in French: and tomorrow?" ||
		req.Messages[0].Content != "weather in Paris?" {
		t.Errorf("messages: got %+v, want the developer message dropped and only the last user message templated", req.Messages)
	}
	if !req.JSONObject || fmt.Sprint(req.Stop) != "[END]" || len(req.Tools) != 1 {
		t.Errorf("captured params not kept: %+v", req)
	}
	if c.Messages[len(c.Messages)-1].Content != "and tomorrow?" {
		t.Errorf("the capture was changed: %+v", c.Messages)
	}
	if p, m := (Overrides{BaseURL: "http://localhost:11434/v1"}).target(&Capture{Provider: "openai", Model: "gpt-4o"}); p != ProviderOpenAICompatible || m != "gpt-4o" {
		t.Errorf("base URL target: got %s %s", p, m)
	}
	for _, bad := range []Overrides{{Provider: "cohere"}, {PromptTemplate: "no variable"}, {BaseURL: "ftp://x"}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v): got nil, want an error", bad)
		}
	}
}
