package storetest

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// filterFixture writes four traces in project A and one look-alike in project B:
//
//	1: checkout (root) + payments, "POST /checkout", error, gpt-4o,  t=0,  2s
//	2: search,                     "GET /search",    ok,    claude,  t=1m, 500ms
//	3: search,                     "GET /search",    ok,    none,    t=2m, 5s
//	4: search (root) + payments,   "GET /search",    ok,    gpt-4o wrapper over gpt-4o-mini, t=3m, 1s
func filterFixture(t *testing.T, s store.Store) {
	t.Helper()
	mk := func(p string, tr int, svc, name string, start, d time.Duration) genai.Span {
		r := span(p, tr, 1, 0, name, start, d)
		r.ServiceName = svc
		return r
	}
	t1pay := span(projectA, 1, 2, 1, "charge", 100*time.Millisecond, time.Second)
	t1pay.ServiceName, t1pay.StatusCode = "payments", genai.StatusError
	t1llm := llm(projectA, 1, 3, 1, "gpt-4o", 10, 5, f64(0.01))
	t2llm := llm(projectA, 2, 2, 1, "claude-sonnet-4", 10, 5, f64(0.01))
	t2llm.StartTime, t2llm.EndTime = at(time.Minute+time.Millisecond), at(time.Minute+2*time.Millisecond)
	t2llm.ServiceName = "search"
	t4pay := span(projectA, 4, 2, 1, "refund", 3*time.Minute+time.Millisecond, time.Millisecond)
	t4pay.ServiceName = "payments"
	t4wrap := llm(projectA, 4, 3, 1, "gpt-4o", 10, 5, f64(0.01))
	t4leaf := llm(projectA, 4, 4, 3, "gpt-4o-mini", 10, 5, f64(0.01))
	for _, sp := range []*genai.Span{&t4wrap, &t4leaf} {
		sp.StartTime, sp.EndTime = at(3*time.Minute+2*time.Millisecond), at(3*time.Minute+3*time.Millisecond)
	}
	write(t, s, []genai.Span{
		mk(projectA, 1, "checkout", "POST /checkout", 0, 2*time.Second), t1pay, t1llm,
		mk(projectA, 2, "search", "GET /search", time.Minute, 500*time.Millisecond), t2llm,
		mk(projectA, 3, "search", "GET /search", 2*time.Minute, 5*time.Second),
		mk(projectA, 4, "search", "GET /search", 3*time.Minute, time.Second), t4pay, t4wrap, t4leaf,
	})
	bErr := mk(projectB, 5, "checkout", "POST /checkout", 0, 2*time.Second)
	bErr.StatusCode = genai.StatusError
	write(t, s, []genai.Span{bErr, llm(projectB, 5, 2, 1, "gpt-4o", 1, 1, nil)})
}

