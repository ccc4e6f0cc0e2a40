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
	for _, tt := range []struct {
		name string
		q    store.TraceQuery
		want []int
	}{
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
	} {
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
