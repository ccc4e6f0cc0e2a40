package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

func testRollupOutOfOrder(t *testing.T, s store.Store) {
	root := span(projectA, 1, 1, 0, "POST /chat", 0, 3*time.Second)
	root.ServiceName = "gateway"
	// The agent reports aggregate usage; its children arrive before and after it.
	ag := agent(projectA, 1, 2, 1, 900, 300)
	ag.ServiceName = "agents"
	child1 := llm(projectA, 1, 3, 2, "gpt-4o", 400, 100, f64(0.02))
	child2 := llm(projectA, 1, 4, 2, "claude-sonnet-4", 500, 200, f64(0.03))
	child1.ServiceName, child2.ServiceName = "agents", "agents"

	// Batch 1: a child alone. Its parent is missing, so it stands in for the root.
	write(t, s, []genai.Span{child1})
	got := detail(t, s, projectA, 1).Trace
	for _, c := range []struct {
		field     string
		got, want any
	}{
		{"Name", got.Name, child1.Name},
		{"ServiceName", got.ServiceName, "agents"},
		{"HasRoot", got.HasRoot, false},
		{"SpanCount", got.SpanCount, 1},
		{"Usage.InputTokens", got.Usage.InputTokens, int64(400)},
	} {
		if c.got != c.want {
			t.Errorf("after batch 1, %s: got %v, want %v", c.field, c.got, c.want)
		}
	}

	// Batch 2: the agent with aggregate usage, which must not count over child1.
	write(t, s, []genai.Span{ag})
	// Batch 3: the root and the second child.
	write(t, s, []genai.Span{child2, root})

	all := []genai.Span{child1, ag, child2, root}
	wantTrace, wantSpans := expectedTrace(projectA, 1, all)
	d := detail(t, s, projectA, 1)
	diff(t, "Trace", d.Trace, wantTrace)
	diff(t, "Spans", d.Spans, sortSpans(wantSpans))
	for _, c := range []struct {
		field     string
		got, want any
	}{
		{"Name", d.Trace.Name, "POST /chat"},
		{"ServiceName", d.Trace.ServiceName, "gateway"},
		{"HasRoot", d.Trace.HasRoot, true},
		{"StartTime", d.Trace.StartTime, root.StartTime},
		{"EndTime", d.Trace.EndTime, root.EndTime},
		{"SpanCount", d.Trace.SpanCount, 4},
		{"LLMCallCount", d.Trace.LLMCallCount, 2},
		{"Usage.InputTokens", d.Trace.Usage.InputTokens, int64(900)},
		{"Usage.OutputTokens", d.Trace.Usage.OutputTokens, int64(300)},
	} {
		if c.got != c.want {
			t.Errorf("after batch 3, %s: got %v, want %v", c.field, c.got, c.want)
		}
	}
	diff(t, "Services", d.Trace.Services, []string{"agents", "gateway"})
	diff(t, "Models", d.Trace.Models, []string{"claude-sonnet-4", "gpt-4o"})
	counted := countedBySpan(d.Spans)
	diff(t, "Counted", counted, map[string]bool{spanID(2): false, spanID(3): true, spanID(4): true})
}

// countedBySpan maps each GenAI span's id to its Counted flag.
func countedBySpan(spans []genai.Span) map[string]bool {
	m := map[string]bool{}
	for _, s := range spans {
		if s.GenAI != nil {
			m[s.SpanID] = s.GenAI.Counted
		}
	}
	return m
}

