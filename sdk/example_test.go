package lumina_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	lumina "github.com/use-lumina/lumina/sdk"
)

// fakeOpenAI stands in for api.openai.com so the examples run offline.
func fakeOpenAI() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"chatcmpl-1","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,`+
			`"message":{"role":"assistant","content":"Bonjour !"},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":12,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":0}}}`)
	}))
}

// Init with the environment: LUMINA_ENDPOINT, LUMINA_API_KEY, LUMINA_SERVICE_NAME and the
// standard OTEL_* variables fill every field left zero.
func ExampleInit() {
	ctx := context.Background()
	lc, err := lumina.Init(ctx, lumina.Config{ServiceName: "checkout", Environment: "production"})
	if err != nil {
		log.Fatal(err)
	}
	defer lc.Shutdown(ctx) // exports what is still queued

	// Pass lc.HTTPClient() to openai-go or anthropic-sdk-go with option.WithHTTPClient.
	_ = lc.HTTPClient()
}

// The instrumented HTTP client records a span for each model call; the application reads the
// response unchanged.
func ExampleClient_HTTPClient() {
	provider := fakeOpenAI()
	defer provider.Close()
	mem := tracetest.NewInMemoryExporter()
	ctx := context.Background()
	lc, _ := lumina.Init(ctx, lumina.Config{Endpoint: lumina.EndpointNone, KeepGlobal: true,
		Exporters: []sdktrace.SpanExporter{mem}})
	defer lc.Shutdown(ctx)

	resp, err := lc.HTTPClient().Post(provider.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello in French."}]}`))
	if err != nil {
		log.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	lc.Flush(ctx)
	for _, s := range mem.GetSpans() {
		fmt.Println(s.Name)
		for _, kv := range s.Attributes {
			switch kv.Key {
			case "gen_ai.provider.name", "gen_ai.response.model", "gen_ai.usage.input_tokens",
				"gen_ai.usage.output_tokens", "gen_ai.output.messages":
				fmt.Printf("  %s = %s\n", kv.Key, kv.Value.Emit())
			}
		}
	}
	// Output:
	// chat gpt-4o-mini
	//   gen_ai.provider.name = openai
	//   gen_ai.response.model = gpt-4o-mini-2024-07-18
	//   gen_ai.usage.input_tokens = 12
	//   gen_ai.usage.output_tokens = 3
	//   gen_ai.output.messages = [{"role":"assistant","parts":[{"type":"text","content":"Bonjour !"}],"finish_reason":"stop"}]
}

// A RAG pipeline as one trace: the workflow span is the parent of retrieval, reranking and the
// model call, which TraceLLM records for a model the transport cannot see.
func ExampleClient_Trace() {
	mem := tracetest.NewInMemoryExporter()
	ctx := context.Background()
	lc, _ := lumina.Init(ctx, lumina.Config{Endpoint: lumina.EndpointNone, KeepGlobal: true,
		Exporters: []sdktrace.SpanExporter{mem}})
	defer lc.Shutdown(ctx)

	ctx = lumina.WithSession(ctx, "conversation-42")
	_ = lc.Trace(ctx, "qa", func(ctx context.Context) error {
		_ = lc.Trace(ctx, "retrieve", func(context.Context) error { return nil }, lumina.Retrieval("docs"))
		_ = lc.Trace(ctx, "rerank", func(context.Context) error { return nil }, lumina.Rerank())
		return lc.TraceLLM(ctx, lumina.LLMRequest{Provider: "gcp.vertex_ai", Model: "gemini-2.5-flash",
			Messages: []lumina.Message{lumina.Text("user", "What is Lumina?")}},
			func(ctx context.Context) (lumina.LLMResponse, error) {
				return lumina.LLMResponse{Usage: lumina.Usage{InputTokens: 40, OutputTokens: 9},
					Output: []lumina.Message{lumina.Text("assistant", "An LLM observability platform.")}}, nil
			})
	}, lumina.Workflow("qa"))

	lc.Flush(ctx)
	for _, s := range mem.GetSpans() {
		session := ""
		for _, kv := range s.Attributes {
			if kv.Key == "session.id" {
				session = kv.Value.AsString()
			}
		}
		fmt.Println(s.Name, session)
	}
	// Output:
	// retrieve conversation-42
	// rerank conversation-42
	// chat gemini-2.5-flash conversation-42
	// qa conversation-42
}

// RedactPatterns scrubs content before it leaves the process.
func ExampleRedactPatterns() {
	redact := lumina.RedactPatterns("[redacted]",
		regexp.MustCompile(`[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-z]{2,}`),
		regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`))
	fmt.Println(redact("gen_ai.input.messages", `[{"role":"user","parts":[{"type":"text","content":"I am ada@example.com, SSN 123-45-6789"}]}]`))
	// Output:
	// [{"role":"user","parts":[{"type":"text","content":"I am [redacted], SSN [redacted]"}]}]
}
