package web

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// maxChartQualityPoints bounds the scored calls one quality chart reads (the store returns
// them oldest first); beyond it the chart says it stops early.
const maxChartQualityPoints = 50_000

// qualityPanel is the overview's quality score over time and its totals, from the same
// store query as GET /api/v1/quality/summary (store.JudgeStore.QualityPoints).
type qualityPanel struct {
	Chart     chart
	Assessed  int    // LLM calls with a quality assessment
	Scored    int    // of which carry a score
	Tier2     int    // scored by the judge
	Low       int    // scored below lowQuality
	Mean      string // "" when nothing is scored
	Truncated bool   // the window had more calls than the chart reads
}

// lowQuality is the default quality_drop threshold (alert.DefaultRules).
const lowQuality = 0.7

// quality builds the panel for the buckets of the overview's window.
func (s *Server) quality(ctx context.Context, project string, since, until time.Time, starts []time.Time, width time.Duration) (qualityPanel, error) {
	pts, err := s.store.QualityPoints(ctx, store.QualityQuery{ProjectID: project, Since: since, Until: until, Limit: maxChartQualityPoints})
	if err != nil {
		return qualityPanel{}, err
	}
	p := qualityPanel{Assessed: len(pts), Truncated: len(pts) >= maxChartQualityPoints}
	sums, ns := make([]float64, len(starts)), make([]int, len(starts))
	var total float64
	for _, pt := range pts {
		if pt.Score == nil {
			continue
		}
		v := *pt.Score
		p.Scored++
		total += v
		if pt.Tier == genai.QualityTier2 {
			p.Tier2++
		}
		if v < lowQuality {
			p.Low++
		}
		if width > 0 {
			if i := int(pt.StartTime.Sub(since) / width); i >= 0 && i < len(starts) {
				sums[i] += v
				ns[i]++
			}
		}
	}
	means := make([]float64, len(starts))
	for i := range means {
		means[i] = math.NaN()
		if ns[i] > 0 {
			means[i] = sums[i] / float64(ns[i])
		}
	}
	legend := ""
	if p.Scored > 0 {
		p.Mean = strconv.FormatFloat(total/float64(p.Scored), 'f', 2, 64)
		legend = p.Mean
	}
	p.Chart = lines("Mean quality score (0 to 1) of the scored LLM calls per bucket", starts, width,
		[]seriesData{{Name: "mean score", Values: means, Total: legend}}, axisScore)
	return p, nil
}

// axisScore labels a 0..1 score axis.
func axisScore(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }
