package web

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// Window of the alert trend chart: from trendBefore before the alert fired (a budget's
// period start instead) to trendAfter after it was last seen or resolved, clamped to now,
// in at most about trendBuckets buckets.
const (
	trendBefore  = 6 * time.Hour
	trendAfter   = time.Hour
	trendBuckets = 48
)

// trendSteps are the bucket widths the trend chart picks from, so buckets start on round
// times.
var trendSteps = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// alertTrend is the alert's metric over time on its key, with the baseline and threshold
// as horizontal lines and a marker where it fired, from one store.KeySeries query.
type alertTrend struct {
	Chart  chart
	Series string // what the line shows, e.g. "cost per request"
	Title  string // Series capitalized, for the heading
	Key    string // the requests it covers
	Since  time.Time
	Until  time.Time
	Step   time.Duration
	// StepLabel names Step: "10m".
	StepLabel string
	Summary   string // the chart in one sentence, for readers who cannot see it
	Note      string // what the chart leaves out, when anything
	Extra     string // the heading of the table's second value column; "" for none
	Rows      []trendRow
}

// trendRow is one non-empty bucket of the trend's data table.
type trendRow struct {
	Start    time.Time
	Requests int64
	Value    string
	Extra    string
}

// trendWindow is the chart's window and bucket width for an alert seen at now.
func trendWindow(a store.Alert, now time.Time) (since, until time.Time, step time.Duration) {
	since = a.FiredAt.Add(-trendBefore)
	switch a.Metric {
	case "spend_day":
		since = time.Date(a.FiredAt.Year(), a.FiredAt.Month(), a.FiredAt.Day(), 0, 0, 0, 0, time.UTC)
	case "spend_month":
		since = time.Date(a.FiredAt.Year(), a.FiredAt.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	end := a.LastSeenAt
	if a.ResolvedAt.After(end) {
		end = a.ResolvedAt
	}
	if end.Before(a.FiredAt) {
		end = a.FiredAt
	}
	until = end.Add(trendAfter)
	if until.After(now) {
		until = now
	}
	if !until.After(a.FiredAt) { // a clock behind the engine's: keep the firing in view
		until = a.FiredAt.Add(time.Minute)
	}
	need := until.Sub(since) / trendBuckets
	step = trendSteps[len(trendSteps)-1]
	for _, s := range trendSteps {
		if s >= need {
			step = s
			break
		}
	}
	if step < need {
		step = time.Duration(math.Ceil(float64(need)/float64(step))) * step
	}
	since = since.UTC().Truncate(step)
	n := (until.Sub(since) + step - 1) / step
	return since, since.Add(n * step), step
}

// trendSeries is what the chart plots for the alert's metric, per bucket (NaN where a
// bucket has nothing to average), with its name and axis format.
func trendSeries(a store.Alert, bs []store.KeyBucket) (name string, values []float64, format func(float64) string) {
	values = make([]float64, len(bs))
	ratio := func(num float64, den int64) float64 {
		if den == 0 {
			return math.NaN()
		}
		return num / float64(den)
	}
	switch a.Metric {
	case "cost_usd":
		for i, b := range bs {
			values[i] = ratio(b.CostUSD, b.Priced)
		}
		return "cost per request", values, axisUSD
	case "latency_ms":
		for i, b := range bs {
			values[i] = ratio(b.LatencyMS, b.Requests)
		}
		return "mean latency", values, axisMS
	case "error_rate":
		for i, b := range bs {
			values[i] = ratio(float64(b.Errors), b.Requests)
		}
		return "error rate", values, fmtPercent
	case "quality":
		for i, b := range bs {
			values[i] = ratio(b.QualitySum, b.Scored)
		}
		return "mean quality", values, axisScore
	case "spend_day", "spend_month":
		var sum float64
		for i, b := range bs {
			sum += b.CostUSD
			values[i] = sum
		}
		return "spend since the period start", values, axisUSD
	}
	for i, b := range bs {
		values[i] = float64(b.Requests)
	}
	return "requests", values, axisCount
}

// alertTrend reads the alert key's requests around the alert and charts its metric.
func (s *Server) alertTrend(ctx context.Context, a store.Alert, now time.Time) (alertTrend, error) {
	since, until, step := trendWindow(a, now)
	bs, err := s.store.KeySeries(ctx, store.KeySeriesQuery{
		ProjectID: a.ProjectID, Service: a.Service, Endpoint: a.Endpoint, Model: a.Model,
		Since: since, Until: until, Buckets: int(until.Sub(since) / step),
	})
	if err != nil {
		return alertTrend{}, err
	}
	return newAlertTrend(a, bs, since, until, step), nil
}

// newAlertTrend builds the trend of alert a from its key's buckets.
func newAlertTrend(a store.Alert, bs []store.KeyBucket, since, until time.Time, step time.Duration) alertTrend {
	t := alertTrend{Since: since, Until: until, Step: step, StepLabel: fmtStep(step), Key: trendKey(a)}
	name, values, format := trendSeries(a, bs)
	t.Series, t.Title = name, strings.ToUpper(name[:1])+name[1:]
	starts := make([]time.Time, len(bs))
	var requests int64
	for i, b := range bs {
		starts[i] = b.Start
		requests += b.Requests
	}
	type ref struct {
		v            float64
		class, label string
	}
	var refs []ref
	metricOnly := a.Metric != "silence_minutes" && a.Metric != "tokens"
	if a.Baseline > 0 && metricOnly {
		refs = append(refs, ref{a.Baseline, "ref-base", "baseline " + fmtMetric(a.Metric, a.Baseline)})
	}
	if line, _ := thresholdLine(a); line > 0 && metricOnly {
		refs = append(refs, ref{line, "ref-limit", "threshold " + fmtMetric(a.Metric, line)})
	}
	floor := 0.0
	for _, r := range refs {
		floor = max(floor, r.v)
	}
	label := t.Title + " of " + t.Key + " per " + fmtStep(step) + ", " +
		since.UTC().Format("Jan 2 15:04") + " to " + until.UTC().Format("Jan 2 15:04") + " UTC"
	c, top := scaledLines(label, starts, step, []seriesData{{Name: name, Values: values}}, format, floor)
	y := func(v float64) float64 { return round2(c.Bottom - (c.Bottom-chartTop)*math.Min(v, top)/top) }
	var parts []string
	peak, peakAt := math.NaN(), -1
	for i, v := range values {
		if !math.IsNaN(v) && (peakAt < 0 || v > peak) {
			peak, peakAt = v, i
		}
	}
	c.Empty = requests == 0 || peakAt < 0
	if !c.Empty {
		parts = append(parts, "peak "+format(peak)+" in the bucket of "+starts[peakAt].UTC().Format("Jan 2 15:04")+" UTC")
	}
	for _, r := range refs {
		c.Refs = append(c.Refs, refLine{Y: y(r.v), Class: r.class, Label: r.label})
		c.Legend = append(c.Legend, legendItem{Name: r.label, Class: r.class})
		parts = append(parts, r.label)
	}
	if !a.FiredAt.Before(since) && a.FiredAt.Before(until) {
		x := c.Left + (c.Right-c.Left)*float64(a.FiredAt.Sub(since))/float64(until.Sub(since))
		fired := "fired " + a.FiredAt.UTC().Format("15:04")
		c.Marks = append(c.Marks, mark{X: round2(x), Y1: chartTop, Y2: c.Bottom, Label: fired, End: x > (c.Left+c.Right)/2})
		c.Legend = append(c.Legend, legendItem{Name: fired + " UTC", Class: "mark-fire"})
		parts = append(parts, fired+" UTC")
	}
	c.Label = label + ": " + strings.Join(parts, "; ")
	t.Summary = c.Label
	if c.Empty {
		t.Summary = "No " + name + " of " + t.Key + " is stored between " + since.UTC().Format("Jan 2 15:04") + " and " +
			until.UTC().Format("Jan 2 15:04") + " UTC (the traces may have expired)."
		c.Label = t.Summary
	}
	t.Chart = c
	if a.Type == store.RuleCostAndQuality {
		t.Extra = "Mean quality"
	}
	for i, b := range bs {
		if b.Requests == 0 {
			continue
		}
		row := trendRow{Start: b.Start, Requests: b.Requests, Value: "—"}
		if !math.IsNaN(values[i]) {
			row.Value = format(values[i])
		}
		if t.Extra != "" {
			row.Extra = "—"
			if b.Scored > 0 {
				row.Extra = axisScore(b.QualitySum / float64(b.Scored))
			}
		}
		t.Rows = append(t.Rows, row)
	}
	switch {
	case a.Metric == "latency_ms":
		t.Note = "The chart shows each bucket's mean latency; the rule compares a rolling window with the baseline's statistic."
	case a.Type == store.RuleBudget:
		t.Note = "Spend counts every priced call of the scope in the window; a budget scoped to one user is not told apart here."
	}
	return t
}

// trendKey names the requests an alert's key covers.
func trendKey(a store.Alert) string {
	var parts []string
	for _, p := range []string{a.Service, a.Endpoint, a.Model} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "every request"
	}
	return strings.Join(parts, " / ")
}

// fmtStep names a bucket width: "10m", "1h", "1d".
func fmtStep(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/time.Minute)) + "m"
}
