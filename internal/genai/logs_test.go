package genai_test

import (
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

const (
	joinTrace = "0102030405060708090a0b0c0d0e0f10"
	joinSpan  = "1111111111111111"
)

var logT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func userLog(offset time.Duration, content string) genai.LogRecord {
	return genai.LogRecord{TraceID: joinTrace, SpanID: joinSpan, Time: logT0.Add(offset), EventName: "gen_ai.user.message",
		Body: map[string]any{"content": content}, Attributes: map[string]any{"gen_ai.system": "openai"}}
}

func choiceLog(offset time.Duration, content string) genai.LogRecord {
	return genai.LogRecord{TraceID: joinTrace, SpanID: joinSpan, Time: logT0.Add(offset),
		Attributes: map[string]any{"event.name": "gen_ai.choice"},
		Body: map[string]any{"index": int64(0), "finish_reason": "tool_calls", "message": map[string]any{"content": content},
			"tool_calls": []any{map[string]any{"id": "c1", "type": "function", "function": map[string]any{"name": "f", "arguments": "{}"}}}}}
}

func chatSpan(attrs map[string]any) genai.Span {
	a := map[string]any{"gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
		"gen_ai.usage.input_tokens": int64(3), "gen_ai.usage.output_tokens": int64(2)}
	for k, v := range attrs {
		a[k] = v
	}
	return genai.Span{TraceID: joinTrace, SpanID: joinSpan, Name: "chat gpt-4o", StartTime: logT0, Attributes: a}
}

func TestNormalizeLog(t *testing.T) {
	cases := []struct {
		name       string
		rec        genai.LogRecord
		output     bool
		role, text string
		outText    string
		source     string
	}{
		{"user body", userLog(0, "Hi"), false, "user", "Hi", "", "log:gen_ai.user.message"},
		{"choice via event.name attribute", choiceLog(0, "Yo"), true, "assistant", "Yo", "", "log:gen_ai.choice"},
		{"system body", genai.LogRecord{EventName: "gen_ai.system.message", Body: map[string]any{"content": "Rules"}}, false, "system", "Rules", "", "log:gen_ai.system.message"},
		{"tool body", genai.LogRecord{EventName: "gen_ai.tool.message", Body: map[string]any{"content": "42", "id": "c1"}}, false, "tool", "42", "", "log:gen_ai.tool.message"},
		{"assistant role override", genai.LogRecord{EventName: "gen_ai.assistant.message", Body: map[string]any{"content": "x", "role": "assistant"}}, false, "assistant", "x", "", "log:gen_ai.assistant.message"},
		{"string body", genai.LogRecord{EventName: "gen_ai.user.message", Body: "plain"}, false, "user", "plain", "", "log:gen_ai.user.message"},
		{"operation details in attributes", genai.LogRecord{EventName: "gen_ai.client.inference.operation.details", Attributes: map[string]any{
			"gen_ai.input.messages":  []any{map[string]any{"role": "user", "parts": []any{map[string]any{"type": "text", "content": "Q"}}}},
			"gen_ai.output.messages": `[{"role":"assistant","parts":[{"type":"text","content":"A"}],"finish_reason":"stop"}]`}},
			false, "user", "Q", "A", "log:gen_ai.client.inference.operation.details"},
		{"legacy content prompt", genai.LogRecord{EventName: "gen_ai.content.prompt", Attributes: map[string]any{"gen_ai.prompt": `[{"role":"user","content":"old"}]`}}, false, "user", "old", "", "log:gen_ai.content.prompt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.rec
			genai.NormalizeLog(&r)
			if len(r.Messages) != 1 {
				t.Fatalf("got %d messages, want 1", len(r.Messages))
			}
			m := r.Messages[0]
			if r.Output != c.output || m.Role != c.role || m.Content != c.text || m.Source != c.source {
				t.Errorf("got output %v %s %q from %q, want %v %s %q from %q", r.Output, m.Role, m.Content, m.Source, c.output, c.role, c.text, c.source)
			}
			if c.outText != "" && (len(r.OutputMessages) != 1 || r.OutputMessages[0].Content != c.outText) {
				t.Errorf("got output messages %+v, want %q", r.OutputMessages, c.outText)
			}
		})
	}
	t.Run("tool calls and finish reason on choice", func(t *testing.T) {
		r := choiceLog(0, "")
		genai.NormalizeLog(&r)
		m := r.Messages[0]
		if len(m.ToolCalls) != 1 || m.ToolCalls[0].Name != "f" || m.FinishReason != "tool_calls" {
			t.Errorf("got %+v, want tool call f and finish reason tool_calls", m)
		}
	})
	t.Run("non-GenAI record untouched", func(t *testing.T) {
		r := genai.LogRecord{EventName: "app.log", Body: "hello"}
		genai.NormalizeLog(&r)
		if r.Messages != nil {
			t.Errorf("got messages %+v, want none", r.Messages)
		}
	})
	t.Run("exception record", func(t *testing.T) {
		r := genai.LogRecord{EventName: "gen_ai.client.operation.exception", Attributes: map[string]any{"exception.type": "Timeout", "exception.message": "slow"}}
		genai.NormalizeLog(&r)
		if r.ErrorType != "Timeout" || r.ErrorMessage != "slow" {
			t.Errorf("got %q %q, want Timeout slow", r.ErrorType, r.ErrorMessage)
		}
	})
}

