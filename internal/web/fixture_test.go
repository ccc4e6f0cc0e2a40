package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/cost"
	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/store/sqlite"
)

// testNow is the injected clock: every page renders the same bytes on every run.
var testNow = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// xssPayload is a hostile prompt: rendered anywhere, it must show as text and run nothing.
const xssPayload = `<script>alert("xss")</script><img src=x onerror=alert(1)>"'&`

func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir()+"/lumina.db", nil)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newCalculator(t testing.TB, st *sqlite.Store) *cost.Calculator {
	t.Helper()
	table, err := cost.Builtin()
	if err != nil {
		t.Fatalf("load price table: %v", err)
	}
	return cost.NewCalculator(table, st, func() time.Time { return testNow })
}

// testServer is a dashboard over a real SQLite store, behind an httptest server.
type testServer struct {
	*httptest.Server
	store *sqlite.Store
	web   *Server
}

func newTestServer(t testing.TB, now func() time.Time, mut func(*Config)) *testServer {
	t.Helper()
	st := openStore(t)
	cfg := Config{
		Now:    now,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
		Join:   genai.AttachLogs,
		Providers: []Provider{
			{Name: "Anthropic", EnvVar: "ANTHROPIC_API_KEY", Configured: true, Used: "quality judge and replay"},
			{Name: "OpenAI", EnvVar: "OPENAI_API_KEY", BaseURL: "https://llm.internal/v1", Used: "replay"},
		},
		LivePoll:   50 * time.Millisecond,
		LiveMaxAge: 3 * time.Second,
	}
	if mut != nil {
		mut(&cfg)
	}
	w := New(cfg, st, newCalculator(t, st))
	mux := http.NewServeMux()
	w.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, store: st, web: w}
}

// tid and sid are deterministic ids that look like real, random ones.
func tid(n int) string { return hexOf("trace", n, 32) }
func sid(n int) string { return hexOf("span", n, 16) }

func hexOf(kind string, n, size int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s-%d", kind, n)))
	return hex.EncodeToString(sum[:])[:size]
}
func f64(v float64) *float64 { return &v }

// ragTrace is a RAG pipeline: a workflow root, a retrieval, a chat call with a system
// prompt, a tool call and its result, and a final answer. prompt is the user's question.
func ragTrace(n int, start time.Time, service, prompt string, fail bool) []genai.Span {
	mk := func(id, parent int, name, kind string, off, d time.Duration) genai.Span {
		s := genai.Span{ProjectID: "default", TraceID: tid(n), SpanID: sid(n*10 + id), Name: name, Kind: kind,
			ServiceName: service, StartTime: start.Add(off), EndTime: start.Add(off + d), StatusCode: genai.StatusOK,
			Attributes: map[string]any{"http.route": "/answer"}, Resource: map[string]any{"service.name": service},
			ScopeName: "lumina-test", ScopeVersion: "1.0"}
		if parent != 0 {
			s.ParentSpanID = sid(n*10 + parent)
		}
		return s
	}
	root := mk(1, 0, "answer_question", "server", 0, 1800*time.Millisecond)
	root.GenAI = &genai.Call{Type: genai.TypeWorkflow, Operation: "workflow", SessionID: fmt.Sprintf("sess-%d", n%3), UserID: "u-42"}
	ret := mk(2, 1, "vector_search", "internal", 20*time.Millisecond, 180*time.Millisecond)
	ret.GenAI = &genai.Call{Type: genai.TypeRetrieval, Operation: "retrieval", RetrievalQuery: prompt, DataSource: "pgvector",
		RetrievalDocuments: []genai.Document{{ID: "doc-7", Content: "OpenTelemetry is a CNCF project for traces, metrics and logs.", Score: f64(0.91)}}}
	chat := mk(3, 1, "chat gpt-4o", "client", 220*time.Millisecond, 900*time.Millisecond)
	chat.Attributes["gen_ai.request.model"] = "gpt-4o"
	chat.GenAI = &genai.Call{Type: genai.TypeLLM, Operation: "chat", Provider: "openai", RequestModel: "gpt-4o", ResponseModel: "gpt-4o-2024-08-06",
		Usage:              genai.Usage{InputTokens: 1200, OutputTokens: 150, CacheReadTokens: 200, TotalTokens: 1350, Reported: true, CacheAccounting: genai.CacheInclusive},
		Cost:               genai.Cost{TotalUSD: f64(0.004), InputUSD: 0.0025, CacheReadUSD: 0.00025, OutputUSD: 0.0015, Source: genai.CostComputed, PriceID: "openai/gpt-4o", PriceSource: "litellm"},
		SystemInstructions: "You are a concise assistant. Cite your sources.",
		InputMessages:      []genai.Message{{Role: "user", Content: prompt}},
		OutputMessages: []genai.Message{{Role: "assistant", FinishReason: "tool_calls",
			ToolCalls: []genai.ToolCall{{ID: "call_1", Name: "lookup_docs", Arguments: `{"topic":"otel"}`}}}},
		RequestParams: map[string]any{"temperature": 0.2, "max_tokens": 512.0},
		Sources:       map[string]string{"input_tokens": "gen_ai.usage.input_tokens", "output_tokens": "gen_ai.usage.output_tokens"},
		Quality: &genai.Quality{Score: f64(0.62), Tier: genai.QualityTier2, Method: "tier2:judge", Reason: "drops the citation the references give",
			Flags: []string{"factual_error"}, Components: map[string]float64{"similarity": 0.71, "length_ratio": 0.9}, References: 3,
			Endpoint: "docs-bot/chat gpt-4o", Judge: &genai.Judgement{Status: "done", Similarity: f64(0.62), FactualError: true,
				Reason: "drops the citation the references give", Trigger: "borderline", Provider: "anthropic", Model: "claude-haiku-4-5", CostUSD: f64(0.0004)}},
	}
	tool := mk(4, 1, "execute_tool lookup_docs", "internal", 1130*time.Millisecond, 120*time.Millisecond)
	tool.GenAI = &genai.Call{Type: genai.TypeTool, Operation: "execute_tool", Tool: &genai.Tool{Name: "lookup_docs", CallID: "call_1", Arguments: `{"topic":"otel"}`, Result: "3 documents"}}
	final := mk(5, 1, "chat claude-haiku-4-5", "client", 1260*time.Millisecond, 520*time.Millisecond)
	final.GenAI = &genai.Call{Type: genai.TypeLLM, Operation: "chat", Provider: "anthropic", RequestModel: "claude-haiku-4-5",
		Usage:          genai.Usage{InputTokens: 800, OutputTokens: 90, TotalTokens: 890, Reported: true},
		Cost:           genai.Cost{TotalUSD: f64(0.00125), InputUSD: 0.0008, OutputUSD: 0.00045, Source: genai.CostComputed},
		InputMessages:  []genai.Message{{Role: "user", Content: prompt}, {Role: "tool", ToolCallID: "call_1", Content: "3 documents"}},
		OutputMessages: []genai.Message{{Role: "assistant", Content: "OpenTelemetry is an open standard for telemetry. [doc-7]", FinishReason: "end_turn"}},
	}
	if fail {
		final.StatusCode, final.StatusMessage = genai.StatusError, "upstream 529 overloaded"
		final.Events = []genai.Event{{Time: final.StartTime.Add(500 * time.Millisecond), Name: "exception",
			Attributes: map[string]any{"exception.type": "OverloadedError", "exception.message": "overloaded"}}}
	}
	return []genai.Span{root, ret, chat, tool, final}
}

