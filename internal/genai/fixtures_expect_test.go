package genai_test

import (
	"testing"

	"github.com/use-lumina/lumina/internal/genai"
)

// TestFixtureExpectations checks the numbers fixtures/README.md promises for each fixture.
func TestFixtureExpectations(t *testing.T) {
	type want struct {
		typ                        string
		provider, model            string
		input, output, cacheRead   int64
		cacheAccounting            string
		firstInput, firstOutput    string
		inputCount, outputMessages int
	}
	cases := []struct {
		file  string
		logs  string
		spans map[string]want // by span name + index suffix
	}{
		{file: "otel-genai-openai.traces.pb", logs: "otel-genai-openai.logs.pb", spans: map[string]want{
			"13c46efa9ee10971": {typ: genai.TypeLLM, provider: "openai", model: "gpt-4o-mini", input: 11, output: 7,
				firstInput: "What is the capital of France?", firstOutput: "Paris is the capital of France.", inputCount: 1, outputMessages: 1},
			"2eabd2212939cd58": {typ: genai.TypeLLM, provider: "openai", model: "gpt-4o-mini", input: 11, output: 7,
				firstInput: "Be brief.", firstOutput: "Paris is the capital of France.", inputCount: 2, outputMessages: 1},
			"ce61d42c868f0cf7": {typ: genai.TypeEmbedding, provider: "openai", model: "text-embedding-3-small", input: 5},
		}},
		{file: "openllmetry-openai.traces.pb", spans: map[string]want{
			"f36480bc7603811a": {typ: genai.TypeLLM, provider: "openai", model: "gpt-4o", input: 120, output: 30,
				firstInput: "Tell me about Paris.", firstOutput: "Paris is the capital of France.", inputCount: 1, outputMessages: 1},
		}},
		{file: "openllmetry-anthropic.traces.pb", spans: map[string]want{
			"08f11a95b807287a": {typ: genai.TypeLLM, provider: "anthropic", model: "claude-haiku-4-5-20251001",
				input: 60, output: 20, cacheRead: 10, cacheAccounting: genai.CacheExclusive,
				firstInput: "Summarise.", firstOutput: "Paris is the capital of France.", inputCount: 1, outputMessages: 1},
		}},
		{file: "openllmetry-workflow.traces.pb", spans: map[string]want{
			"8b39072528dc7018": {typ: genai.TypeWorkflow},
		}},
		{file: "openinference-openai.traces.json", spans: map[string]want{
			"0b1597990ca82709": {typ: genai.TypeLLM, provider: "openai", model: "gpt-4.1-mini", input: 200, output: 50,
				firstInput: "Name a French city.", firstOutput: "Paris is the capital of France.", inputCount: 1, outputMessages: 1},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			spans := loadTraces(t, tc.file)
			normalizeAll(spans)
			if tc.logs != "" {
				genai.AttachLogs(spans, loadLogs(t, tc.logs))
			}
			if len(spans) != len(tc.spans) {
				t.Fatalf("got %d spans, want %d", len(spans), len(tc.spans))
			}
			for _, s := range spans {
				w, ok := tc.spans[s.SpanID]
				if !ok {
					t.Fatalf("unexpected span %s %q", s.SpanID, s.Name)
				}
				c := s.GenAI
				if c == nil {
					t.Fatalf("span %s: no GenAI view", s.SpanID)
				}
				if c.Type != w.typ || c.Provider != w.provider || c.Model() != w.model {
					t.Errorf("span %s: got type %q provider %q model %q, want %q %q %q",
						s.SpanID, c.Type, c.Provider, c.Model(), w.typ, w.provider, w.model)
				}
				u := c.Usage
				if u.InputTokens != w.input || u.OutputTokens != w.output || u.CacheReadTokens != w.cacheRead {
					t.Errorf("span %s: got input %d output %d cache read %d, want %d %d %d",
						s.SpanID, u.InputTokens, u.OutputTokens, u.CacheReadTokens, w.input, w.output, w.cacheRead)
				}
				if w.cacheAccounting != "" && u.CacheAccounting != w.cacheAccounting {
					t.Errorf("span %s: got cache accounting %q, want %q", s.SpanID, u.CacheAccounting, w.cacheAccounting)
				}
				if len(c.InputMessages) != w.inputCount || len(c.OutputMessages) != w.outputMessages {
					t.Fatalf("span %s: got %d input / %d output messages, want %d / %d",
						s.SpanID, len(c.InputMessages), len(c.OutputMessages), w.inputCount, w.outputMessages)
				}
				if w.inputCount > 0 && c.InputMessages[0].Content != w.firstInput {
					t.Errorf("span %s: got first input %q, want %q", s.SpanID, c.InputMessages[0].Content, w.firstInput)
				}
				if w.outputMessages > 0 && c.OutputMessages[0].Content != w.firstOutput {
					t.Errorf("span %s: got first output %q, want %q", s.SpanID, c.OutputMessages[0].Content, w.firstOutput)
				}
				if c.Counted != u.Reported {
					t.Errorf("span %s: Counted %v, want Usage.Reported %v", s.SpanID, c.Counted, u.Reported)
				}
			}
		})
	}
}

