package web

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/url"
	"sync"
	"time"

	"github.com/use-lumina/lumina/internal/limits"
	"github.com/use-lumina/lumina/internal/store"
)

// window is a time range the home and cost pages aggregate, ending now.
type window struct {
	Key     string
	Label   string
	Dur     time.Duration
	Buckets int
}

// windows are the ranges offered; the first is the default.
var windows = []window{
	{"24h", "24 hours", 24 * time.Hour, 48},
	{"1h", "1 hour", time.Hour, 60},
	{"7d", "7 days", 7 * 24 * time.Hour, 56},
	{"30d", "30 days", 30 * 24 * time.Hour, 60},
}

// windowLink is one entry of the window picker.
type windowLink struct {
	window
	URL     string
	Current bool
}

// pickWindow reads ?window= and returns the window with its bounds: it ends at the next
// bucket boundary after now, so buckets line up from one reload to the next.
func pickWindow(r *request, basePath string) (window, time.Time, time.Time, []windowLink, error) {
	key := r.URL.Query().Get("window")
	w := windows[0]
	found := key == ""
	for _, c := range windows {
		if c.Key == key {
			w, found = c, true
		}
	}
	if !found {
		return w, time.Time{}, time.Time{}, nil, badRequestf("window must be one of 1h, 24h, 7d or 30d, got %q", key)
	}
	width := w.Dur / time.Duration(w.Buckets)
	until := r.Now.Truncate(width).Add(width)
	links := make([]windowLink, len(windows))
	for i, c := range windows {
		links[i] = windowLink{window: c, URL: basePath + "?window=" + url.QueryEscape(c.Key), Current: c.Key == w.Key}
	}
	return w, until.Add(-w.Dur), until, links, nil
}

// kpi is one stat card: a value and its change against the previous window.
type kpi struct {
	Label string
	Value string
	Delta string // "+12.3%", "new", "" when there is nothing to compare
	// Trend is "up" or "down"; Good says whether that direction is good news.
	Trend string
	Good  bool
	Hint  string
}

// compare fills k's delta from cur and prev; higherIsBad says which direction is bad news.
func (k kpi) compare(cur, prev float64, higherIsBad bool) kpi {
	switch {
	case prev == 0 && cur == 0:
		return k
	case prev == 0:
		k.Delta, k.Trend, k.Good = "new", "up", !higherIsBad
		return k
	}
	ch := (cur - prev) / prev
	if math.Abs(ch) < 0.0005 {
		k.Delta = "±0%"
		return k
	}
	k.Delta = fmt.Sprintf("%+.1f%%", ch*100)
	k.Trend = "down"
	if ch > 0 {
		k.Trend = "up"
	}
	k.Good = (ch > 0) != higherIsBad
	return k
}

func errorRate(s store.OverviewStats) float64 {
	if s.Traces == 0 {
		return 0
	}
	return float64(s.Errors) / float64(s.Traces)
}

// kpis compares a window's totals with the previous window's.
func kpis(cur, prev store.OverviewStats) []kpi {
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	cost := kpi{Label: "Cost", Value: fmtUSD(cur.CostUSD)}.compare(cur.CostUSD, prev.CostUSD, true)
	if cur.UnpricedCalls > 0 {
		cost.Hint = fmtInt(cur.UnpricedCalls) + " unpriced calls not included"
	}
	return []kpi{
		kpi{Label: "Requests", Value: fmtInt(cur.Traces), Hint: fmtInt(cur.LLMCalls) + " LLM calls"}.compare(float64(cur.Traces), float64(prev.Traces), false),
		cost,
		kpi{Label: "Tokens", Value: fmtCompact(cur.TotalTokens), Hint: fmtCompact(cur.InputTokens) + " in · " + fmtCompact(cur.OutputTokens) + " out"}.compare(float64(cur.TotalTokens), float64(prev.TotalTokens), false),
		kpi{Label: "p50 latency", Value: fmtDuration(cur.P50)}.compare(ms(cur.P50), ms(prev.P50), true),
		kpi{Label: "p95 latency", Value: fmtDuration(cur.P95)}.compare(ms(cur.P95), ms(prev.P95), true),
		kpi{Label: "Error rate", Value: fmtPercent(errorRate(cur)), Hint: fmtInt(cur.Errors) + " failed traces"}.compare(errorRate(cur), errorRate(prev), true),
	}
}