func testFilters(t *testing.T, s store.Store) {
	filterFixture(t, s)
	// Descending start time is the default order.
	tests := []struct {
		name string
		q    store.TraceQuery
		want []int
	}{
		{"no filter", store.TraceQuery{}, []int{4, 3, 2, 1}},
		{"service of the root", store.TraceQuery{Service: "checkout"}, []int{1}},
		{"service of a child span", store.TraceQuery{Service: "payments"}, []int{4, 1}},
		{"service miss", store.TraceQuery{Service: "billing"}, nil},
		{"name", store.TraceQuery{Name: "GET /search"}, []int{4, 3, 2}},
		{"name of a child span is no match", store.TraceQuery{Name: "charge"}, nil},
		{"status error", store.TraceQuery{Status: genai.StatusError}, []int{1}},
		{"status ok", store.TraceQuery{Status: genai.StatusOK}, []int{4, 3, 2}},
		{"model", store.TraceQuery{Model: "gpt-4o"}, []int{1}},
		{"model of the innermost call", store.TraceQuery{Model: "gpt-4o-mini"}, []int{4}},
		{"model miss", store.TraceQuery{Model: "gpt-5"}, nil},
		{"since is inclusive", store.TraceQuery{Since: at(time.Minute)}, []int{4, 3, 2}},
		{"until is exclusive", store.TraceQuery{Until: at(2 * time.Minute)}, []int{2, 1}},
		{"since and until", store.TraceQuery{Since: at(30 * time.Second), Until: at(150 * time.Second)}, []int{3, 2}},
		{"since miss", store.TraceQuery{Since: at(time.Hour)}, nil},
		{"min duration is inclusive", store.TraceQuery{MinDuration: 2 * time.Second}, []int{3, 1}},
		{"min duration miss", store.TraceQuery{MinDuration: time.Minute}, nil},
		{"service and status", store.TraceQuery{Service: "payments", Status: genai.StatusOK}, []int{4}},
		{"service and model miss", store.TraceQuery{Service: "search", Model: "gpt-4o"}, nil},
		{"name, model and duration", store.TraceQuery{Name: "GET /search", Model: "claude-sonnet-4", MinDuration: 500 * time.Millisecond}, []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.ProjectID = projectA
			page, err := s.Traces(context.Background(), q)
			if err != nil {
				t.Fatalf("Traces(%+v): %v", q, err)
			}
			diff(t, "trace ids", traceIDs(page.Traces), ids(tt.want))
			if page.NextCursor != "" {
				t.Errorf("NextCursor: got %q, want empty", page.NextCursor)
			}
		})
	}
}

// ids maps trace numbers to trace ids; nil stays nil so it compares with an empty page.
func ids(ns []int) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, traceID(n))
	}
	return out
}

