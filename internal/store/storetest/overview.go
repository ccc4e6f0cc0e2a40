package storetest

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// overviewFixture writes four traces inside the window [base, base+4m) of project A, two
// just outside it, and one in project B:
//
//	1: checkout "POST /checkout", t=0,     2s,    error, gpt-4o        10/5   $0.01
//	2: search   "GET /search",    t=1m,    500ms, ok,    claude        20/10  $0.02
//	3: search   "GET /search",    t=1m30s, 5s,    ok,    no model call
//	4: search   "GET /search",    t=3m,    1s,    ok,    gpt-4o wrapper over gpt-4o-mini 10/5 $0.01,
//	                                                     and mystery-model 30/0 unpriced
func overviewFixture(t *testing.T, s store.Store) {
	t.Helper()
	root := func(p string, tr int, svc, name string, start, d time.Duration) genai.Span {
		r := span(p, tr, 1, 0, name, start, d)
		r.ServiceName = svc
		return r
	}
	call := func(p string, tr, id, parent int, provider, model string, start time.Duration, in, out int64, cost *float64) genai.Span {
		c := llm(p, tr, id, parent, model, in, out, cost)
		c.GenAI.Provider = provider
		c.StartTime, c.EndTime = at(start), at(start+time.Millisecond)
		return c
	}
	t1 := root(projectA, 1, "checkout", "POST /checkout", 0, 2*time.Second)
	t1.StatusCode = genai.StatusError
	write(t, s, []genai.Span{
		t1, call(projectA, 1, 2, 1, "openai", "gpt-4o", time.Millisecond, 10, 5, f64(0.01)),
		root(projectA, 2, "search", "GET /search", time.Minute, 500*time.Millisecond),
		call(projectA, 2, 2, 1, "anthropic", "claude-sonnet-4", time.Minute+time.Millisecond, 20, 10, f64(0.02)),
		root(projectA, 3, "search", "GET /search", 90*time.Second, 5*time.Second),
		root(projectA, 4, "search", "GET /search", 3*time.Minute, time.Second),
		call(projectA, 4, 2, 1, "openai", "gpt-4o", 3*time.Minute+time.Millisecond, 10, 5, f64(0.01)),
		call(projectA, 4, 3, 2, "openai", "gpt-4o-mini", 3*time.Minute+time.Millisecond, 10, 5, f64(0.01)),
		call(projectA, 4, 4, 1, "openai", "mystery-model", 3*time.Minute+2*time.Millisecond, 30, 0, nil),
		// Outside the window: just before it, and at its exclusive end.
		root(projectA, 5, "search", "GET /search", -time.Nanosecond, time.Second),
		call(projectA, 5, 2, 1, "openai", "gpt-4o", -time.Nanosecond, 1000, 1000, f64(1)),
		root(projectA, 6, "search", "GET /search", 4*time.Minute, time.Second),
		// Another project.
		root(projectB, 7, "search", "GET /search", time.Minute, time.Second),
		call(projectB, 7, 2, 1, "openai", "gpt-4o", time.Minute, 1000, 1000, f64(1)),
	})
}

func overviewQuery(buckets, top int) store.OverviewQuery {
	return store.OverviewQuery{ProjectID: projectA, Since: base, Until: at(4 * time.Minute), Buckets: buckets, Top: top}
}

func overview(t *testing.T, s store.Store, q store.OverviewQuery) store.Overview {
	t.Helper()
	o, err := s.Overview(context.Background(), q)
	if err != nil {
		t.Fatalf("Overview(%+v): %v", q, err)
	}
	return o
}

// near reports whether two costs are equal up to summation order.
func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// nearDuration reports whether two interpolated percentiles agree to the microsecond.
func nearDuration(a, b time.Duration) bool { return (a - b).Abs() < time.Microsecond }

func checkStats(t *testing.T, what string, got, want store.OverviewStats) {
	t.Helper()
	if !near(got.CostUSD, want.CostUSD) {
		t.Errorf("%s.CostUSD: got %v, want %v", what, got.CostUSD, want.CostUSD)
	}
	if !nearDuration(got.P50, want.P50) || !nearDuration(got.P95, want.P95) {
		t.Errorf("%s percentiles: got p50 %v p95 %v, want p50 %v p95 %v", what, got.P50, got.P95, want.P50, want.P95)
	}
	got.CostUSD, got.P50, got.P95 = want.CostUSD, want.P50, want.P95
	diff(t, what, got, want)
}

func checkCosts(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d buckets, want %d", what, len(got), len(want))
		return
	}
	for i := range got {
		if !near(got[i], want[i]) {
			t.Errorf("%s[%d]: got %v, want %v", what, i, got[i], want[i])
		}
	}
}

