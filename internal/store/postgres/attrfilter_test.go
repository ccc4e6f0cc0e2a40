package postgres

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/store/storetest"
)

// TestAttributeFiltersUnresolved runs the attribute filter tests with no match resolved to
// its traces ahead of the listing (every one has more than resolveTraces = 0), so each
// takes the subquery path, which the suite's small data never reaches otherwise.
func TestAttributeFiltersUnresolved(t *testing.T) {
	storetest.RunAttributeFilters(t, func(t *testing.T) store.Store {
		cfg := defaultConfig()
		cfg.resolveTraces = 0
		return openTemp(t, cfg)
	})
}

// TestSpanSearchWindowPages pages through attribute matches one trace at a time where the
// window of the next traces (20 for a page of 1) ends inside a run of traces that start at
// the same instant S: 15 newer traces and the first 5 of the run (all "silver") fill it,
// and the run's next trace matches on a child span that starts an hour after S, later than
// any trace of the window ends. The first page must find that trace, not the run's later
// ones, and every page after it. (Bounding the window's span search by the window's last
// end, as a deep-page optimization once did, missed it; so would a span whose end precedes
// its start, which the store keeps as sent.)
func TestSpanSearchWindowPages(t *testing.T) {
	s := openTemp(t, defaultConfig())
	ctx := context.Background()
	at := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	mk := func(id int, start time.Duration, tier string) genai.Span {
		return genai.Span{ProjectID: "p", TraceID: fmt.Sprintf("%032x", id), SpanID: fmt.Sprintf("%016x", id), Name: "op",
			ServiceName: "svc", StartTime: at.Add(start), EndTime: at.Add(start + 900*time.Millisecond),
			StatusCode: genai.StatusOK, Attributes: map[string]any{"tier": tier}}
	}
	var spans []genai.Span
	for i := 1; i <= 15; i++ {
		spans = append(spans, mk(200+i, time.Duration(i)*time.Second, "silver"))
	}
	for id := 109; id >= 105; id-- {
		spans = append(spans, mk(id, 0, "silver"))
	}
	late := mk(104, 0, "silver")
	child := mk(1104, time.Hour, "gold")
	child.TraceID, child.ParentSpanID = late.TraceID, late.SpanID
	spans = append(spans, late, child)
	want := []string{late.TraceID}
	for id := 103; id >= 100; id-- {
		sp := mk(id, 0, "gold")
		spans, want = append(spans, sp), append(want, sp.TraceID)
	}
	if err := s.Write(ctx, store.Batch{Spans: spans}); err != nil {
		t.Fatal(err)
	}
	var got []string
	q := store.TraceQuery{ProjectID: "p", Limit: 1, Attributes: []store.AttributeFilter{{Key: "tier", Value: "gold"}}}
	for range len(want) + 1 {
		page, err := s.Traces(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range page.Traces {
			got = append(got, tr.TraceID)
		}
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged traces:\n got %v\nwant %v", got, want)
	}
}
