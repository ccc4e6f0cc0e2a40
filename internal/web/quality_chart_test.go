package web

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

func TestQualityChart(t *testing.T) {
	srv := newTestServer(t, func() time.Time { return testNow }, nil)
	since := testNow.Add(-3 * time.Hour)
	// Bucket 0: 0.9 (tier 1) and 0.5 (tier 2); bucket 1: none; bucket 2: 0.3 and a call
	// assessed without a score; before the window: 0.1, which must not count.
	var batch store.Batch
	for i, c := range []struct {
		at    time.Duration
		score *float64
		tier  string
	}{
		{10 * time.Minute, f64(0.9), genai.QualityTier1},
		{50 * time.Minute, f64(0.5), genai.QualityTier2},
		{130 * time.Minute, f64(0.3), genai.QualityTier1},
		{140 * time.Minute, nil, genai.QualityTier1},
		{-10 * time.Minute, f64(0.1), genai.QualityTier1},
	} {
		spans := ragTrace(200+i, since.Add(c.at), "rag-api", "q", false)
		spans[2].GenAI.Quality = &genai.Quality{Score: c.score, Tier: c.tier, Method: "test"}
		batch.Spans = append(batch.Spans, spans...)
	}
	if err := srv.store.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	starts := []time.Time{since, since.Add(time.Hour), since.Add(2 * time.Hour)}
	p, err := srv.web.quality(context.Background(), "default", since, testNow, starts, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if p.Assessed != 4 || p.Scored != 3 || p.Tier2 != 1 || p.Low != 2 || p.Mean != "0.57" {
		t.Errorf("totals: got %+v, want 4 assessed, 3 scored, 1 by the judge, 2 below 0.7, mean 0.57", p)
	}
	if len(p.Chart.Lines) != 1 {
		t.Fatalf("lines: got %d, want 1", len(p.Chart.Lines))
	}
	var titles []string
	for _, d := range p.Chart.Lines[0].Dots {
		titles = append(titles, d.Title)
	}
	want := []string{since.Format("Jan 2 15:04") + " UTC · mean score 0.7", since.Add(2*time.Hour).Format("Jan 2 15:04") + " UTC · mean score 0.3"}
	if strings.Join(titles, "|") != strings.Join(want, "|") {
		t.Errorf("dots: got %q, want %q (the empty bucket has none)", titles, want)
	}
	// The axis runs from 0 to 1: a 0.7 mean sits at 70 % of the plot's height.
	d := p.Chart.Lines[0].Dots[0]
	if frac := (p.Chart.Bottom - d.Y) / (p.Chart.Bottom - chartTop); math.Abs(frac-0.7) > 0.01 {
		t.Errorf("the 0.7 dot is at %.3f of the height, want 0.7", frac)
	}

	// On the overview, the panel reads the window's calls; another project's are not counted.
	_, body := get(t, srv, "/?window=24h")
	for _, w := range []string{`aria-label="Mean quality score (0 to 1) of the scored LLM calls per bucket"`, "<div><dt>Scored calls</dt><dd>4 of 5 assessed</dd></div>"} {
		if !strings.Contains(body, w) {
			t.Errorf("the overview lacks %s", w)
		}
	}
	// A project with traffic but no scored call says so, with an empty chart.
	empty := newTestServer(t, func() time.Time { return testNow }, nil)
	if err := empty.store.Write(context.Background(), store.Batch{Spans: unpricedTrace(300, testNow.Add(-time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, empty, "/"); !strings.Contains(body, "No scored LLM calls in this window.") || !strings.Contains(body, `<p class="chart-empty">No data in this window</p>`) {
		t.Error("an overview without scored calls does not say there is no quality data")
	}
}