func testSorts(t *testing.T, s store.Store) {
	filterFixture(t, s)
	tests := []struct {
		sort      string
		ascending bool
		want      []int
	}{
		{"", false, []int{4, 3, 2, 1}},
		{store.SortStartTime, false, []int{4, 3, 2, 1}},
		{store.SortStartTime, true, []int{1, 2, 3, 4}},
		{store.SortDuration, false, []int{3, 1, 4, 2}},
		{store.SortDuration, true, []int{2, 4, 1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.sort+map[bool]string{true: " ascending", false: " descending"}[tt.ascending], func(t *testing.T) {
			page, err := s.Traces(context.Background(), store.TraceQuery{ProjectID: projectA, Sort: tt.sort, Ascending: tt.ascending})
			if err != nil {
				t.Fatalf("Traces: %v", err)
			}
			diff(t, "trace ids", traceIDs(page.Traces), ids(tt.want))
		})
	}
}

func testPagination(t *testing.T, s store.Store) {
	// 23 traces in 6 start-time groups and 4 durations, so every page boundary can fall
	// inside a run of equal sort keys.
	type key struct {
		start, dur time.Duration
	}
	keys := map[string]key{}
	var spans []genai.Span
	for n := 1; n <= 23; n++ {
		k := key{start: time.Duration(n%6) * time.Second, dur: time.Duration(1+n%4) * 100 * time.Millisecond}
		keys[traceID(n)] = k
		spans = append(spans, span(projectA, n, 1, 0, "root", k.start, k.dur))
	}
	write(t, s, spans)
	for _, sortBy := range []string{store.SortStartTime, store.SortDuration} {
		for _, asc := range []bool{false, true} {
			name := sortBy + map[bool]string{true: " ascending", false: " descending"}[asc]
			t.Run(name, func(t *testing.T) {
				want := make([]string, 0, len(keys))
				for id := range keys {
					want = append(want, id)
				}
				sortKey := func(id string) time.Duration {
					if sortBy == store.SortDuration {
						return keys[id].dur
					}
					return keys[id].start
				}
				slices.SortFunc(want, func(a, b string) int {
					c := cmp.Or(cmp.Compare(sortKey(a), sortKey(b)), cmp.Compare(a, b))
					if !asc {
						c = -c
					}
					return c
				})
				var got []string
				cursor := ""
				pages := 0
				for {
					page, err := s.Traces(context.Background(), store.TraceQuery{
						ProjectID: projectA, Sort: sortBy, Ascending: asc, Limit: 5, Cursor: cursor,
					})
					if err != nil {
						t.Fatalf("Traces page %d: %v", pages+1, err)
					}
					pages++
					if len(page.Traces) > 5 {
						t.Fatalf("page %d: got %d traces, want at most 5", pages, len(page.Traces))
					}
					got = append(got, traceIDs(page.Traces)...)
					if page.NextCursor == "" || pages > 10 {
						break
					}
					cursor = page.NextCursor
				}
				if pages != 5 {
					t.Errorf("pages: got %d, want 5", pages)
				}
				diff(t, "trace ids over all pages", got, want)
			})
		}
	}
	t.Run("cursor with a filter", func(t *testing.T) {
		q := store.TraceQuery{ProjectID: projectA, Since: at(2 * time.Second), Until: at(4 * time.Second), Limit: 2}
		var got []string
		for range 10 {
			page, err := s.Traces(context.Background(), q)
			if err != nil {
				t.Fatalf("Traces: %v", err)
			}
			got = append(got, traceIDs(page.Traces)...)
			if q.Cursor = page.NextCursor; q.Cursor == "" {
				break
			}
		}
		// Start 3s: n%6 == 3 → 3, 9, 15, 21; start 2s: 2, 8, 14, 20; descending by id within.
		diff(t, "trace ids", got, ids([]int{21, 15, 9, 3, 20, 14, 8, 2}))
	})
}

func testLimit(t *testing.T, s store.Store) {
	spans := make([]genai.Span, 1001)
	for i := range spans {
		spans[i] = span(projectA, i+1, 1, 0, "root", time.Duration(i)*time.Millisecond, time.Millisecond)
	}
	write(t, s, spans)
	tests := []struct {
		limit, want int
	}{
		{0, 50},
		{-1, 50},
		{1, 1},
		{999, 999},
		{1000, 1000},
		{5000, 1000},
	}
	for _, tt := range tests {
		page, err := s.Traces(context.Background(), store.TraceQuery{ProjectID: projectA, Limit: tt.limit})
		if err != nil {
			t.Fatalf("Traces(Limit %d): %v", tt.limit, err)
		}
		if len(page.Traces) != tt.want {
			t.Errorf("Traces(Limit %d): got %d traces, want %d", tt.limit, len(page.Traces), tt.want)
		}
		if page.NextCursor == "" {
			t.Errorf("Traces(Limit %d): got no NextCursor, want one (1001 traces)", tt.limit)
		}
	}
	page, err := s.Traces(context.Background(), store.TraceQuery{ProjectID: projectA, Limit: 1000, Ascending: true})
	if err != nil {
		t.Fatalf("Traces: %v", err)
	}
	page, err = s.Traces(context.Background(), store.TraceQuery{ProjectID: projectA, Limit: 1000, Ascending: true, Cursor: page.NextCursor})
	if err != nil {
		t.Fatalf("Traces second page: %v", err)
	}
	diff(t, "last page", traceIDs(page.Traces), ids([]int{1001}))
	if page.NextCursor != "" {
		t.Errorf("last page NextCursor: got %q, want empty", page.NextCursor)
	}
}

func testInvalidCursor(t *testing.T, s store.Store) {
	write(t, s, []genai.Span{span(projectA, 1, 1, 0, "root", 0, time.Second)})
	for _, c := range []string{
		"%%%not-base64",
		base64.RawURLEncoding.EncodeToString([]byte("no separator")),
		base64.RawURLEncoding.EncodeToString([]byte("12:short")),
		base64.RawURLEncoding.EncodeToString([]byte("x:" + traceID(1))),
	} {
		_, err := s.Traces(context.Background(), store.TraceQuery{ProjectID: projectA, Cursor: c})
		if !errors.Is(err, store.ErrInvalidCursor) {
			t.Errorf("Traces(Cursor %q): got %v, want ErrInvalidCursor", c, err)
		}
	}
}

func testProjectIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	// The same trace and span ids in two projects are two traces.
	a := []genai.Span{span(projectA, 1, 1, 0, "in A", 0, time.Second), llm(projectA, 1, 2, 1, "gpt-4o", 10, 5, f64(0.5))}
	b := []genai.Span{span(projectB, 1, 1, 0, "in B", 0, time.Second), llm(projectB, 1, 2, 1, "mystery", 7, 3, nil)}
	b[0].ServiceName = "svc-b"
	write(t, s, a, fullLog(projectA, 1, 2, "same-log-id", 0), fullLog(projectA, 9, 9, "orphan-a", 0))
	write(t, s, b, fullLog(projectB, 1, 2, "same-log-id", time.Second), fullLog(projectB, 8, 8, "orphan-b", 0))
	for _, p := range []genai.Price{{ID: "p1", ProjectID: projectA, Model: "a-model"}, {ID: "p1", ProjectID: projectB, Model: "b-model"}} {
		if err := s.PutPrice(ctx, p); err != nil {
			t.Fatalf("PutPrice: %v", err)
		}
	}

	for _, tc := range []struct {
		project, name, model, orphan string
		spans                        []genai.Span
	}{
		{projectA, "in A", "a-model", "orphan-a", a},
		{projectB, "in B", "b-model", "orphan-b", b},
	} {
		t.Run(tc.project, func(t *testing.T) {
			d := detail(t, s, tc.project, 1)
			wantTrace, wantSpans := expectedTrace(tc.project, 1, tc.spans)
			diff(t, "Trace", d.Trace, wantTrace)
			diff(t, "Spans", d.Spans, sortSpans(wantSpans))
			if len(d.Logs) != 1 || d.Logs[0].ProjectID != tc.project {
				t.Errorf("Logs: got %+v, want one record of %s", d.Logs, tc.project)
			}
			page, err := s.Traces(ctx, store.TraceQuery{ProjectID: tc.project})
			if err != nil {
				t.Fatalf("Traces: %v", err)
			}
			if len(page.Traces) != 1 || page.Traces[0].Name != tc.name {
				t.Errorf("Traces: got %+v, want only %q", page.Traces, tc.name)
			}
			for _, q := range []store.TraceQuery{{Service: "svc-b"}, {Model: "mystery"}} {
				q.ProjectID = tc.project
				page, err := s.Traces(ctx, q)
				if err != nil {
					t.Fatalf("Traces: %v", err)
				}
				wantN := 0
				if tc.project == projectB {
					wantN = 1
				}
				if len(page.Traces) != wantN {
					t.Errorf("Traces(%+v): got %d traces, want %d", q, len(page.Traces), wantN)
				}
			}
			orphans, err := s.Logs(ctx, store.LogQuery{ProjectID: tc.project, Orphans: true})
			if err != nil {
				t.Fatalf("Logs: %v", err)
			}
			if len(orphans) != 1 || orphans[0].ID != tc.orphan {
				t.Errorf("orphans: got %d records, want only %s", len(orphans), tc.orphan)
			}
			prices, err := s.Prices(ctx, tc.project)
			if err != nil {
				t.Fatalf("Prices: %v", err)
			}
			if len(prices) != 1 || prices[0].Model != tc.model {
				t.Errorf("Prices: got %+v, want only %s", prices, tc.model)
			}
		})
	}
	if err := s.DeletePrice(ctx, projectA, "p1"); err != nil {
		t.Fatalf("DeletePrice: %v", err)
	}
	if prices, err := s.Prices(ctx, projectB); err != nil || len(prices) != 1 {
		t.Errorf("project B prices after deleting A's: got %d, %v, want 1, nil", len(prices), err)
	}
	none, err := s.Traces(ctx, store.TraceQuery{ProjectID: "proj-none"})
	if err != nil || len(none.Traces) != 0 {
		t.Errorf("Traces of an empty project: got %d traces, %v, want 0, nil", len(none.Traces), err)
	}
}
