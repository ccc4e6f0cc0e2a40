package storetest

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// testTraceQuality writes trace 1 with LLM calls scored 0.9 and 0.4, one assessed without
// a score and a scored tool span; trace 2 with a call without quality; trace 3 with one
// call scored 0.6 that the judge later scores 0.3; and the same trace id as trace 1 in
// project B, scored 0.1.
func testTraceQuality(t *testing.T, s store.Store) {
	ctx := context.Background()
	scored := func(p string, tr, id int, score *float64) genai.Span {
		c := llm(p, tr, id, 0, "gpt-4o", 10, 5, f64(0.01))
		c.GenAI.Quality = &genai.Quality{Score: score, Tier: genai.QualityTier1, Method: "test"}
		return c
	}
	tool := scored(projectA, 1, 4, f64(0))
	tool.GenAI.Type = genai.TypeTool
	write(t, s, []genai.Span{
		scored(projectA, 1, 1, f64(0.9)), scored(projectA, 1, 2, f64(0.4)), scored(projectA, 1, 3, nil), tool,
		llm(projectA, 2, 5, 0, "gpt-4o", 10, 5, f64(0.01)),
		scored(projectA, 3, 6, f64(0.6)),
		scored(projectB, 1, 7, f64(0.1)),
	})
	if err := s.UpdateSpanQuality(ctx, projectA, traceID(3), spanID(6), genai.Quality{Score: f64(0.3), Tier: genai.QualityTier2, Method: "tier2:judge"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.TraceQuality(ctx, projectA, []string{traceID(1), traceID(2), traceID(3), traceID(99)})
	if err != nil {
		t.Fatalf("TraceQuality: %v", err)
	}
	want := map[string]store.TraceQuality{
		traceID(1): {Scored: 2, Mean: 0.65, Min: 0.4},
		traceID(3): {Scored: 1, Mean: 0.3, Min: 0.3},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v (traces without a scored LLM call are left out)", got, want)
	}
	for id, w := range want {
		g, ok := got[id]
		if !ok || g.Scored != w.Scored || math.Abs(g.Mean-w.Mean) > 1e-9 || math.Abs(g.Min-w.Min) > 1e-9 {
			t.Errorf("trace %s: got %+v, want %+v", id, g, w)
		}
	}
	b, err := s.TraceQuality(ctx, projectB, []string{traceID(1), traceID(3)})
	if err != nil || len(b) != 1 || b[traceID(1)].Scored != 1 || b[traceID(1)].Min != 0.1 {
		t.Errorf("TraceQuality(B): got %+v, %v; want trace 1 with B's one call at 0.1", b, err)
	}
	if none, err := s.TraceQuality(ctx, projectA, nil); err != nil || len(none) != 0 {
		t.Errorf("TraceQuality(no ids): got %+v, %v; want an empty map", none, err)
	}
	many := make([]string, store.MaxTraceQualityIDs+1)
	for i := range many {
		many[i] = fmt.Sprintf("%032x", i)
	}
	if _, err := s.TraceQuality(ctx, projectA, many); err == nil {
		t.Errorf("TraceQuality(%d ids): got nil error, want one", len(many))
	}
}
