package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	lumina "github.com/use-lumina/lumina/sdk"
	"go.opentelemetry.io/otel/trace"
)

// fakeOpenAI plays OpenAI Chat Completions: a plain answer, or an SSE stream when asked.
func fakeOpenAI(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		if strings.Contains(string(body), `"stream":true`) {
			w.Header().Set("Content-Type", "text/event-stream")
			for _, ev := range []string{
				`{"id":"chatcmpl-s","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"role":"assistant","content":"Par"},"finish_reason":null}],"usage":null}`,
				`{"id":"chatcmpl-s","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"is."},"finish_reason":"stop"}],"usage":null}`,
				`{"id":"chatcmpl-s","model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":500,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":400}}}`,
				`[DONE]`,
			} {
				_, _ = io.WriteString(w, "data: "+ev+"\n\n")
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"chatcmpl-p","object":"chat.completion","model":"gpt-4o-mini-2024-07-18",`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris."},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":1000,"completion_tokens":100,"total_tokens":1100}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestSDKEndToEnd sends calls through the Go SDK's instrumented HTTP client to a running Lumina
// and reads them back through the API: model, tokens, messages, cost, counting and identity.
func TestSDKEndToEnd(t *testing.T) {
	a := startTestApp(t)
	provider := fakeOpenAI(t)
	ctx := context.Background()
	c, err := lumina.Init(ctx, lumina.Config{
		Endpoint: "http://" + a.addr("otlp-http"), ServiceName: "sdk-e2e", Environment: "test", KeepGlobal: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown(ctx)

	ctx = lumina.WithSession(lumina.WithUser(ctx, "user-1"), "session-1")
	ctx = lumina.WithTags(ctx, "e2e")
	ctx, root := c.Start(ctx, "answer", lumina.Workflow("qa"))
	client := c.HTTPClient()
	for _, body := range []string{
		`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Capital of France?"}]}`,
		`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Again?"}]}`,
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, provider.URL+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(resp.Body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	root.End(nil)
	if err := c.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}

	tr := a.waitTrace(root.SpanContext().TraceID().String(), 3)
	if tr.LLMCallCount != 2 || tr.InputTokens != 1500 || tr.OutputTokens != 120 || tr.CacheRead != 400 {
		t.Errorf("trace: %d LLM calls, tokens %d in / %d out / %d cache read; want 2, 1500/120/400",
			tr.LLMCallCount, tr.InputTokens, tr.OutputTokens, tr.CacheRead)
	}
	if tr.CostUSD == nil || *tr.CostUSD <= 0 {
		t.Errorf("trace cost %v, want > 0", tr.CostUSD)
	}
	if tr.ServiceName != "sdk-e2e" || tr.Name != "answer" {
		t.Errorf("trace service %q name %q, want sdk-e2e answer", tr.ServiceName, tr.Name)
	}
	calls := 0
	for _, s := range tr.Spans {
		if s.Attributes["session.id"] != "session-1" || s.Attributes["user.id"] != "user-1" {
			t.Errorf("span %s: session %v user %v, want session-1 user-1", s.Name, s.Attributes["session.id"], s.Attributes["user.id"])
		}
		g := s.GenAI
		if g == nil || g.Type != "llm" {
			continue
		}
		calls++
		if s.Name != "chat gpt-4o-mini" || g.Provider != "openai" || g.RequestModel != "gpt-4o-mini" ||
			g.ResponseModel != "gpt-4o-mini-2024-07-18" || !g.Counted {
			t.Errorf("span %s: provider %q model %q/%q counted %v", s.Name, g.Provider, g.RequestModel, g.ResponseModel, g.Counted)
		}
		if g.CostUSD == nil || *g.CostUSD <= 0 || g.CostSource != "computed" {
			t.Errorf("span %s: cost %v (%s), want > 0 computed", s.Name, g.CostUSD, g.CostSource)
		}
		if len(g.OutputMessages) != 1 || g.OutputMessages[0].Role != "assistant" {
			t.Fatalf("span %s: output messages %+v", s.Name, g.OutputMessages)
		}
		switch g.InputTokens {
		case 1000:
			if g.OutputTokens != 100 || len(g.InputMessages) != 2 || g.InputMessages[1].Content != "Capital of France?" ||
				g.OutputMessages[0].Content != "The capital of France is Paris." {
				t.Errorf("plain call: %+v", g)
			}
		case 500:
			if g.OutputTokens != 20 || g.CacheRead != 400 || g.InputMessages[0].Content != "Again?" ||
				g.OutputMessages[0].Content != "Paris." {
				t.Errorf("streamed call: %+v", g)
			}
		default:
			t.Errorf("span %s: %d input tokens, want 1000 or 500", s.Name, g.InputTokens)
		}
	}
	if calls != 2 {
		t.Errorf("got %d LLM spans, want 2", calls)
	}
}

// TestSDKGRPCAndTraceLLM exports over OTLP/gRPC a model call recorded with TraceLLM (one the
// transport cannot see), with a client-reported cost.
func TestSDKGRPCAndTraceLLM(t *testing.T) {
	a := startTestApp(t)
	ctx := context.Background()
	c, err := lumina.Init(ctx, lumina.Config{
		Endpoint: "http://" + a.addr("otlp-grpc"), Protocol: lumina.ProtocolGRPC, ServiceName: "sdk-grpc", KeepGlobal: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var traceID string
	err = c.TraceLLM(ctx, lumina.LLMRequest{Provider: "anthropic", Model: "claude-haiku-4-5",
		Messages: []lumina.Message{lumina.Text("user", "Hello")}},
		func(ctx context.Context) (lumina.LLMResponse, error) {
			traceID = traceIDOf(ctx)
			return lumina.LLMResponse{ResponseModel: "claude-haiku-4-5-20251001", FinishReasons: []string{"end_turn"},
				Output: []lumina.Message{lumina.Text("assistant", "Hi!")},
				Usage:  lumina.Usage{InputTokens: 30, OutputTokens: 5}}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(ctx); err != nil { // Shutdown flushes
		t.Fatalf("shutdown: %v", err)
	}
	tr := a.waitTrace(traceID, 1)
	g := tr.Spans[0].GenAI
	if g == nil || g.Provider != "anthropic" || g.InputTokens != 30 || g.OutputTokens != 5 || !g.Counted ||
		g.CostUSD == nil || len(g.OutputMessages) != 1 || g.OutputMessages[0].Content != "Hi!" {
		t.Fatalf("span genai: %+v", g)
	}
	if st := c.Stats(); st.Exported != 1 || st.Dropped != 0 || st.Failed != 0 {
		t.Errorf("stats %+v, want 1 exported", st)
	}
}

func traceIDOf(ctx context.Context) string {
	return trace.SpanContextFromContext(ctx).TraceID().String()
}
