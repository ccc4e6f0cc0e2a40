package storetest

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// testQualitySeries writes, in project A's window [base, base+4m) of LLM calls:
//
//	tr 1: t=0     0.9 tier 1
//	tr 2: t=30s   0.5 tier 2 (the judge)
//	tr 3: t=59s   assessed without a score
//	tr 4: t=1m    exactly 0.7 (not below it), at bucket 1's first instant
//	tr 5: t=3m59s 0.2 tier 2
//
// and, outside the series: a call without quality, a scored tool span, a call at the
// window's exclusive end, one before it and one in project B.
func testQualitySeries(t *testing.T, s store.Store) {
	call := func(p string, tr int, start time.Duration, q *genai.Quality) genai.Span {
		c := llm(p, tr, 2, 0, "gpt-4o", 10, 5, f64(0.01))
		c.StartTime, c.EndTime = at(start), at(start+100*time.Millisecond)
		c.GenAI.Quality = q
		return c
	}
	scored := func(v float64, tier string) *genai.Quality {
		return &genai.Quality{Score: f64(v), Tier: tier, Method: "test"}
	}
	tool := call(projectA, 7, time.Minute, scored(0.1, genai.QualityTier1))
	tool.GenAI.Type = genai.TypeTool
	write(t, s, []genai.Span{
		call(projectA, 1, 0, scored(0.9, genai.QualityTier1)),
		call(projectA, 2, 30*time.Second, scored(0.5, genai.QualityTier2)),
		call(projectA, 3, 59*time.Second, &genai.Quality{Tier: genai.QualityTier1, Method: "tier1:first_sample"}),
		call(projectA, 4, time.Minute, scored(0.7, genai.QualityTier1)),
		call(projectA, 5, 3*time.Minute+59*time.Second, scored(0.2, genai.QualityTier2)),
		call(projectA, 6, 2*time.Minute, nil),
		tool,
		call(projectA, 8, 4*time.Minute, scored(0.1, genai.QualityTier1)),
		call(projectA, 9, -time.Second, scored(0.1, genai.QualityTier1)),
		call(projectB, 10, time.Minute, scored(0.1, genai.QualityTier2)),
	})
	tests := []struct {
		name    string
		project string
		buckets int
		want    []store.QualityBucket
	}{
		{"four buckets, two empty", projectA, 4, []store.QualityBucket{
			{Start: base, Assessed: 3, Scored: 2, ScoreSum: 1.4, Low: 1, Tier2: 1},
			{Start: at(time.Minute), Assessed: 1, Scored: 1, ScoreSum: 0.7},
			{Start: at(2 * time.Minute)},
			{Start: at(3 * time.Minute), Assessed: 1, Scored: 1, ScoreSum: 0.2, Low: 1, Tier2: 1},
		}},
		{"one bucket is the window's totals", projectA, 0, []store.QualityBucket{
			{Start: base, Assessed: 5, Scored: 4, ScoreSum: 2.3, Low: 2, Tier2: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.QualitySeries(context.Background(), store.QualitySeriesQuery{
				ProjectID: tt.project, Since: base, Until: at(4 * time.Minute), Buckets: tt.buckets, Low: 0.7})
			if err != nil {
				t.Fatalf("QualitySeries: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d buckets, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if !g.Start.Equal(w.Start) || g.Assessed != w.Assessed || g.Scored != w.Scored || g.Low != w.Low ||
					g.Tier2 != w.Tier2 || math.Abs(g.ScoreSum-w.ScoreSum) > 1e-9 {
					t.Errorf("bucket %d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}
	t.Run("project B's call is in B's series", func(t *testing.T) {
		got, err := s.QualitySeries(context.Background(), store.QualitySeriesQuery{ProjectID: projectB, Since: base, Until: at(4 * time.Minute), Low: 0.7})
		if err != nil || len(got) != 1 || got[0].Assessed != 1 || got[0].Low != 1 || got[0].Tier2 != 1 {
			t.Errorf("got %+v, %v; want one bucket with B's one judged call below 0.7", got, err)
		}
	})
	t.Run("empty window", func(t *testing.T) {
		if _, err := s.QualitySeries(context.Background(), store.QualitySeriesQuery{ProjectID: projectA, Since: base, Until: base}); err == nil {
			t.Error("got nil error for an empty window, want one")
		}
	})
}
