package web

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// qualityPanel is the overview's quality score over time and its totals, from one
// aggregate store query (store.Analytics.QualitySeries) over the overview's buckets.
type qualityPanel struct {
	Chart    chart
	Assessed int64  // LLM calls with a quality assessment
	Scored   int64  // of which carry a score
	Tier2    int64  // scored by the judge
	Low      int64  // scored below lowQuality
	Mean     string // "" when nothing is scored
}

// lowQuality is the default quality_drop threshold (alert.DefaultRules).
const lowQuality = 0.7

// quality builds the panel for the buckets of the overview's window: the same window and
// bucket count give the same bucket starts as the overview's.
func (s *Server) quality(ctx context.Context, project string, since, until time.Time, starts []time.Time, width time.Duration) (qualityPanel, error) {
	buckets, err := s.store.QualitySeries(ctx, store.QualitySeriesQuery{ProjectID: project, Since: since, Until: until, Buckets: len(starts), Low: lowQuality})
	if err != nil {
		return qualityPanel{}, err
	}
	var (
		p     qualityPanel
		total float64
	)
	means := make([]float64, len(starts))
	for i := range means {
		means[i] = math.NaN()
		if i >= len(buckets) {
			continue
		}
		b := buckets[i]
		p.Assessed += b.Assessed
		p.Scored += b.Scored
		p.Tier2 += b.Tier2
		p.Low += b.Low
		total += b.ScoreSum
		if b.Scored > 0 {
			means[i] = b.ScoreSum / float64(b.Scored)
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
