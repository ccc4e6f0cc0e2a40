package genai_test

import (
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// benchSpan is a realistic OpenLLMetry chat span: semconv usage and JSON messages.
func benchSpan() genai.Span {
	return genai.Span{
		Name: "chat gpt-4o", Kind: "client", ScopeName: "@traceloop/instrumentation-openai",
		Attributes: map[string]any{
			"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
			"gen_ai.response.model": "gpt-4o-2024-08-06", "gen_ai.response.id": "chatcmpl-abc",
			"gen_ai.response.finish_reasons": []any{"stop"}, "gen_ai.request.temperature": 0.2, "gen_ai.request.max_tokens": int64(512),
			"gen_ai.usage.input_tokens": int64(1200), "gen_ai.usage.output_tokens": int64(300),
			"gen_ai.usage.cache_read.input_tokens": int64(1000), "gen_ai.usage.total_tokens": int64(1500),
			"gen_ai.input.messages":   `[{"role":"system","parts":[{"type":"text","content":"You are a helpful assistant."}]},{"role":"user","parts":[{"type":"text","content":"Tell me about Paris in two sentences."}]}]`,
			"gen_ai.output.messages":  `[{"role":"assistant","finish_reason":"stop","parts":[{"type":"text","content":"Paris is the capital of France. It is known for the Eiffel Tower."}]}]`,
			"traceloop.workflow.name": "answer_question", "server.address": "api.openai.com", "server.port": int64(443),
		},
		Resource: map[string]any{"service.name": "svc", "deployment.environment.name": "prod"},
	}
}

// cpuTime is the process's user+system CPU time: on a shared, overloaded machine wall time
// per op mostly measures waiting for a core, so the benchmarks also report cpu-ns/op.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}

func BenchmarkNormalize(b *testing.B) {
	s := benchSpan()
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		genai.Normalize(&s)
	}
	reportCPU(b, start)
	if s.GenAI == nil || s.GenAI.Usage.InputTokens != 1200 {
		b.Fatalf("unexpected result %+v", s.GenAI)
	}
}

func BenchmarkNormalizeNonGenAI(b *testing.B) {
	s := genai.Span{Name: "GET /health", Attributes: map[string]any{"http.request.method": "GET", "url.path": "/health",
		"http.response.status_code": int64(200), "server.address": "localhost"}}
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		genai.Normalize(&s)
	}
	reportCPU(b, start)
}

// BenchmarkReferenceJSONUnmarshal decodes one of benchSpan's message attributes with
// encoding/json: a yardstick for reading BenchmarkNormalize on a machine of unknown speed.
func BenchmarkReferenceJSONUnmarshal(b *testing.B) {
	raw := []byte(benchSpan().Attributes["gen_ai.input.messages"].(string))
	start := cpuTime()
	for b.Loop() {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}