// homeData is the home page.
type homeData struct {
	Windows      []windowLink
	Window       window
	Since, Until time.Time
	KPIs         []kpi
	CostChart    chart
	LatencyChart chart
	TrafficChart chart
	Quality      qualityPanel
	Models       []modelRow
	Endpoints    []store.EndpointUsage
	Recent       []traceRow
	Live         liveConfig
	// Empty is set when the project has no trace at all: the page shows onboarding.
	Empty      bool
	Onboarding onboarding
	// Alerts are the latest firing alerts (at most 5); Firing counts them all.
	Alerts []store.Alert
	Firing int64
	// Quota is today's trace count against the daily limit, when this process can see it.
	Quota quotaView
}

// quotaView is today's use of the daily trace quota.
type quotaView struct {
	Usage   *limits.Usage
	Percent string // of the limit; "" when unlimited
	Note    string // why Usage is missing
}

// quota reads the project's quota use for the home and settings pages.
func (s *Server) quota(ctx context.Context, project string) quotaView {
	if s.cfg.Usage == nil {
		return quotaView{Note: "This dashboard process cannot see the ingest processes' counts (split roles without REDIS_URL)."}
	}
	u, err := s.cfg.Usage.Usage(ctx, project)
	if err != nil {
		return quotaView{Note: "The trace count could not be read: " + err.Error()}
	}
	q := quotaView{Usage: &u}
	if u.Limit > 0 {
		q.Percent = fmtPercent(float64(u.Count) / float64(u.Limit))
	}
	return q
}

// modelRow is a model's usage with its share of the window's cost.
type modelRow struct {
	store.ModelUsage
	Share float64
}

func modelRows(o store.Overview) []modelRow {
	rows := make([]modelRow, len(o.Models))
	for i, m := range o.Models {
		rows[i] = modelRow{ModelUsage: m}
		if o.Totals.CostUSD > 0 {
			rows[i].Share = m.CostUSD / o.Totals.CostUSD
		}
	}
	return rows
}

