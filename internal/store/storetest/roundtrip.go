package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// fullSpan is an LLM span with every field set, attributes of every JSON type included.
func fullSpan(p string, tr int) genai.Span {
	return genai.Span{
		ProjectID:     p,
		TraceID:       traceID(tr),
		SpanID:        spanID(2),
		ParentSpanID:  spanID(1),
		TraceState:    "vendor=a,other=b",
		Name:          "chat gpt-4o",
		Kind:          "client",
		ServiceName:   "checkout",
		StartTime:     at(10 * time.Millisecond),
		EndTime:       at(1210*time.Millisecond + 7),
		StatusCode:    genai.StatusError,
		StatusMessage: "rate limited <429> & \"quoted\"",
		Attributes: map[string]any{
			"gen_ai.request.model":   "gpt-4o",
			"gen_ai.usage.input_tok": 1200.0,
			"ratio":                  0.125,
			"negative":               -3.5,
			"stream":                 true,
			"disabled":               false,
			"nothing":                nil,
			"list":                   []any{"a", 2.0, true, nil, []any{"nested"}, map[string]any{"k": "v"}},
			"empty_list":             []any{},
			"object":                 map[string]any{"a": map[string]any{"b": []any{1.0, 2.0}}, "s": "x"},
			"empty_object":           map[string]any{},
			"unicode":                "héllo 世界 \u2028 😀",
			"html":                   "<script>alert('x')</script>",
		},
		Resource: map[string]any{
			"service.name":           "checkout",
			"telemetry.sdk.language": "go",
			"host.cpu.count":         8.0,
		},
		ScopeName:    "github.com/use-lumina/lumina/sdk",
		ScopeVersion: "v0.3.1",
		Events: []genai.Event{
			{Time: at(20 * time.Millisecond), Name: "gen_ai.content.prompt", Attributes: map[string]any{"gen_ai.prompt": "hi", "n": 1.0}},
			{Time: at(900*time.Millisecond + 1), Name: "exception", Attributes: map[string]any{"exception.type": "RateLimit"}, DroppedAttributes: 2},
			{Time: at(901 * time.Millisecond), Name: "bare"},
		},
		Links: []genai.Link{
			{TraceID: traceID(99), SpanID: spanID(99), TraceState: "x=y", Attributes: map[string]any{"link.kind": "follows"}, DroppedAttributes: 1},
			{TraceID: traceID(98), SpanID: spanID(98)},
		},
		DroppedAttributes: 3,
		DroppedEvents:     4,
		DroppedLinks:      5,
		ResourceSchemaURL: "https://opentelemetry.io/schemas/1.26.0",
		ScopeSchemaURL:    "https://opentelemetry.io/schemas/1.27.0",
		GenAI: &genai.Call{
			Type:          genai.TypeLLM,
			Operation:     "chat",
			Provider:      "openai",
			RequestModel:  "gpt-4o",
			ResponseModel: "gpt-4o-2024-08-06",
			ResponseID:    "chatcmpl-123",
			ServerAddress: "api.openai.com",
			Usage: genai.Usage{
				InputTokens: 1200, OutputTokens: 350, CacheReadTokens: 1000, CacheWriteTokens: 100,
				CacheWrite5mTokens: 60, CacheWrite1hTokens: 40, ReasoningTokens: 50, TotalTokens: 1550,
				TotalDerived: true, CacheAccounting: genai.CacheInclusive, Reported: true,
			},
			Counted: true,
			Cost: genai.Cost{
				TotalUSD: f64(0.004125), InputUSD: 0.0005, OutputUSD: 0.0035, CacheReadUSD: 0.000125,
				CacheWriteUSD: 0.0001, ReasoningUSD: 0.0002, Source: genai.CostComputed,
				PriceID: "openai/gpt-4o@2024-08-06", PriceSource: "litellm", Tier: "above_128k",
				ClientUSD: f64(0.0041),
			},
			InputMessages: []genai.Message{
				{Role: "system", Content: "You are terse."},
				{Role: "user", Content: "What's the weather in <Paris>?", Name: "alice"},
				{Role: "tool", Content: "18C", ToolCallID: "call_1", Source: "log:gen_ai.tool.message"},
			},
			OutputMessages: []genai.Message{{
				Role: "assistant", Content: "", FinishReason: "tool_calls",
				ToolCalls: []genai.ToolCall{{ID: "call_1", Name: "weather", Arguments: `{"city":"Paris"}`}},
				Parts:     []any{map[string]any{"type": "reasoning", "text": "think"}, "plain"},
				Raw:       "{not json",
			}},
			SystemInstructions: "Be brief.",
			ToolDefinitions:    []any{map[string]any{"name": "weather", "parameters": map[string]any{"type": "object"}}},
			FinishReasons:      []string{"tool_calls"},
			RequestParams:      map[string]any{"temperature": 0.2, "max_tokens": 512.0, "stop": []any{"\n\n"}},
			Streaming:          true,
			TimeToFirstToken:   f64(182.5),
			ErrorType:          "rate_limit",
			ErrorMessage:       "slow down",
			SessionID:          "sess-1",
			UserID:             "user-1",
			Environment:        "prod",
			Tags:               []string{"beta", "checkout"},
			Metadata:           map[string]string{"team": "payments"},
			AgentName:          "planner",
			Tool:               &genai.Tool{Name: "weather", CallID: "call_1", Arguments: "{}", Result: "18C"},
			RetrievalQuery:     "paris weather",
			RetrievalDocuments: []genai.Document{
				{ID: "doc-1", Content: "Paris is sunny", Score: f64(0.93), Metadata: map[string]any{"source": "wiki", "page": 3.0}},
				{ID: "doc-2"},
			},
			Conventions:    []string{"otel_genai", "lumina"},
			Sources:        map[string]string{"input_tokens": "gen_ai.usage.input_tokens"},
			ContentPartial: true,
		},
	}
}

