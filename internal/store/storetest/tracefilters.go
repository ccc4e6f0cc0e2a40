package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// testTraceFieldFilters covers the trace list's per-trace filters: user, environment, tag,
// provider, maximum duration and cost bounds, alone, together and with an index-driven filter.
func testTraceFieldFilters(t *testing.T, s store.Store) {
	mk := func(tr int, user, env string, tags []string, start, d time.Duration, cost *float64) genai.Span {
		sp := sessionTrace(projectA, tr, "", user, start, cost, false)
		sp.EndTime = sp.StartTime.Add(d)
		sp.GenAI.Environment, sp.GenAI.Tags = env, tags
		return sp
	}
	anthropic := mk(2, "u2", "dev", []string{"b"}, time.Hour, 300*time.Millisecond, f64(0.5))
	anthropic.GenAI.Provider = "anthropic"
	write(t, s, []genai.Span{
		mk(1, "u1", "prod", []string{"a", "b"}, 0, 200*time.Millisecond, f64(0.01)),
		anthropic,
		mk(3, "u1", "prod", nil, 2*time.Hour, 2*time.Second, nil),
	})
	other := mk(4, "u1", "prod", []string{"a"}, 3*time.Hour, time.Millisecond, f64(0.01))
	other.ProjectID = projectB
	write(t, s, []genai.Span{other})
	runTraceQueries(t, s, []traceQueryCase{
		{"user", store.TraceQuery{UserID: "u1"}, []int{3, 1}},
		{"environment", store.TraceQuery{Environment: "dev"}, []int{2}},
		{"tag", store.TraceQuery{Tag: "b"}, []int{2, 1}},
		{"tag with service", store.TraceQuery{Tag: "a", Service: "svc"}, []int{1}},
		{"tag with model", store.TraceQuery{Tag: "a", Model: "gpt-4o"}, []int{1}},
		{"unknown tag", store.TraceQuery{Tag: "zzz"}, nil},
		{"provider", store.TraceQuery{Provider: "anthropic"}, []int{2}},
		{"provider with model", store.TraceQuery{Provider: "openai", Model: "gpt-4o"}, []int{3, 1}},
		{"unknown provider", store.TraceQuery{Provider: "acme"}, nil},
		{"max duration", store.TraceQuery{MaxDuration: time.Second}, []int{2, 1}},
		{"duration range", store.TraceQuery{MinDuration: 250 * time.Millisecond, MaxDuration: time.Second}, []int{2}},
		{"min cost", store.TraceQuery{MinCostUSD: f64(0.1)}, []int{2}},
		{"max cost", store.TraceQuery{MaxCostUSD: f64(0.1)}, []int{1}},
		{"any priced cost", store.TraceQuery{MinCostUSD: f64(0)}, []int{2, 1}},
		{"inclusive bounds", store.TraceQuery{MinCostUSD: f64(0.5), MaxCostUSD: f64(0.5)}, []int{2}},
		{"together", store.TraceQuery{UserID: "u1", Environment: "prod", MaxCostUSD: f64(1)}, []int{1}},
		{"by duration", store.TraceQuery{UserID: "u1", Sort: store.SortDuration}, []int{3, 1}},
	})
}