// TestWorkflowRollup puts the three OpenLLMetry spans of one trace through Rollup: the
// workflow parent is not an LLM call, the two chats are, and both count.
func TestWorkflowRollup(t *testing.T) {
	var spans []genai.Span
	for _, f := range []string{"openllmetry-workflow.traces.pb", "openllmetry-openai.traces.pb", "openllmetry-anthropic.traces.pb"} {
		spans = append(spans, loadTraces(t, f)...)
	}
	normalizeAll(spans)
	sums := make([]genai.SpanSummary, len(spans))
	for i := range spans {
		sums[i] = genai.Summarize(&spans[i])
	}
	tr := genai.Rollup("test", spans[0].TraceID, sums)
	if tr.SpanCount != 3 || tr.LLMCallCount != 2 {
		t.Fatalf("got %d spans, %d LLM calls, want 3, 2", tr.SpanCount, tr.LLMCallCount)
	}
	if tr.Usage.InputTokens != 180 || tr.Usage.OutputTokens != 50 || tr.Usage.CacheReadTokens != 10 {
		t.Errorf("got usage %+v, want input 180 (120+60), output 50, cache read 10", tr.Usage)
	}
	if tr.Name != "answer_question.workflow" {
		t.Errorf("got trace name %q, want answer_question.workflow", tr.Name)
	}
	for _, s := range sums {
		if want := s.Type == genai.TypeLLM; s.Counted != want {
			t.Errorf("span %s (%s): counted %v, want %v", s.SpanID, s.Type, s.Counted, want)
		}
	}
}

// TestRollupCountsOnce checks that an agent aggregate over its step and a wrapper over the
// SDK span it wraps are each counted once, on the innermost span.
func TestRollupCountsOnce(t *testing.T) {
	mk := func(id, parent, scope string, attrs map[string]any) genai.Span {
		return genai.Span{TraceID: joinTrace, SpanID: id, ParentSpanID: parent, ScopeName: scope, Attributes: attrs}
	}
	cases := []struct {
		name     string
		spans    []genai.Span
		input    int64
		llmCalls int
		counted  map[string]bool
	}{
		{
			name: "vercel root aggregate over its step",
			spans: []genai.Span{
				mk("aaaaaaaaaaaaaaa1", "", "ai", map[string]any{"ai.operationId": "ai.generateText", "ai.model.id": "gpt-4o",
					"ai.usage.promptTokens": int64(100), "ai.usage.completionTokens": int64(30)}),
				mk("aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa1", "ai", map[string]any{"ai.operationId": "ai.generateText.doGenerate",
					"ai.model.id": "gpt-4o", "ai.usage.promptTokens": int64(100), "ai.usage.completionTokens": int64(30)}),
			},
			input: 100, llmCalls: 1, counted: map[string]bool{"aaaaaaaaaaaaaaa1": false, "aaaaaaaaaaaaaaa2": true},
		},
		{
			name: "litellm wrapper over the openai sdk span",
			spans: []genai.Span{
				mk("bbbbbbbbbbbbbbb1", "", "litellm", map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
					"gen_ai.usage.input_tokens": int64(12), "gen_ai.usage.output_tokens": int64(4)}),
				mk("bbbbbbbbbbbbbbb2", "bbbbbbbbbbbbbbb1", "opentelemetry.instrumentation.openai", map[string]any{
					"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
					"gen_ai.usage.input_tokens": int64(12), "gen_ai.usage.output_tokens": int64(4)}),
			},
			input: 12, llmCalls: 1, counted: map[string]bool{"bbbbbbbbbbbbbbb1": false, "bbbbbbbbbbbbbbb2": true},
		},
		{
			name: "agent aggregate counts when nothing below reports usage",
			spans: []genai.Span{
				mk("ccccccccccccccc1", "", "", map[string]any{"gen_ai.operation.name": "invoke_agent", "gen_ai.request.model": "gpt-4o",
					"gen_ai.usage.input_tokens": int64(50), "gen_ai.usage.output_tokens": int64(5)}),
				mk("ccccccccccccccc2", "ccccccccccccccc1", "", map[string]any{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "f"}),
			},
			input: 50, llmCalls: 0, counted: map[string]bool{"ccccccccccccccc1": true, "ccccccccccccccc2": false},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			normalizeAll(c.spans)
			sums := make([]genai.SpanSummary, len(c.spans))
			for i := range c.spans {
				sums[i] = genai.Summarize(&c.spans[i])
			}
			tr := genai.Rollup("test", joinTrace, sums)
			if tr.Usage.InputTokens != c.input || tr.LLMCallCount != c.llmCalls {
				t.Errorf("got input %d, %d LLM calls, want %d, %d", tr.Usage.InputTokens, tr.LLMCallCount, c.input, c.llmCalls)
			}
			for _, s := range sums {
				if s.Counted != c.counted[s.SpanID] {
					t.Errorf("span %s (%s): counted %v, want %v", s.SpanID, s.Type, s.Counted, c.counted[s.SpanID])
				}
			}
		})
	}
}
