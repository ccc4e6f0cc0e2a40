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

// trendCall is a gpt-4o call of chat-api at the given time, costing usd (nil: unpriced).
func trendCall(n int, at time.Time, model string, usd *float64) genai.Span {
	return genai.Span{ProjectID: "default", TraceID: tid(900 + n), SpanID: sid(900 + n), Name: "chat " + "gpt-4o", Kind: "client",
		ServiceName: "chat-api", StartTime: at, EndTime: at.Add(200 * time.Millisecond), StatusCode: genai.StatusOK,
		GenAI: &genai.Call{Type: genai.TypeLLM, Operation: "chat", Provider: "openai", RequestModel: model,
			Cost: genai.Cost{TotalUSD: usd, Source: genai.CostComputed}}}
}

// trendAlert is a cost spike on chat-api / chat gpt-4o / gpt-4o that fired an hour before
// testNow: baseline $0.004, +50% (line $0.006).
func trendAlert(id string) store.Alert {
	return store.Alert{ID: id, ProjectID: "default", RuleID: "rule-cost", Type: store.RuleCostSpike, Severity: store.SeverityWarning,
		Status: store.AlertFiring, DedupKey: "rule-cost|chat-api / chat gpt-4o / gpt-4o", Service: "chat-api", Endpoint: "chat gpt-4o",
		Model: "gpt-4o", Metric: "cost_usd", Observed: 0.01, Baseline: 0.004, Threshold: 0.006, Explanation: "cost per request up",
		Count: 2, FiredAt: testNow.Add(-time.Hour), LastSeenAt: testNow.Add(-40 * time.Minute)}
}

func TestAlertTrend(t *testing.T) {
	srv := newTestServer(t, func() time.Time { return testNow }, nil)
	ctx := context.Background()
	day := func(h, m int) time.Time { return time.Date(2026, 12, 3, h, m, 0, 0, time.UTC) }
	// Window 05:00 to 12:00 (now) in 10-minute buckets: 42 of them, the firing at 11:00.
	if err := srv.store.Write(ctx, store.Batch{Spans: []genai.Span{
		trendCall(1, day(10, 0), "gpt-4o", f64(0.004)), trendCall(2, day(10, 5), "gpt-4o", f64(0.002)), // mean $0.003
		trendCall(3, day(11, 0), "gpt-4o", f64(0.009)), trendCall(4, day(11, 2), "gpt-4o", f64(0.011)), // mean $0.01
		trendCall(5, day(11, 10), "gpt-4o", nil),         // a request without a cost: no point
		trendCall(6, day(10, 30), "gpt-4o-mini", f64(1)), // another model
		trendCall(7, day(4, 50), "gpt-4o", f64(1)),       // before the window
	}}); err != nil {
		t.Fatalf("write spans: %v", err)
	}
	if err := srv.store.PutAlert(ctx, trendAlert(aid(50))); err != nil {
		t.Fatalf("put alert: %v", err)
	}
	_, body := get(t, srv, "/alerts/"+aid(50))
	for _, w := range []string{
		`<h2 id="trend-h">Cost per request over time</h2>`,
		`chat-api / chat gpt-4o / gpt-4o · per 10m`,
		// The series: bucket centres (x = 58 + 494 × (i + 0.5) / 42) on an axis up to $0.01.
		`cx="416.74" cy="113" r="2.2"><title>Dec 3 10:00 UTC · cost per request $0.003</title>`,
		`cx="487.31" cy="8" r="2.2"><title>Dec 3 11:00 UTC · cost per request $0.01</title>`,
		// Baseline and threshold lines, at $0.004 and $0.006.
		`<g class="ref ref-base"><line x1="58" x2="552" y1="98" y2="98"/>`,
		`<g class="ref ref-limit"><line x1="58" x2="552" y1="68" y2="68"/>`,
		// The firing, six hours into the seven.
		`<g class="mark"><line x1="481.43" x2="481.43" y1="8" y2="158"/>`,
		`aria-label="Cost per request of chat-api / chat gpt-4o / gpt-4o per 10m, Dec 3 05:00 to Dec 3 12:00 UTC: peak $0.01 in the bucket of Dec 3 11:00 UTC; baseline $0.004000; threshold $0.006000; fired 11:00 UTC"`,
		`id="trend-table"`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("alert page lacks %q", w)
		}
	}
	// The table lists the three buckets with requests, the unpriced one without a value.
	table := body[strings.Index(body, `id="trend-table"`):]
	table = table[:strings.Index(table, "</table>")]
	if got := strings.Count(table, "<tr><td"); got != 3 {
		t.Errorf("data table has %d rows, want 3", got)
	}
	for _, w := range []string{"10:00:00.000</td><td class=\"num\">2</td><td class=\"num\">$0.003</td>",
		"11:00:00.000</td><td class=\"num\">2</td><td class=\"num\">$0.01</td>",
		"11:10:00.000</td><td class=\"num\">1</td><td class=\"num\">—</td>"} {
		if !strings.Contains(table, w) {
			t.Errorf("data table lacks %q:\n%s", w, table)
		}
	}
	if strings.Contains(body, `id="trend-empty"`) {
		t.Error("a window with data says it has none")
	}
}