func testCounted(t *testing.T, s store.Store) {
	tests := []struct {
		name        string
		batches     [][]genai.Span
		wantCounted map[int]bool // span number → Counted
		wantUsage   genai.TraceUsage
		wantCalls   int
	}{
		{
			name: "wrapper LLM span over SDK LLM span counts once on the leaf",
			batches: [][]genai.Span{{
				span(projectA, 1, 1, 0, "root", 0, time.Second),
				llm(projectA, 1, 2, 1, "gpt-4o", 100, 50, f64(0.01)),
				llm(projectA, 1, 3, 2, "gpt-4o", 100, 50, f64(0.01)),
			}},
			wantCounted: map[int]bool{2: false, 3: true},
			wantUsage:   genai.TraceUsage{InputTokens: 100, OutputTokens: 50, TotalTokens: 150},
			wantCalls:   1,
		},
		{
			name: "agent aggregate over LLM children is not counted",
			batches: [][]genai.Span{{
				agent(projectA, 1, 1, 0, 300, 120),
				llm(projectA, 1, 2, 1, "gpt-4o", 100, 60, f64(0.01)),
				llm(projectA, 1, 3, 1, "gpt-4o-mini", 200, 60, f64(0.002)),
			}},
			wantCounted: map[int]bool{1: false, 2: true, 3: true},
			wantUsage:   genai.TraceUsage{InputTokens: 300, OutputTokens: 120, TotalTokens: 420},
			wantCalls:   2,
		},
		{
			name: "agent aggregate whose children carry no usage is counted",
			batches: [][]genai.Span{{
				agent(projectA, 1, 1, 0, 300, 120),
				span(projectA, 1, 2, 1, "tool call", 10*time.Millisecond, time.Millisecond),
			}},
			wantCounted: map[int]bool{1: true},
			wantUsage:   genai.TraceUsage{InputTokens: 300, OutputTokens: 120, TotalTokens: 420},
		},
		{
			name: "agent counted alone is uncounted once a child with usage arrives",
			batches: [][]genai.Span{
				{agent(projectA, 1, 1, 0, 300, 120)},
				{llm(projectA, 1, 2, 1, "gpt-4o", 300, 120, f64(0.01))},
			},
			wantCounted: map[int]bool{1: false, 2: true},
			wantUsage:   genai.TraceUsage{InputTokens: 300, OutputTokens: 120, TotalTokens: 420},
			wantCalls:   1,
		},
		{
			name: "grandchild usage below a wrapper arrives last",
			batches: [][]genai.Span{
				{llm(projectA, 1, 2, 1, "gpt-4o", 10, 5, f64(0.001)), agent(projectA, 1, 1, 0, 10, 5)},
				{llm(projectA, 1, 3, 2, "gpt-4o", 10, 5, f64(0.001))},
			},
			wantCounted: map[int]bool{1: false, 2: false, 3: true},
			wantUsage:   genai.TraceUsage{InputTokens: 10, OutputTokens: 5, TotalTokens: 15},
			wantCalls:   1,
		},
	}
	// Each case is its own trace in the one store, so the cases also show that a trace's
	// rollup ignores its neighbours.
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := i + 1
			var all []genai.Span
			for _, b := range tt.batches {
				b = retrace(b, tr)
				write(t, s, b)
				all = append(all, b...)
			}
			d := detail(t, s, projectA, tr)
			want := map[string]bool{}
			for n, c := range tt.wantCounted {
				want[spanID(n)] = c
			}
			diff(t, "Counted", countedBySpan(d.Spans), want)
			diff(t, "Usage", d.Trace.Usage, tt.wantUsage)
			if d.Trace.LLMCallCount != tt.wantCalls {
				t.Errorf("LLMCallCount: got %d, want %d", d.Trace.LLMCallCount, tt.wantCalls)
			}
			wantTrace, wantSpans := expectedTrace(projectA, tr, all)
			diff(t, "Trace", d.Trace, wantTrace)
			diff(t, "Spans", d.Spans, sortSpans(wantSpans))
		})
	}
}

// retrace moves spans to trace tr.
func retrace(spans []genai.Span, tr int) []genai.Span {
	out := make([]genai.Span, len(spans))
	for i, s := range spans {
		s.TraceID = traceID(tr)
		out[i] = s
	}
	return out
}

func testCost(t *testing.T, s store.Store) {
	tests := []struct {
		name         string
		spans        []genai.Span
		wantCost     *float64
		wantUnpriced int
	}{
		{
			name: "all counted calls unpriced",
			spans: []genai.Span{
				span(projectA, 0, 1, 0, "root", 0, time.Second),
				llm(projectA, 0, 2, 1, "mystery-1", 10, 5, nil),
				llm(projectA, 0, 3, 1, "mystery-2", 10, 5, nil),
			},
			wantCost:     nil,
			wantUnpriced: 2,
		},
		{
			name: "priced and unpriced calls",
			spans: []genai.Span{
				llm(projectA, 0, 1, 0, "gpt-4o", 10, 5, f64(0.25)),
				llm(projectA, 0, 2, 0, "mystery-1", 10, 5, nil),
				llm(projectA, 0, 3, 0, "gpt-4o", 10, 5, f64(0.5)),
			},
			wantCost:     f64(0.75),
			wantUnpriced: 1,
		},
		{
			name:     "no model calls",
			spans:    []genai.Span{span(projectA, 0, 1, 0, "GET /health", 0, time.Millisecond)},
			wantCost: f64(0),
		},
		{
			name: "priced wrapper over an unpriced leaf",
			spans: []genai.Span{
				llm(projectA, 0, 1, 0, "gpt-4o", 10, 5, f64(0.25)),
				llm(projectA, 0, 2, 1, "mystery-1", 10, 5, nil),
			},
			wantCost:     nil,
			wantUnpriced: 1,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := i + 1
			write(t, s, retrace(tt.spans, tr))
			got := detail(t, s, projectA, tr).Trace
			diff(t, "CostUSD", got.CostUSD, tt.wantCost)
			if got.UnpricedCalls != tt.wantUnpriced {
				t.Errorf("UnpricedCalls: got %d, want %d", got.UnpricedCalls, tt.wantUnpriced)
			}
		})
	}
}

