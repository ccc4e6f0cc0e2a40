package storetest

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// keySeriesFixture writes, in project A's window [base, base+4m) of service chat-api:
//
//	tr 1: root "POST /chat" t=0 2s, a tool child, and gpt-4o t=0 100ms $0.01 quality 0.8
//	tr 2: gpt-4o t=1m 300ms $0.03 status error
//	tr 3: gpt-4o t=2m30s 100ms unpriced, error type rate_limit, quality 0.4
//	tr 4: gpt-4o-mini t=3m 100ms $0.5
//
// and gpt-4o calls outside it: at its exclusive end, in another service, in project B.
func keySeriesFixture(t *testing.T, s store.Store) {
	t.Helper()
	call := func(p string, tr int, svc, model string, start, d time.Duration, cost *float64) genai.Span {
		c := llm(p, tr, 2, 1, model, 10, 5, cost)
		c.ServiceName = svc
		c.StartTime, c.EndTime = at(start), at(start+d)
		return c
	}
	root := span(projectA, 1, 1, 0, "POST /chat", 0, 2*time.Second)
	root.ServiceName = "chat-api"
	tool := span(projectA, 1, 3, 1, "search", time.Millisecond, time.Second)
	tool.ServiceName = "chat-api"
	c1 := call(projectA, 1, "chat-api", "gpt-4o", 0, 100*time.Millisecond, f64(0.01))
	c1.GenAI.Quality = &genai.Quality{Score: f64(0.8)}
	c2 := call(projectA, 2, "chat-api", "gpt-4o", time.Minute, 300*time.Millisecond, f64(0.03))
	c2.StatusCode = genai.StatusError
	c3 := call(projectA, 3, "chat-api", "gpt-4o", 150*time.Second, 100*time.Millisecond, nil)
	c3.GenAI.ErrorType = "rate_limit"
	c3.GenAI.Quality = &genai.Quality{Score: f64(0.4)}
	write(t, s, []genai.Span{root, tool, c1, c2, c3,
		call(projectA, 4, "chat-api", "gpt-4o-mini", 3*time.Minute, 100*time.Millisecond, f64(0.5)),
		call(projectA, 5, "chat-api", "gpt-4o", 4*time.Minute, 100*time.Millisecond, f64(1)),
		call(projectA, 6, "other-api", "gpt-4o", time.Minute, 100*time.Millisecond, f64(1)),
		call(projectB, 7, "chat-api", "gpt-4o", time.Minute, 100*time.Millisecond, f64(1)),
	})
}

func testKeySeries(t *testing.T, s store.Store) {
	keySeriesFixture(t, s)
	tests := []struct {
		name string
		q    store.KeySeriesQuery
		want []store.KeyBucket
	}{
		{"service endpoint and model", store.KeySeriesQuery{Service: "chat-api", Endpoint: "chat gpt-4o", Model: "gpt-4o", Buckets: 2}, []store.KeyBucket{
			{Start: base, Requests: 2, Errors: 1, Priced: 2, CostUSD: 0.04, LatencyMS: 400, Scored: 1, QualitySum: 0.8},
			{Start: at(2 * time.Minute), Requests: 1, Errors: 1, LatencyMS: 100, Scored: 1, QualitySum: 0.4},
		}},
		{"service only: roots and every model, not the tool span", store.KeySeriesQuery{Service: "chat-api", Buckets: 1}, []store.KeyBucket{
			{Start: base, Requests: 5, Errors: 2, Priced: 3, CostUSD: 0.54, LatencyMS: 2600, Scored: 2, QualitySum: 1.2},
		}},
		{"empty buckets", store.KeySeriesQuery{Service: "chat-api", Model: "gpt-4o-mini", Buckets: 4}, []store.KeyBucket{
			{Start: base}, {Start: at(time.Minute)}, {Start: at(2 * time.Minute)},
			{Start: at(3 * time.Minute), Requests: 1, Priced: 1, CostUSD: 0.5, LatencyMS: 100},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.ProjectID, q.Since, q.Until = projectA, base, at(4*time.Minute)
			got, err := s.KeySeries(context.Background(), q)
			if err != nil {
				t.Fatalf("KeySeries: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d buckets, want %d: %+v", len(got), len(tt.want), got)
			}
			near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
			for i, w := range tt.want {
				g := got[i]
				if !g.Start.Equal(w.Start) || g.Requests != w.Requests || g.Errors != w.Errors || g.Priced != w.Priced ||
					g.Scored != w.Scored || !near(g.CostUSD, w.CostUSD) || !near(g.LatencyMS, w.LatencyMS) || !near(g.QualitySum, w.QualitySum) {
					t.Errorf("bucket %d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}
	t.Run("empty window", func(t *testing.T) {
		if _, err := s.KeySeries(context.Background(), store.KeySeriesQuery{ProjectID: projectA, Since: base, Until: base}); err == nil {
			t.Error("got nil error for an empty window, want one")
		}
	})
}