// unpricedTrace is one chat call to a model no price table knows.
func unpricedTrace(n int, start time.Time) []genai.Span {
	return []genai.Span{{ProjectID: "default", TraceID: tid(n), SpanID: sid(n * 10), Name: "chat acme-llm-7b", Kind: "client",
		ServiceName: "batch-jobs", StartTime: start, EndTime: start.Add(2300 * time.Millisecond), StatusCode: genai.StatusOK,
		GenAI: &genai.Call{Type: genai.TypeLLM, Operation: "chat", Provider: "acme", RequestModel: "acme-llm-7b",
			Usage: genai.Usage{InputTokens: 400, OutputTokens: 100, TotalTokens: 500, Reported: true}, Cost: genai.Cost{Source: genai.CostUnpriced},
			InputMessages: []genai.Message{{Role: "user", Content: "Summarize the nightly report"}}}}}
}

// seed writes a realistic project: RAG traces across the last day (one failing), an
// unpriced model, an XSS payload in a prompt and in a span and service name, and one trace
// in another project.
func seed(t testing.TB, st store.Writer) {
	t.Helper()
	var spans []genai.Span
	for i := 1; i <= 12; i++ {
		start := testNow.Add(-time.Duration(i) * 97 * time.Minute)
		svc := "rag-api"
		if i%3 == 0 {
			svc = "support-bot"
		}
		spans = append(spans, ragTrace(i, start, svc, fmt.Sprintf("What is OpenTelemetry? (question %d)", i), i == 4)...)
	}
	spans = append(spans, unpricedTrace(20, testNow.Add(-40*time.Minute))...)
	spans = append(spans, ragTrace(21, testNow.Add(-5*time.Minute), "rag-api", xssPayload, false)...)
	hostile := unpricedTrace(22, testNow.Add(-50*time.Minute))
	hostile[0].Name, hostile[0].ServiceName = xssPayload, xssPayload
	spans = append(spans, hostile...)
	// The previous window, for the deltas.
	for i := 30; i < 36; i++ {
		spans = append(spans, ragTrace(i, testNow.Add(-30*time.Hour-time.Duration(i)*time.Minute), "rag-api", "older question", false)...)
	}
	other := ragTrace(40, testNow.Add(-10*time.Minute), "other-project-svc", "not yours", false)
	for i := range other {
		other[i].ProjectID = "someone-else"
	}
	spans = append(spans, other...)
	if err := st.Write(context.Background(), store.Batch{Spans: spans}); err != nil {
		t.Fatalf("seed: %v", err)
	}
}