func TestAttachLogs(t *testing.T) {
	t.Run("logs before and after the span, in time order", func(t *testing.T) {
		spans := []genai.Span{chatSpan(nil)}
		genai.Normalize(&spans[0])
		// Arrival order differs from log time order: the reply arrived first in the batch.
		logs := []genai.LogRecord{choiceLog(900*time.Millisecond, "Reply"), userLog(2*time.Millisecond, "Second"), userLog(time.Millisecond, "First")}
		genai.AttachLogs(spans, logs)
		c := spans[0].GenAI
		if len(c.InputMessages) != 2 || c.InputMessages[0].Content != "First" || c.InputMessages[1].Content != "Second" {
			t.Fatalf("got input %+v, want First then Second", c.InputMessages)
		}
		if len(c.OutputMessages) != 1 || c.OutputMessages[0].Content != "Reply" || c.OutputMessages[0].Source != "log:gen_ai.choice" {
			t.Fatalf("got output %+v, want Reply from log:gen_ai.choice", c.OutputMessages)
		}
		if c.Sources["input_messages"] != "log:gen_ai.user.message" {
			t.Errorf("got input source %q", c.Sources["input_messages"])
		}
		if c.Usage.InputTokens != 3 {
			t.Errorf("joining logs changed usage: %+v", c.Usage)
		}
		// Joining again (the read path may) changes nothing.
		genai.AttachLogs(spans, logs)
		if len(spans[0].GenAI.InputMessages) != 2 {
			t.Errorf("second join: got %d input messages, want 2", len(spans[0].GenAI.InputMessages))
		}
	})
	t.Run("span attributes win over logs", func(t *testing.T) {
		spans := []genai.Span{chatSpan(map[string]any{
			"gen_ai.input.messages": `[{"role":"user","parts":[{"type":"text","content":"from span"}]}]`})}
		genai.Normalize(&spans[0])
		genai.AttachLogs(spans, []genai.LogRecord{userLog(0, "from log"), choiceLog(time.Millisecond, "reply from log")})
		c := spans[0].GenAI
		if len(c.InputMessages) != 1 || c.InputMessages[0].Content != "from span" {
			t.Errorf("got input %+v, want the span's own message", c.InputMessages)
		}
		if len(c.OutputMessages) != 1 || c.OutputMessages[0].Content != "reply from log" {
			t.Errorf("got output %+v, want the log reply (the span had no output)", c.OutputMessages)
		}
	})
	t.Run("span without GenAI view gets a call", func(t *testing.T) {
		spans := []genai.Span{{TraceID: joinTrace, SpanID: joinSpan, Name: "POST /v1/chat/completions", Attributes: map[string]any{"http.method": "POST"}}}
		genai.Normalize(&spans[0])
		if spans[0].GenAI != nil {
			t.Fatal("HTTP span should not be GenAI before the join")
		}
		genai.AttachLogs(spans, []genai.LogRecord{userLog(0, "hi")})
		c := spans[0].GenAI
		if c == nil || c.Type != genai.TypeLLM || c.Provider != "openai" || len(c.InputMessages) != 1 || c.Counted {
			t.Fatalf("got %+v, want an uncounted llm call from openai with one message", c)
		}
	})
	t.Run("orphans are left alone", func(t *testing.T) {
		spans := []genai.Span{chatSpan(nil)}
		genai.Normalize(&spans[0])
		orphan := userLog(0, "lost")
		orphan.SpanID = "2222222222222222"
		logs := []genai.LogRecord{orphan}
		genai.AttachLogs(spans, logs)
		if len(spans[0].GenAI.InputMessages) != 0 {
			t.Errorf("orphan joined a different span: %+v", spans[0].GenAI.InputMessages)
		}
		if logs[0].Messages != nil {
			t.Errorf("orphan record was modified")
		}
	})
	t.Run("exception log fills the error", func(t *testing.T) {
		spans := []genai.Span{chatSpan(nil)}
		genai.Normalize(&spans[0])
		genai.AttachLogs(spans, []genai.LogRecord{{TraceID: joinTrace, SpanID: joinSpan, EventName: "gen_ai.client.operation.exception",
			Attributes: map[string]any{"exception.type": "Timeout", "exception.message": "slow"}}})
		if c := spans[0].GenAI; c.ErrorType != "Timeout" || !strings.Contains(c.ErrorMessage, "slow") {
			t.Errorf("got error %q %q, want Timeout slow", c.ErrorType, c.ErrorMessage)
		}
	})
}