func testRoundTripSpan(t *testing.T, s store.Store) {
	root := span(projectA, 1, 1, 0, "POST /checkout", 0, 2*time.Second)
	root.ServiceName = "gateway"
	plain := span(projectA, 1, 3, 1, "SELECT orders", 5*time.Millisecond, time.Millisecond)
	plain.Attributes = map[string]any{"db.system": "postgresql"}
	full := fullSpan(projectA, 1)
	spans := []genai.Span{full, plain, root}
	write(t, s, spans)

	wantTrace, wantSpans := expectedTrace(projectA, 1, spans)
	got := detail(t, s, projectA, 1)
	diff(t, "Trace", got.Trace, wantTrace)
	diff(t, "Spans", got.Spans, sortSpans(wantSpans))
	if len(got.Logs) != 0 {
		t.Errorf("Logs: got %d records, want 0", len(got.Logs))
	}
	// The listing serves the same rollup as the detail.
	page, err := s.Traces(context.Background(), store.TraceQuery{ProjectID: projectA})
	if err != nil {
		t.Fatalf("Traces: %v", err)
	}
	diff(t, "Traces", page.Traces, []genai.Trace{wantTrace})
	if page.NextCursor != "" {
		t.Errorf("NextCursor: got %q, want empty", page.NextCursor)
	}
}

// fullLog is a GenAI event record with every field set.
func fullLog(p string, tr, sp int, id string, d time.Duration) genai.LogRecord {
	return genai.LogRecord{
		ProjectID:      p,
		ID:             id,
		TraceID:        traceID(tr),
		SpanID:         spanID(sp),
		Time:           at(d),
		ObservedTime:   at(d + 3),
		EventName:      "gen_ai.choice",
		SeverityText:   "INFO",
		SeverityNumber: 9,
		ServiceName:    "checkout",
		ScopeName:      "openai.instrumentation",
		Body:           map[string]any{"index": 0.0, "message": map[string]any{"content": "Hello", "role": "assistant"}, "tags": []any{"a", true, nil}},
		Attributes:     map[string]any{"gen_ai.system": "openai", "event.count": 2.0},
		Resource:       map[string]any{"service.name": "checkout"},
		Messages:       []genai.Message{{Role: "assistant", Content: "Hello", Source: "log:gen_ai.choice"}},
		Output:         true,
	}
}

func testRoundTripLogs(t *testing.T, s store.Store) {
	full := fullLog(projectA, 1, 1, "log-full", 50*time.Millisecond)
	str := genai.LogRecord{
		ProjectID: projectA, ID: "log-string", TraceID: traceID(1), SpanID: spanID(1),
		Time: at(10 * time.Millisecond), SeverityNumber: 17, SeverityText: "ERROR", Body: "plain text body",
	}
	noTime := genai.LogRecord{ProjectID: projectA, ID: "log-no-time", TraceID: traceID(1), Body: 42.0}
	write(t, s, []genai.Span{span(projectA, 1, 1, 0, "root", 0, time.Second)}, full, str, noTime)

	got := detail(t, s, projectA, 1)
	diff(t, "Logs", got.Logs, []genai.LogRecord{noTime, str, full})

	logs, err := s.Logs(context.Background(), store.LogQuery{ProjectID: projectA, TraceID: traceID(1), SpanID: spanID(1)})
	if err != nil {
		t.Fatalf("Logs: %v", err)
	}
	diff(t, "Logs(span)", logs, []genai.LogRecord{str, full})
}