func (s *Server) home(ctx context.Context, r *request) (view, error) {
	w, since, until, links, err := pickWindow(r, "/")
	if err != nil {
		return view{}, err
	}
	d := homeData{Windows: links, Window: w, Since: since, Until: until}
	// The two windows are independent reads: run them side by side.
	var prev store.Overview
	var prevErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		prev, prevErr = s.store.Overview(ctx, store.OverviewQuery{ProjectID: r.Project, Since: since.Add(-w.Dur), Until: since, Buckets: 1, Top: 1})
	})
	cur, err := s.store.Overview(ctx, store.OverviewQuery{ProjectID: r.Project, Since: since, Until: until, Buckets: w.Buckets, Top: 8})
	wg.Wait()
	if err = cmp.Or(err, prevErr); err != nil {
		return view{}, err
	}
	recent, err := s.store.Traces(ctx, store.TraceQuery{ProjectID: r.Project, Limit: 10})
	if err != nil {
		return view{}, err
	}
	d.Empty = len(recent.Traces) == 0
	firing, err := s.store.Alerts(ctx, store.AlertQuery{ProjectID: r.Project, Status: store.AlertFiring, Limit: 5})
	if err != nil {
		return view{}, err
	}
	d.Alerts = firing.Alerts
	byStatus, err := s.store.AlertCounts(ctx, r.Project, time.Time{})
	if err != nil {
		return view{}, err
	}
	for _, c := range byStatus {
		if c.Status == store.AlertFiring {
			d.Firing += c.Count
		}
	}
	d.Quota = s.quota(ctx, r.Project)
	d.Onboarding = s.onboarding()
	d.KPIs = kpis(cur.Totals, prev.Totals)
	d.Models, d.Endpoints = modelRows(cur), cur.Endpoints
	for i := range recent.Traces {
		d.Recent = append(d.Recent, newTraceRow(&recent.Traces[i]))
	}
	d.Live = newLiveConfig(store.TraceQuery{}, recent.Traces, "recent")

	starts := make([]time.Time, len(cur.Buckets))
	costs, counts, errs := make([]float64, len(cur.Buckets)), make([]float64, len(cur.Buckets)), make([]float64, len(cur.Buckets))
	p50, p95 := make([]float64, len(cur.Buckets)), make([]float64, len(cur.Buckets))
	for i, b := range cur.Buckets {
		starts[i], costs[i] = b.Start, b.CostUSD
		counts[i], errs[i] = float64(b.Traces-b.Errors), float64(b.Errors)
		p50[i], p95[i] = math.NaN(), math.NaN()
		if b.Traces > 0 {
			p50[i], p95[i] = float64(b.P50)/1e6, float64(b.P95)/1e6
		}
	}
	d.CostChart = stackedBars("Cost per "+fmtDuration(cur.BucketWidth)+" bucket", starts, cur.BucketWidth,
		[]seriesData{{Name: "cost", Values: costs, Total: fmtUSD(cur.Totals.CostUSD)}}, axisUSD, 0)
	d.TrafficChart = stackedBars("Requests per bucket, ok and failed", starts, cur.BucketWidth,
		[]seriesData{{Name: "ok", Values: counts, Total: fmtInt(cur.Totals.Traces - cur.Totals.Errors)}, {Name: "error", Values: errs, Total: fmtInt(cur.Totals.Errors)}}, axisCount, 4)
	d.LatencyChart = lines("Trace latency p50 and p95 per bucket", starts, cur.BucketWidth,
		[]seriesData{{Name: "p50", Values: p50, Total: fmtDuration(cur.Totals.P50)}, {Name: "p95", Values: p95, Total: fmtDuration(cur.Totals.P95)}}, axisMS)
	if d.Quality, err = s.quality(ctx, r.Project, since, until, starts, cur.BucketWidth); err != nil {
		return view{}, err
	}
	return view{Page: "home", Title: "Overview", Nav: "home", Data: d}, nil
}

// onboarding is the copy-paste setup shown until the first trace arrives.
type onboarding struct {
	Endpoint string
	Env      string
	Go       string
	Curl     string
}

func (s *Server) onboarding() onboarding {
	ep := s.cfg.OTLPEndpoint
	return onboarding{
		Endpoint: ep,
		Env: "export OTEL_EXPORTER_OTLP_ENDPOINT=" + ep + "\n" +
			"export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf\n" +
			"export OTEL_SERVICE_NAME=my-llm-app\n" +
			"# OpenLLMetry / OTel GenAI instrumentations: record prompts and responses\n" +
			"export OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true",
		Go: `import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Reads OTEL_EXPORTER_OTLP_ENDPOINT; spans go to Lumina in batches.
exp, err := otlptracehttp.New(ctx)
if err != nil {
	return err
}
tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
otel.SetTracerProvider(tp)
defer tp.Shutdown(ctx)`,
		Curl: `curl -s ` + ep + `/v1/traces -H 'Content-Type: application/json' -d '{
  "resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"demo"}}]},
  "scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
    "name":"chat gpt-4o-mini","kind":3,
    "startTimeUnixNano":"1764763200000000000","endTimeUnixNano":"1764763200800000000",
    "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
      {"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},
      {"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},
      {"key":"gen_ai.usage.input_tokens","value":{"intValue":"1200"}},
      {"key":"gen_ai.usage.output_tokens","value":{"intValue":"300"}}]}]}]}]}'`,
	}
}
