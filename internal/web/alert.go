package web

import (
	"context"
	"math"
	"net/url"
	"slices"

	"github.com/use-lumina/lumina/internal/store"
)

// alertData is the alert detail page.
type alertData struct {
	Alert      alertRow
	Rule       *store.AlertRule
	Compare    compareChart
	Trend      alertTrend
	TraceURL   string
	Deliveries []deliveryRow
	Return     string
	Flash      string
}

// deliveryRow is one outbox item of the alert, with its channel's name.
type deliveryRow struct {
	store.Delivery
	Channel string
}

// compareChart draws observed against baseline and threshold as two horizontal bars on
// one scale, as inline SVG (no script, no style attribute).
type compareChart struct {
	Rows     []compareBar
	LineX    float64 // the threshold line, in viewBox units; 0 when there is none
	LineText string
	Label    string
}

type compareBar struct {
	Label, Value, Class string
	Y, W                float64
}

// compareWidth is the bars' full width in viewBox units (the viewBox is 480 wide; labels
// take the first 90, values the last 90).
const compareWidth = 300

// compareLeft is where the bars start.
const compareLeft = 90

// newCompareChart scales the bars to the largest of observed, baseline and the threshold
// line (thresholdLine).
func newCompareChart(a store.Alert) compareChart {
	line, relative := thresholdLine(a)
	top := math.Max(math.Max(a.Observed, a.Baseline), line)
	if top <= 0 || math.IsNaN(top) || math.IsInf(top, 0) {
		top = 1
	}
	w := func(v float64) float64 { return round2(math.Max(0, math.Min(v/top, 1)) * compareWidth) }
	c := compareChart{Label: "Observed " + fmtMetric(a.Metric, a.Observed) + " against baseline " + fmtMetric(a.Metric, a.Baseline)}
	c.Rows = []compareBar{
		{Label: "Observed", Value: fmtMetric(a.Metric, a.Observed), Class: "observed", Y: 8, W: w(a.Observed)},
		{Label: "Baseline", Value: fmtMetric(a.Metric, a.Baseline), Class: "baseline", Y: 44, W: w(a.Baseline)},
	}
	if line > 0 {
		c.LineX = round2(compareLeft + w(line))
		c.LineText = "threshold " + fmtMetric(a.Metric, line)
		if relative {
			c.LineText = "threshold " + fmtMetric(a.Metric, line) + " (baseline +" + trimFloat((line/a.Baseline-1)*100, 1) + "%)"
		}
	}
	return c
}

// thresholdLine is the value an alert's metric crossed. The engine stores the line itself in
// Alert.Threshold (for spikes baseline × (1 + the rule's fraction), computed when it fired);
// relative reports whether the line is relative to the baseline, so the page can show by how
// much.
func thresholdLine(a store.Alert) (line float64, relative bool) {
	relative = a.Baseline > 0 && (a.Type == store.RuleCostSpike || a.Type == store.RuleLatencySpike || a.Type == store.RuleCostAndQuality)
	return a.Threshold, relative
}

func (s *Server) alertDetail(ctx context.Context, r *request) (view, error) {
	a, err := s.store.Alert(ctx, r.Project, r.PathValue("id"))
	if err != nil {
		return view{}, err
	}
	ds, err := s.store.Deliveries(ctx, r.Project, a.ID)
	if err != nil {
		return view{}, err
	}
	chans, err := s.store.Channels(ctx, r.Project)
	if err != nil {
		return view{}, err
	}
	rules, err := s.store.AlertRules(ctx, r.Project)
	if err != nil {
		return view{}, err
	}
	trend, err := s.alertTrend(ctx, a, r.Now)
	if err != nil {
		return view{}, err
	}
	d := alertData{Alert: newAlertRow(a), Compare: newCompareChart(a), Trend: trend, Return: "/alerts/" + url.PathEscape(a.ID)}
	if i := slices.IndexFunc(rules, func(x store.AlertRule) bool { return x.ID == a.RuleID }); i >= 0 {
		d.Rule = &rules[i]
	}
	if a.TraceID != "" {
		d.TraceURL = "/traces/" + url.PathEscape(a.TraceID)
		if a.SpanID != "" {
			d.TraceURL += "?span=" + url.QueryEscape(a.SpanID)
		}
	}
	for _, dl := range ds {
		name := dl.ChannelID
		if i := slices.IndexFunc(chans, func(c store.Channel) bool { return c.ID == dl.ChannelID }); i >= 0 {
			name = chans[i].Name
		}
		d.Deliveries = append(d.Deliveries, deliveryRow{Delivery: dl, Channel: name})
	}
	switch r.URL.Query().Get("done") {
	case "acknowledged":
		d.Flash = "Acknowledged: the alert keeps counting repeats but notifies no one again."
	case "resolved":
		d.Flash = "Resolved: the channels get the resolve event at the engine's next tick."
	}
	return view{Page: "alert", Title: "Alert · " + a.Type, Nav: "alerts", Data: d}, nil
}