func testOverview(t *testing.T, s store.Store) {
	overviewFixture(t, s)
	o := overview(t, s, overviewQuery(4, 0))

	if o.BucketWidth != time.Minute {
		t.Errorf("BucketWidth: got %v, want 1m", o.BucketWidth)
	}
	checkStats(t, "Totals", o.Totals, store.OverviewStats{
		Traces: 4, Errors: 1, LLMCalls: 4, InputTokens: 70, OutputTokens: 20, TotalTokens: 90,
		CostUSD: 0.04, UnpricedCalls: 1,
		// Durations 500ms, 1s, 2s, 5s: ranks 1.5 and 2.85.
		P50: 1500 * time.Millisecond, P95: 4550 * time.Millisecond,
	})
	wantBuckets := []store.OverviewStats{
		{Traces: 1, Errors: 1, LLMCalls: 1, InputTokens: 10, OutputTokens: 5, TotalTokens: 15, CostUSD: 0.01, P50: 2 * time.Second, P95: 2 * time.Second},
		{Traces: 2, LLMCalls: 1, InputTokens: 20, OutputTokens: 10, TotalTokens: 30, CostUSD: 0.02, P50: 2750 * time.Millisecond, P95: 4775 * time.Millisecond},
		{},
		{Traces: 1, LLMCalls: 2, InputTokens: 40, OutputTokens: 5, TotalTokens: 45, CostUSD: 0.01, UnpricedCalls: 1, P50: time.Second, P95: time.Second},
	}
	if len(o.Buckets) != len(wantBuckets) {
		t.Fatalf("Buckets: got %d, want %d", len(o.Buckets), len(wantBuckets))
	}
	for i, b := range o.Buckets {
		if want := at(time.Duration(i) * time.Minute); !b.Start.Equal(want) || b.Start.Location() != time.UTC {
			t.Errorf("Buckets[%d].Start: got %v, want %v in UTC", i, b.Start, want)
		}
		checkStats(t, fmt.Sprintf("Buckets[%d]", i), b.OverviewStats, wantBuckets[i])
	}

	wantModels := []struct {
		provider, model       string
		calls, in, out, total int64
		cost                  float64
		unpriced              int64
		buckets               []float64
	}{
		{"anthropic", "claude-sonnet-4", 1, 20, 10, 30, 0.02, 0, []float64{0, 0.02, 0, 0}},
		{"openai", "gpt-4o", 1, 10, 5, 15, 0.01, 0, []float64{0.01, 0, 0, 0}},
		{"openai", "gpt-4o-mini", 1, 10, 5, 15, 0.01, 0, []float64{0, 0, 0, 0.01}},
		{"openai", "mystery-model", 1, 30, 0, 30, 0, 1, []float64{0, 0, 0, 0}},
	}
	if len(o.Models) != len(wantModels) {
		t.Fatalf("Models: got %+v, want %d models", o.Models, len(wantModels))
	}
	for i, w := range wantModels {
		m := o.Models[i]
		if m.Provider != w.provider || m.Model != w.model || m.Calls != w.calls || m.InputTokens != w.in ||
			m.OutputTokens != w.out || m.TotalTokens != w.total || !near(m.CostUSD, w.cost) || m.UnpricedCalls != w.unpriced {
			t.Errorf("Models[%d]: got %+v, want %+v", i, m, w)
		}
		checkCosts(t, "Models["+w.model+"].BucketCost", m.BucketCost, w.buckets)
	}

	if len(o.Services) != 2 {
		t.Fatalf("Services: got %+v, want search then checkout", o.Services)
	}
	for i, w := range []store.ServiceUsage{
		{Service: "search", Traces: 3, TotalTokens: 75, CostUSD: 0.03, UnpricedCalls: 1, BucketCost: []float64{0, 0.02, 0, 0.01}},
		{Service: "checkout", Traces: 1, TotalTokens: 15, CostUSD: 0.01, BucketCost: []float64{0.01, 0, 0, 0}},
	} {
		sv := o.Services[i]
		if sv.Service != w.Service || sv.Traces != w.Traces || sv.TotalTokens != w.TotalTokens || !near(sv.CostUSD, w.CostUSD) || sv.UnpricedCalls != w.UnpricedCalls {
			t.Errorf("Services[%d]: got %+v, want %+v", i, sv, w)
		}
		checkCosts(t, "Services["+w.Service+"].BucketCost", sv.BucketCost, w.BucketCost)
	}

	wantEndpoints := []store.EndpointUsage{
		{Service: "search", Name: "GET /search", Traces: 3, TotalTokens: 75, CostUSD: 0.03, UnpricedCalls: 1, MeanDuration: 2166666667},
		{Service: "checkout", Name: "POST /checkout", Traces: 1, Errors: 1, TotalTokens: 15, CostUSD: 0.01, MeanDuration: 2 * time.Second},
	}
	if len(o.Endpoints) != len(wantEndpoints) {
		t.Fatalf("Endpoints: got %+v, want %+v", o.Endpoints, wantEndpoints)
	}
	for i, w := range wantEndpoints {
		e := o.Endpoints[i]
		if !near(e.CostUSD, w.CostUSD) || !nearDuration(e.MeanDuration, w.MeanDuration) {
			t.Errorf("Endpoints[%d]: got %+v, want %+v", i, e, w)
		}
		e.CostUSD, e.MeanDuration = w.CostUSD, w.MeanDuration
		diff(t, "Endpoints["+w.Name+"]", e, w)
	}

	// Trace 3 has no cost, so it is not listed.
	wantExpensive := []store.TraceCost{
		{TraceID: traceID(2), Service: "search", Name: "GET /search", StartTime: at(time.Minute), Duration: 500 * time.Millisecond, TotalTokens: 30, CostUSD: 0.02},
		{TraceID: traceID(1), Service: "checkout", Name: "POST /checkout", StartTime: base, Duration: 2 * time.Second, TotalTokens: 15, CostUSD: 0.01},
		{TraceID: traceID(4), Service: "search", Name: "GET /search", StartTime: at(3 * time.Minute), Duration: time.Second, TotalTokens: 45, CostUSD: 0.01},
	}
	if len(o.Expensive) != len(wantExpensive) {
		t.Fatalf("Expensive: got %+v, want %+v", o.Expensive, wantExpensive)
	}
	for i, w := range wantExpensive {
		e := o.Expensive[i]
		if !near(e.CostUSD, w.CostUSD) {
			t.Errorf("Expensive[%d].CostUSD: got %v, want %v", i, e.CostUSD, w.CostUSD)
		}
		e.CostUSD = w.CostUSD
		diff(t, fmt.Sprintf("Expensive[%d]", i), e, w)
	}
}

