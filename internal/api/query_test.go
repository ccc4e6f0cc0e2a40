package api

import (
	"net/url"
	"testing"

	"github.com/use-lumina/lumina/internal/store"
)

func TestTraceQueryParsing(t *testing.T) {
	q, err := traceQuery("p", url.Values{"service": {"svc"}, "status": {"error"}, "min_duration_ms": {"1.5"},
		"sort": {"duration"}, "order": {"asc"}, "limit": {"10"}, "since": {"2026-12-01T00:00:00Z"}, "until": {"1764806400000"}})
	if err != nil {
		t.Fatal(err)
	}
	if q.Service != "svc" || q.Status != "error" || q.MinDuration.Microseconds() != 1500 || q.Sort != store.SortDuration ||
		!q.Ascending || q.Limit != 10 || q.Since.Day() != 1 || q.Until.UnixMilli() != 1764806400000 {
		t.Errorf("got %+v", q)
	}
	for _, bad := range []url.Values{
		{"limit": {"1001"}}, {"limit": {"x"}}, {"status": {"warn"}}, {"sort": {"name"}}, {"order": {"up"}},
		{"min_duration_ms": {"-1"}}, {"since": {"tomorrow"}}, {"cursor": {"zz"}},
	} {
		if _, err := traceQuery("p", bad); err == nil {
			t.Errorf("traceQuery(%v): got nil error", bad)
		}
	}
}

// FuzzTraceQuery: any query string parses or yields an API error, never a panic or an
// out-of-range limit.
func FuzzTraceQuery(f *testing.F) {
	f.Add("service=a&limit=5&sort=duration&order=asc&since=2026-01-01T00:00:00Z")
	f.Add("min_duration_ms=NaN&limit=-1")
	f.Add("cursor=%ff%fe&status=error")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := traceQuery("p", v)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("got %T %v, want an *Error", err, err)
			}
			return
		}
		if q.Limit < 1 || q.Limit > 1000 || q.MinDuration < 0 {
			t.Fatalf("accepted %+v", q)
		}
	})
}
