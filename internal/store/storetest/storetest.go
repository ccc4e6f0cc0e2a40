// Package storetest is the conformance suite every store.Store backend must pass. A backend's
// test calls Run with a function that opens a fresh, isolated store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
//	}
//
// The suite pins down the semantics the contract in package store leaves to prose:
//
//   - Times come back in UTC, exact to the nanosecond; the zero time comes back zero.
//   - Attribute, resource, body and other free-form values round-trip as JSON: strings,
//     float64 numbers, bools, nil, []any and map[string]any. Nil and empty maps stay
//     distinct; the genai.Call round-trips as its JSON form.
//   - A batch may repeat a span or a log record; the last span wins, a record is kept once.
//   - Trace listings break ties on the sort key by trace id, in the direction of the sort.
//     Limit ≤ 0 means 50 and anything above 1000 means 1000.
//   - Trace returns ErrNotFound when the project has logs but no span of the trace.
//   - Logs are ordered by time, then record id. An orphan is a record with messages or a
//     gen_ai.* event name whose (trace, span) is not stored, a record without a span id
//     included.
//   - Prices list newest first by CreatedAt.
//   - UnpricedModels groups by provider and Call.Model() (the response model when known),
//     counts LLM and embedding spans only, and breaks ties by provider, then model.
//   - Concurrent writes of spans of one trace lose none of them from its rollup.
package storetest

import (
	"context"
	"testing"

	"github.com/use-lumina/lumina/internal/store"
)

// Opener opens a fresh, empty store for one subtest. It isolates the store from every other
// subtest (its own file, database or schema) and registers its cleanup with t.Cleanup.
type Opener func(t *testing.T) store.Store

// Run runs the conformance suite against the backend that open creates. Each subtest opens
// its own store.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"RoundTripSpan", testRoundTripSpan},
		{"RoundTripLogs", testRoundTripLogs},
		{"IdempotentRewrite", testIdempotentRewrite},
		{"LargeBatch", testLargeBatch},
		{"RollupOutOfOrder", testRollupOutOfOrder},
		{"Counted", testCounted},
		{"Cost", testCost},
		{"TraceNotFound", testTraceNotFound},
		{"Filters", testFilters},
		{"FiltersFollowRollup", testFiltersFollowRollup},
		{"Sorts", testSorts},
		{"Pagination", testPagination},
		{"Limit", testLimit},
		{"InvalidCursor", testInvalidCursor},
		{"ProjectIsolation", testProjectIsolation},
		{"Logs", testLogs},
		{"Orphans", testOrphans},
		{"Prices", testPrices},
		{"UnpricedModels", testUnpricedModels},
		{"Overview", testOverview}, {"OverviewTopAndBuckets", testOverviewTopAndBuckets}, {"OverviewEmpty", testOverviewEmpty},
		{"KeySeries", testKeySeries}, {"QualitySeries", testQualitySeries}, {"TraceQuality", testTraceQuality},
		{"ConcurrentWrites", testConcurrentWrites},
		{"Ping", testPing},
		{"Retention", testRetention}, {"RetentionKeepsForever", testRetentionKeepsForever},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
	runAlertTests(t, open)
	runReplayTests(t, open)
	runAuthTests(t, open)
	runJudgeTests(t, open)
	runExportTests(t, open)
	runSessionTests(t, open)
	runEndUserTests(t, open)
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: got %v, want nil", err)
	}
}

// allPages reads a keyset listing to its end: next reads the page at cursor ("" for the
// first) and returns its items and the next cursor. It fails the test on an error, on a
// page of more than limit items (when limit > 0), or after 20 pages.
func allPages[T any](t *testing.T, what string, limit int, next func(cursor string) ([]T, string, error)) []T {
	t.Helper()
	var out []T
	cursor := ""
	for page := range 20 {
		items, nextCursor, err := next(cursor)
		if err != nil {
			t.Fatalf("%s page %d: %v", what, page, err)
		}
		if limit > 0 && len(items) > limit {
			t.Fatalf("%s page %d has %d items, want at most %d", what, page, len(items), limit)
		}
		out = append(out, items...)
		if nextCursor == "" {
			return out
		}
		cursor = nextCursor
	}
	t.Fatalf("%s: pagination does not end", what)
	return nil
}