func testOverviewTopAndBuckets(t *testing.T, s store.Store) {
	overviewFixture(t, s)
	o := overview(t, s, overviewQuery(1, 2))
	if len(o.Models) != 2 || o.Models[0].Model != "claude-sonnet-4" || o.Models[1].Model != "gpt-4o" {
		t.Errorf("Top 2 models: got %+v, want claude-sonnet-4, gpt-4o", o.Models)
	}
	if len(o.Buckets) != 1 || o.Buckets[0].Traces != 4 || o.BucketWidth != 4*time.Minute {
		t.Errorf("one bucket: got width %v, %+v; want 4m and the 4 traces", o.BucketWidth, o.Buckets)
	}
	// 4m does not divide into 7: the width rounds up, and every trace still lands in a bucket.
	o = overview(t, s, overviewQuery(7, 0))
	if want := 34285714286 * time.Nanosecond; o.BucketWidth != want {
		t.Errorf("BucketWidth of 7 buckets: got %v, want %v", o.BucketWidth, want)
	}
	var n int64
	for _, b := range o.Buckets {
		n += b.Traces
	}
	if len(o.Buckets) != 7 || n != 4 {
		t.Errorf("7 buckets: got %d buckets holding %d traces, want 7 holding 4", len(o.Buckets), n)
	}
	if got, want := o.Buckets[6].Start, base.Add(6*o.BucketWidth); !got.Equal(want) {
		t.Errorf("Buckets[6].Start: got %v, want %v", got, want)
	}
	// Buckets ≤ 0 means one bucket; beyond the maximum is clamped.
	if o := overview(t, s, overviewQuery(0, 0)); len(o.Buckets) != 1 {
		t.Errorf("Buckets 0: got %d buckets, want 1", len(o.Buckets))
	}
	if o := overview(t, s, overviewQuery(store.MaxOverviewBuckets+5, 0)); len(o.Buckets) != store.MaxOverviewBuckets {
		t.Errorf("Buckets over the maximum: got %d buckets, want %d", len(o.Buckets), store.MaxOverviewBuckets)
	}
}

func testOverviewEmpty(t *testing.T, s store.Store) {
	o := overview(t, s, overviewQuery(3, 0))
	if o.Totals != (store.OverviewStats{}) || len(o.Buckets) != 3 || len(o.Models) != 0 || len(o.Services) != 0 || len(o.Endpoints) != 0 {
		t.Errorf("empty store: got %+v, want zero totals, 3 empty buckets and no breakdowns", o)
	}
	for _, q := range []store.OverviewQuery{
		{ProjectID: projectA, Since: base, Until: base},
		{ProjectID: projectA, Since: base, Until: at(-time.Second)},
		{ProjectID: projectA, Until: base},
	} {
		if _, err := s.Overview(context.Background(), q); err == nil {
			t.Errorf("Overview(since %v, until %v): got nil error, want an invalid window", q.Since, q.Until)
		}
	}
}