func testFiltersFollowRollup(t *testing.T, s store.Store) {
	// A wrapper call arrives alone, so its model is the trace's; then the SDK call below it
	// arrives and the wrapper is rewritten under another service; then the root arrives,
	// starting before both. The filters must follow each new rollup, not remember the old.
	wrapper := llm(projectA, 1, 2, 1, "gpt-4o", 10, 5, f64(0.01))
	wrapper.ServiceName = "old-svc"
	leaf := llm(projectA, 1, 3, 2, "gpt-4o-mini", 10, 5, f64(0.01))
	root := span(projectA, 1, 1, 0, "root", -time.Second, 2*time.Second)
	early := at(0) // before the wrapper's start, after the root's
	tests := []struct {
		name string
		q    store.TraceQuery
		want [3]bool // a match after batches 1, 2 and 3
	}{
		{"wrapper model", store.TraceQuery{Model: "gpt-4o"}, [3]bool{true, false, false}},
		{"leaf model", store.TraceQuery{Model: "gpt-4o-mini"}, [3]bool{false, true, true}},
		{"old service", store.TraceQuery{Service: "old-svc"}, [3]bool{true, false, false}},
		{"new service", store.TraceQuery{Service: "new-svc"}, [3]bool{false, true, true}},
		{"leaf service", store.TraceQuery{Service: "svc"}, [3]bool{false, true, true}},
		{"leaf model, started early", store.TraceQuery{Model: "gpt-4o-mini", Until: early}, [3]bool{false, false, true}},
		{"new service, started early", store.TraceQuery{Service: "new-svc", Until: early}, [3]bool{false, false, true}},
		{"new service, started late", store.TraceQuery{Service: "new-svc", Since: early}, [3]bool{false, true, false}},
		{"leaf model by duration", store.TraceQuery{Model: "gpt-4o-mini", Sort: store.SortDuration, MinDuration: time.Second}, [3]bool{false, false, true}},
	}
	check := func(step int) {
		t.Helper()
		for _, tt := range tests {
			q := tt.q
			q.ProjectID = projectA
			page, err := s.Traces(context.Background(), q)
			if err != nil {
				t.Fatalf("Traces(%+v): %v", q, err)
			}
			if got := len(page.Traces) == 1; got != tt.want[step-1] {
				t.Errorf("after batch %d, %s: got match %v, want %v", step, tt.name, got, tt.want[step-1])
			}
		}
	}
	write(t, s, []genai.Span{wrapper})
	check(1)
	wrapper.ServiceName = "new-svc"
	write(t, s, []genai.Span{leaf, wrapper})
	check(2)
	write(t, s, []genai.Span{root})
	check(3)

	// A trace whose start time moves in the same write that takes a model out of it.
	w2 := llm(projectA, 2, 2, 1, "gpt-4-turbo", 10, 5, f64(0.01))
	write(t, s, []genai.Span{w2})
	write(t, s, []genai.Span{llm(projectA, 2, 3, 2, "gpt-4.1", 10, 5, f64(0.01)), span(projectA, 2, 1, 0, "root", -time.Second, 2*time.Second)})
	for _, tc := range []struct {
		model string
		want  int
	}{{"gpt-4-turbo", 0}, {"gpt-4.1", 1}} {
		page, err := s.Traces(context.Background(), store.TraceQuery{ProjectID: projectA, Model: tc.model})
		if err != nil {
			t.Fatalf("Traces: %v", err)
		}
		if len(page.Traces) != tc.want {
			t.Errorf("Model %s after the start moved: got %d traces, want %d", tc.model, len(page.Traces), tc.want)
		}
	}
}