// testTraceAttributeFilters covers TraceQuery.Attributes: each value type, a value that only
// an array holds, two filters met by different spans of one trace, project scoping, and
// attributes with other filters (the text search, an index-driven model filter).
func testTraceAttributeFilters(t *testing.T, s store.Store) {
	mk := func(p string, tr, id int, start time.Duration, attrs map[string]any) genai.Span {
		sp := sessionTrace(p, tr, "", "", start, f64(0.01), false)
		sp.SpanID = spanID(id)
		sp.Attributes = attrs
		return sp
	}
	child := span(projectA, 1, 11, 10, "retrieve", time.Millisecond, time.Millisecond)
	child.Attributes = map[string]any{"db.system": "qdrant", "hits": int64(12)}
	rag := mk(projectA, 2, 20, time.Hour, map[string]any{"customer.tier": "gold", "retries": int64(3),
		"temperature": 0.5, "cached": true, "labels": []any{"silver"}, "note": "true", "nul": "a\x00b"})
	rag.GenAI.InputMessages = []genai.Message{{Role: "user", Content: "refund policy"}}
	write(t, s, []genai.Span{
		mk(projectA, 1, 10, 0, map[string]any{"customer.tier": "gold", "retries": 3.0}),
		child,
		rag,
		mk(projectA, 3, 30, 2*time.Hour, map[string]any{"customer.tier": "silver", "retries": "3", "cached": false}),
		mk(projectB, 4, 40, 3*time.Hour, map[string]any{"customer.tier": "gold"}),
	})
	attr := func(kv ...string) []store.AttributeFilter {
		var fs []store.AttributeFilter
		for i := 0; i < len(kv); i += 2 {
			fs = append(fs, store.AttributeFilter{Key: kv[i], Value: kv[i+1]})
		}
		return fs
	}
	runTraceQueries(t, s, []traceQueryCase{
		{"string", store.TraceQuery{Attributes: attr("customer.tier", "gold")}, []int{2, 1}},
		{"other string", store.TraceQuery{Attributes: attr("customer.tier", "silver")}, []int{3}},
		{"number matches integers, floats and the string", store.TraceQuery{Attributes: attr("retries", "3")}, []int{3, 2, 1}},
		{"number in decimal form", store.TraceQuery{Attributes: attr("retries", "3.0")}, []int{2, 1}},
		{"fraction", store.TraceQuery{Attributes: attr("temperature", "0.5")}, []int{2}},
		{"true", store.TraceQuery{Attributes: attr("cached", "true")}, []int{2}},
		{"false", store.TraceQuery{Attributes: attr("cached", "false")}, []int{3}},
		{"string spelling true", store.TraceQuery{Attributes: attr("note", "true")}, []int{2}},
		{"array element does not match", store.TraceQuery{Attributes: attr("labels", "silver")}, nil},
		{"unknown key", store.TraceQuery{Attributes: attr("customer.plan", "gold")}, nil},
		{"a NUL in the value", store.TraceQuery{Attributes: attr("nul", "a\x00b")}, []int{2}},
		{"case matters", store.TraceQuery{Attributes: attr("customer.tier", "Gold")}, nil},
		{"two filters, two spans", store.TraceQuery{Attributes: attr("customer.tier", "gold", "db.system", "qdrant")}, []int{1}},
		{"two filters, one unmet", store.TraceQuery{Attributes: attr("customer.tier", "silver", "db.system", "qdrant")}, nil},
		{"with text", store.TraceQuery{Attributes: attr("customer.tier", "gold"), Text: "refund"}, []int{2}},
		{"with model", store.TraceQuery{Attributes: attr("retries", "3"), Model: "gpt-4o"}, []int{3, 2, 1}},
		{"oldest first", store.TraceQuery{Attributes: attr("customer.tier", "gold"), Ascending: true}, []int{1, 2}},
		{"by duration", store.TraceQuery{Attributes: attr("retries", "3"), Sort: store.SortDuration, Limit: 1}, []int{3}},
	})
}

// RunAttributeFilters runs the suite's test of TraceQuery.Attributes (Run includes it), for
// a backend to run again with another query strategy.
func RunAttributeFilters(t *testing.T, open Opener) {
	testTraceAttributeFilters(t, open(t))
}

// traceQueryCase is a trace listing of project A and the traces it must return, in order.
type traceQueryCase struct {
	name string
	q    store.TraceQuery
	want []int
}

func runTraceQueries(t *testing.T, s store.Store, cases []traceQueryCase) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.ProjectID = projectA
			page, err := s.Traces(context.Background(), tt.q)
			if err != nil {
				t.Fatalf("Traces: %v", err)
			}
			diff(t, "traces", traceIDs(page.Traces), ids(tt.want))
		})
	}
}