func TestAlertTrendEmptyWindow(t *testing.T) {
	srv := newTestServer(t, func() time.Time { return testNow }, nil)
	ctx := context.Background()
	// The key's only request is a day before the alert.
	if err := srv.store.Write(ctx, store.Batch{Spans: []genai.Span{trendCall(1, testNow.Add(-25*time.Hour), "gpt-4o", f64(0.004))}}); err != nil {
		t.Fatalf("write spans: %v", err)
	}
	if err := srv.store.PutAlert(ctx, trendAlert(aid(51))); err != nil {
		t.Fatalf("put alert: %v", err)
	}
	_, body := get(t, srv, "/alerts/"+aid(51))
	want := `<p class="empty" id="trend-empty">No cost per request of chat-api / chat gpt-4o / gpt-4o is stored between Dec 3 05:00 and Dec 3 12:00 UTC`
	if !strings.Contains(body, want) {
		t.Errorf("alert page lacks %q", want)
	}
	for _, no := range []string{`id="trend-table"`, `class="mark"`, `<g class="ref`} {
		if strings.Contains(body, no) {
			t.Errorf("empty trend still shows %q", no)
		}
	}
}

func TestTrendSeries(t *testing.T) {
	bs := []store.KeyBucket{
		{Requests: 4, Errors: 1, Priced: 2, CostUSD: 0.02, LatencyMS: 2000, Scored: 2, QualitySum: 1.5},
		{},
		{Requests: 2, Errors: 2, Priced: 1, CostUSD: 0.01, LatencyMS: 100, Scored: 0},
	}
	nan := math.NaN()
	tests := []struct {
		metric string
		name   string
		want   []float64
	}{
		{"cost_usd", "cost per request", []float64{0.01, nan, 0.01}},
		{"latency_ms", "mean latency", []float64{500, nan, 50}},
		{"error_rate", "error rate", []float64{0.25, nan, 1}},
		{"quality", "mean quality", []float64{0.75, nan, nan}},
		{"spend_day", "spend since the period start", []float64{0.02, 0.02, 0.03}},
		{"silence_minutes", "requests", []float64{4, 0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.metric, func(t *testing.T) {
			name, got, _ := trendSeries(store.Alert{Metric: tt.metric}, bs)
			if name != tt.name {
				t.Errorf("got name %q, want %q", name, tt.name)
			}
			for i, w := range tt.want {
				if math.IsNaN(w) != math.IsNaN(got[i]) || (!math.IsNaN(w) && math.Abs(got[i]-w) > 1e-12) {
					t.Errorf("bucket %d: got %v, want %v", i, got[i], w)
				}
			}
		})
	}
}

func TestTrendWindow(t *testing.T) {
	fired := time.Date(2026, 12, 3, 9, 17, 0, 0, time.UTC)
	tests := []struct {
		name         string
		a            store.Alert
		now          time.Time
		since, until time.Time
		step         time.Duration
	}{
		{"open: until now", store.Alert{Metric: "cost_usd", FiredAt: fired, LastSeenAt: fired.Add(time.Hour)}, fired.Add(90 * time.Minute),
			time.Date(2026, 12, 3, 3, 10, 0, 0, time.UTC), time.Date(2026, 12, 3, 10, 50, 0, 0, time.UTC), 10 * time.Minute},
		{"resolved: an hour after", store.Alert{Metric: "cost_usd", FiredAt: fired, LastSeenAt: fired, ResolvedAt: fired.Add(3 * time.Hour)}, fired.Add(48 * time.Hour),
			time.Date(2026, 12, 3, 3, 15, 0, 0, time.UTC), time.Date(2026, 12, 3, 13, 30, 0, 0, time.UTC), 15 * time.Minute},
		{"daily budget: from midnight", store.Alert{Metric: "spend_day", FiredAt: fired, LastSeenAt: fired}, fired.Add(time.Hour),
			time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 3, 10, 30, 0, 0, time.UTC), 15 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			since, until, step := trendWindow(tt.a, tt.now)
			if !since.Equal(tt.since) || !until.Equal(tt.until) || step != tt.step {
				t.Errorf("got %s to %s per %s, want %s to %s per %s", since, until, step, tt.since, tt.until, tt.step)
			}
		})
	}
}