func testIdempotentRewrite(t *testing.T, s store.Store) {
	ctx := context.Background()
	spans := []genai.Span{
		agent(projectA, 1, 1, 0, 500, 200),
		llm(projectA, 1, 2, 1, "gpt-4o", 300, 100, f64(0.01)),
		llm(projectA, 1, 3, 1, "gpt-4o-mini", 200, 100, nil),
		fullSpan(projectA, 2),
	}
	logs := []genai.LogRecord{fullLog(projectA, 1, 2, "l1", 0), fullLog(projectA, 7, 7, "l2", time.Second)}

	read := func() (store.TraceDetail, store.TraceDetail, store.TracePage, []genai.LogRecord) {
		t.Helper()
		page, err := s.Traces(ctx, store.TraceQuery{ProjectID: projectA})
		if err != nil {
			t.Fatalf("Traces: %v", err)
		}
		orphans, err := s.Logs(ctx, store.LogQuery{ProjectID: projectA, Orphans: true})
		if err != nil {
			t.Fatalf("Logs: %v", err)
		}
		return detail(t, s, projectA, 1), detail(t, s, projectA, 2), page, orphans
	}
	write(t, s, spans, logs...)
	d1, d2, page, orphans := read()
	if got, want := d1.Trace.SpanCount, 3; got != want {
		t.Errorf("SpanCount after first write: got %d, want %d", got, want)
	}
	if got, want := len(d1.Logs), 1; got != want {
		t.Errorf("trace logs after first write: got %d, want %d", got, want)
	}
	for range 2 {
		write(t, s, spans, logs...)
		r1, r2, rpage, rorphans := read()
		diff(t, "trace 1 after rewrite", r1, d1)
		diff(t, "trace 2 after rewrite", r2, d2)
		diff(t, "page after rewrite", rpage, page)
		diff(t, "orphans after rewrite", rorphans, orphans)
	}
	// A batch whose spans repeat within itself is still one row per span.
	write(t, s, append(spans[:2:2], spans[:2]...))
	r1, _, _, _ := read()
	diff(t, "trace 1 after a self-repeating batch", r1, d1)
}

func testTraceNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	write(t, s, []genai.Span{span(projectA, 1, 1, 0, "root", 0, time.Second)},
		fullLog(projectA, 2, 1, "only-a-log", 0))
	for _, tc := range []struct {
		name, project, trace string
	}{
		{"unknown trace", projectA, traceID(3)},
		{"trace with only logs", projectA, traceID(2)},
		{"other project", projectB, traceID(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Trace(ctx, tc.project, tc.trace)
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Trace(%s, %s): got %v, want ErrNotFound", tc.project, tc.trace, err)
			}
		})
	}
}

func testLargeBatch(t *testing.T, s store.Store) {
	// Enough spans that backends which chunk their inserts cross chunk boundaries, with
	// repeats inside the batch, and rewritten whole.
	const traces, perTrace = 9, 7
	var spans []genai.Span
	for tr := 1; tr <= traces; tr++ {
		for n := 1; n <= perTrace; n++ {
			sp := fullSpan(projectA, tr)
			sp.SpanID, sp.ParentSpanID = spanID(n), spanID(n-1)
			if n == 1 {
				sp.ParentSpanID = ""
			}
			sp.StartTime = at(time.Duration(tr)*time.Second + time.Duration(n)*time.Millisecond)
			sp.Name = fmt.Sprintf("step %d", n)
			call := *sp.GenAI
			call.Usage.InputTokens = int64(100 * n)
			sp.GenAI = &call
			spans = append(spans, sp)
		}
	}
	batch := append(slices.Clone(spans), spans[3], spans[20], spans[62])
	check := func(when string) {
		t.Helper()
		for tr := 1; tr <= traces; tr++ {
			mine := spans[(tr-1)*perTrace : tr*perTrace]
			wantTrace, wantSpans := expectedTrace(projectA, tr, mine)
			d := detail(t, s, projectA, tr)
			diff(t, when+": Trace", d.Trace, wantTrace)
			diff(t, when+": Spans", d.Spans, sortSpans(wantSpans))
		}
	}
	write(t, s, batch)
	check("first write")
	write(t, s, batch)
	check("rewrite")
}
