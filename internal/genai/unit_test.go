package genai_test

import (
	"testing"

	"github.com/use-lumina/lumina/internal/genai"
)

func TestNormalizeProvider(t *testing.T) {
	cases := map[string]string{
		"openai": "openai", "OpenAI": "openai", "openai.chat": "openai", "openai.responses": "openai",
		"Anthropic": "anthropic", "anthropic.messages": "anthropic",
		"az.ai.openai": "azure.ai.openai", "Azure": "azure.ai.openai", "azure.chat": "azure.ai.openai",
		"az.ai.inference": "azure.ai.inference",
		"xai":             "x_ai", "x_ai": "x_ai", "gemini": "gcp.gemini", "google.generative-ai": "gcp.gemini",
		"vertex_ai": "gcp.vertex_ai", "vertexai": "gcp.vertex_ai", "google.vertex.chat": "gcp.vertex_ai",
		"mistralai": "mistral_ai", "MistralAI": "mistral_ai", "mistral.chat": "mistral_ai",
		"aws": "aws.bedrock", "AWS": "aws.bedrock", "amazon": "aws.bedrock", "bedrock": "aws.bedrock",
		"amazon-bedrock.chat": "aws.bedrock", "aws.bedrock": "aws.bedrock",
		"Cohere": "cohere", "groq": "groq", "ibm.watsonx.ai": "ibm.watsonx.ai", "moonshot_ai": "moonshot_ai",
		"spring_ai": "", "langchain": "", "": "", "some-new-llm": "some-new-llm",
	}
	for in, want := range cases {
		if got := genai.NormalizeProvider(in); got != want {
			t.Errorf("NormalizeProvider(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestProviderFromServerAddress(t *testing.T) {
	cases := []struct{ claimed, host, want string }{
		{"openai", "api.openai.com", "openai"},
		{"openai", "myres.openai.azure.com", "azure.ai.openai"},
		{"openai", "openrouter.ai", "openrouter"},
		{"openai", "api.groq.com", "groq"},
		{"openai", "127.0.0.1", "openai"},
		{"openai", "vllm.internal:8000", "openai"},
		{"", "generativelanguage.googleapis.com", "gcp.gemini"},
		{"", "us-central1-aiplatform.googleapis.com", "gcp.vertex_ai"},
		{"", "bedrock-runtime.us-east-1.amazonaws.com", "aws.bedrock"},
		{"anthropic", "openrouter.ai", "anthropic"}, // only an openai claim is re-read from the host
	}
	for _, c := range cases {
		attrs := map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": "m", "server.address": c.host}
		if c.claimed != "" {
			attrs["gen_ai.system"] = c.claimed
		}
		s := genai.Span{Attributes: attrs}
		genai.Normalize(&s)
		if s.GenAI.Provider != c.want {
			t.Errorf("claimed %q at %q: got %q, want %q", c.claimed, c.host, s.GenAI.Provider, c.want)
		}
	}
}

func TestNormalizeFinishReason(t *testing.T) {
	cases := map[string]string{
		"stop": "stop", "STOP": "stop", "end_turn": "stop", "tool_calls": "tool_call", "tool-calls": "tool_call",
		"tool_use": "tool_call", "max_tokens": "length", "MAX_TOKENS": "length", "content-filter": "content_filter",
		"SAFETY": "content_filter", "FinishReason.STOP": "stop", "error": "error", "weird": "weird",
	}
	for in, want := range cases {
		if got := genai.NormalizeFinishReason(in); got != want {
			t.Errorf("NormalizeFinishReason(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestClassification(t *testing.T) {
	cases := []struct {
		name  string
		attrs map[string]any
		scope string
		typ   string // "" for not GenAI
		op    string
	}{
		{"langfuse generation wins over gen_ai op", map[string]any{"langfuse.observation.type": "generation", "gen_ai.operation.name": "invoke_agent"}, "", genai.TypeLLM, "chat"},
		{"gen_ai chat", map[string]any{"gen_ai.operation.name": "chat"}, "", genai.TypeLLM, "chat"},
		{"gen_ai completion alias", map[string]any{"gen_ai.operation.name": "completion"}, "", genai.TypeLLM, "text_completion"},
		{"gen_ai generate alias", map[string]any{"gen_ai.operation.name": "generate"}, "", genai.TypeLLM, "generate_content"},
		{"gen_ai embeddings", map[string]any{"gen_ai.operation.name": "embeddings"}, "", genai.TypeEmbedding, "embeddings"},
		{"create_agent", map[string]any{"gen_ai.operation.name": "create_agent"}, "", genai.TypeAgent, "create_agent"},
		{"rerank", map[string]any{"gen_ai.operation.name": "rerank"}, "", genai.TypeRetrieval, "rerank"},
		{"OI LLM", map[string]any{"openinference.span.kind": "LLM"}, "", genai.TypeLLM, "chat"},
		{"OI guardrail", map[string]any{"openinference.span.kind": "GUARDRAIL"}, "", genai.TypeOther, "guardrail"},
		{"OI reranker", map[string]any{"openinference.span.kind": "RERANKER"}, "", genai.TypeRetrieval, "rerank"},
		{"llm.request.type embedding", map[string]any{"llm.request.type": "embedding"}, "", genai.TypeEmbedding, "embeddings"},
		{"vercel doGenerate", map[string]any{"ai.operationId": "ai.generateObject.doGenerate"}, "ai", genai.TypeLLM, "chat"},
		{"vercel operation.name prefix", map[string]any{"operation.name": "ai.embedMany.doEmbed fn"}, "ai", genai.TypeEmbedding, "embeddings"},
		{"vercel root streamObject", map[string]any{"ai.operationId": "ai.streamObject"}, "ai", genai.TypeAgent, "invoke_agent"},
		{"vercel rerank", map[string]any{"ai.operationId": "ai.rerank"}, "ai", genai.TypeRetrieval, "rerank"},
		{"traceloop workflow", map[string]any{"traceloop.span.kind": "workflow"}, "", genai.TypeWorkflow, "workflow"},
		{"tool attrs only", map[string]any{"gen_ai.tool.call.id": "c"}, "", genai.TypeTool, "execute_tool"},
		{"heuristic model+tokens", map[string]any{"gen_ai.request.model": "x", "gen_ai.usage.input_tokens": int64(1)}, "", genai.TypeLLM, "chat"},
		{"heuristic model+provider", map[string]any{"llm.model_name": "x", "llm.system": "openai"}, "", genai.TypeLLM, "chat"},
		{"model+framework provider only", map[string]any{"gen_ai.request.model": "x", "gen_ai.system": "spring_ai"}, "", "", ""},
		{"model alone", map[string]any{"gen_ai.request.model": "x"}, "", "", ""},
		{"nothing", map[string]any{"http.method": "GET"}, "", "", ""},
		{"langfuse span type alone", map[string]any{"langfuse.observation.type": "span"}, "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := genai.Span{Attributes: c.attrs, ScopeName: c.scope}
			genai.Normalize(&s)
			if c.typ == "" {
				if s.GenAI != nil {
					t.Fatalf("got type %q, want no GenAI view", s.GenAI.Type)
				}
				return
			}
			if s.GenAI == nil {
				t.Fatalf("got no GenAI view, want %s/%s", c.typ, c.op)
			}
			if s.GenAI.Type != c.typ || s.GenAI.Operation != c.op {
				t.Errorf("got %s/%s, want %s/%s", s.GenAI.Type, s.GenAI.Operation, c.typ, c.op)
			}
		})
	}
}

func TestCacheAccounting(t *testing.T) {
	cases := []struct {
		name                string
		scope               string
		attrs               map[string]any
		input, cr, cw, want int64
		mode                string
	}{
		{"no cache", "", map[string]any{"gen_ai.usage.input_tokens": int64(10)}, 10, 0, 0, 10, genai.CacheNone},
		{"inclusive default", "x", map[string]any{"gen_ai.usage.input_tokens": int64(100), "gen_ai.usage.cache_read.input_tokens": int64(80)}, 100, 80, 0, 100, genai.CacheInclusive},
		{"impossible if inclusive", "x", map[string]any{"gen_ai.usage.input_tokens": int64(5), "gen_ai.usage.cache_read.input_tokens": int64(80), "gen_ai.usage.cache_creation.input_tokens": int64(20)}, 5, 80, 20, 105, genai.CacheExclusive},
		{"openllmetry js anthropic", "@traceloop/instrumentation-anthropic", map[string]any{"gen_ai.usage.input_tokens": int64(50), "gen_ai.usage.cache_read.input_tokens": int64(10)}, 50, 10, 0, 60, genai.CacheExclusive},
		{"vercel anthropic legacy", "ai", map[string]any{"ai.model.provider": "anthropic.messages", "ai.usage.inputTokens": int64(50), "ai.usage.cachedInputTokens": int64(10)}, 50, 10, 0, 60, genai.CacheExclusive},
		{"vercel openai legacy", "ai", map[string]any{"ai.model.provider": "openai.chat", "ai.usage.inputTokens": int64(50), "ai.usage.cachedInputTokens": int64(10)}, 50, 10, 0, 50, genai.CacheInclusive},
		{"vercel v7 details", "ai", map[string]any{"ai.model.provider": "anthropic.messages", "ai.usage.inputTokens": int64(60), "ai.usage.inputTokenDetails.noCacheTokens": int64(50), "ai.usage.inputTokenDetails.cacheReadTokens": int64(10)}, 60, 10, 0, 60, genai.CacheInclusive},
		{"vercel v7 no-cache equals input", "ai", map[string]any{"ai.usage.inputTokens": int64(50), "ai.usage.inputTokenDetails.noCacheTokens": int64(50), "ai.usage.inputTokenDetails.cacheReadTokens": int64(10)}, 50, 10, 0, 60, genai.CacheExclusive},
		{"langfuse usage details", "", map[string]any{"langfuse.observation.usage_details": `{"input":10,"cache_read_input_tokens":30}`}, 10, 30, 0, 40, genai.CacheExclusive},
		{"openinference includes", "openinference.instrumentation.anthropic", map[string]any{"llm.token_count.prompt": int64(60), "llm.token_count.prompt_details.cache_read": int64(10)}, 60, 10, 0, 60, genai.CacheInclusive},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			attrs := map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"}
			for k, v := range c.attrs {
				attrs[k] = v
			}
			s := genai.Span{Attributes: attrs, ScopeName: c.scope}
			genai.Normalize(&s)
			u := s.GenAI.Usage
			if u.InputTokens != c.want || u.CacheReadTokens != c.cr || u.CacheWriteTokens != c.cw || u.CacheAccounting != c.mode {
				t.Errorf("got input %d cache read %d write %d accounting %q, want %d %d %d %q (sources %v)",
					u.InputTokens, u.CacheReadTokens, u.CacheWriteTokens, u.CacheAccounting, c.want, c.cr, c.cw, c.mode, s.GenAI.Sources)
			}
			if u.InputTokens < u.CacheReadTokens+u.CacheWriteTokens {
				t.Errorf("normalized input %d is below its cache tokens %d", u.InputTokens, u.CacheReadTokens+u.CacheWriteTokens)
			}
		})
	}
}

func TestNormalizeIsRepeatable(t *testing.T) {
	spans := loadTraces(t, "openllmetry-anthropic.traces.pb")
	genai.Normalize(&spans[0])
	first := *spans[0].GenAI
	genai.Normalize(&spans[0])
	if spans[0].GenAI.Usage != first.Usage {
		t.Errorf("second Normalize changed usage: %+v vs %+v", spans[0].GenAI.Usage, first.Usage)
	}
}
