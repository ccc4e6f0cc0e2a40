package api

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/use-lumina/lumina/internal/store"
)

func TestTraceQueryParsing(t *testing.T) {
	q, err := traceQuery("p", url.Values{"service": {"svc"}, "status": {"error"}, "min_duration_ms": {"1.5"},
		"sort": {"duration"}, "order": {"asc"}, "limit": {"10"}, "since": {"2026-12-01T00:00:00Z"}, "until": {"1764806400000"},
		"q": {`refund "late delivery"`}})
	if err != nil {
		t.Fatal(err)
	}
	if q.Service != "svc" || q.Status != "error" || q.MinDuration.Microseconds() != 1500 || q.Sort != store.SortDuration ||
		!q.Ascending || q.Limit != 10 || q.Since.Day() != 1 || q.Until.UnixMilli() != 1764806400000 ||
		q.Text != `refund "late delivery"` {
		t.Errorf("got %+v", q)
	}
	q, err = traceQuery("p", url.Values{"session_id": {"s-1"}, "user_id": {"u-1"}, "environment": {"prod"}, "tag": {"beta"},
		"provider": {"anthropic"}, "max_duration_ms": {"2000"}, "min_cost_usd": {"0.01"}, "max_cost_usd": {"1"},
		"attr": {"customer.tier=gold", "retries=3", "note=a=b", "empty="}})
	if err != nil {
		t.Fatal(err)
	}
	wantAttrs := []store.AttributeFilter{{Key: "customer.tier", Value: "gold"}, {Key: "retries", Value: "3"}, {Key: "note", Value: "a=b"}, {Key: "empty"}}
	if q.SessionID != "s-1" || q.UserID != "u-1" || q.Environment != "prod" || q.Tag != "beta" || q.Provider != "anthropic" ||
		q.MaxDuration.Milliseconds() != 2000 || q.MinCostUSD == nil || *q.MinCostUSD != 0.01 || q.MaxCostUSD == nil || *q.MaxCostUSD != 1 ||
		!slices.Equal(q.Attributes, wantAttrs) {
		t.Errorf("got %+v", q)
	}
	for _, bad := range []url.Values{
		{"limit": {"1001"}}, {"limit": {"x"}}, {"status": {"warn"}}, {"sort": {"name"}}, {"order": {"up"}},
		{"min_duration_ms": {"-1"}}, {"max_duration_ms": {"x"}}, {"since": {"tomorrow"}}, {"cursor": {"zz"}},
		{"q": {strings.Repeat("é", 257)}},
		{"min_cost_usd": {"-0.5"}}, {"max_cost_usd": {"NaN"}}, {"max_cost_usd": {"Inf"}},
		{"attr": {"no-equals"}}, {"attr": {"=value"}}, {"attr": {"k=" + strings.Repeat("v", 1024)}},
		{"attr": slices.Repeat([]string{"k=v"}, store.MaxAttributeFilters+1)},
	} {
		if _, err := traceQuery("p", bad); err == nil {
			t.Errorf("traceQuery(%v): got nil error", bad)
		}
	}
	// 256 characters (512 bytes) is the longest search.
	long := strings.Repeat("é", 256)
	if q, err := traceQuery("p", url.Values{"q": {long}}); err != nil || q.Text != long {
		t.Errorf("traceQuery(q of 256 characters): got %q, %v, want it kept", q.Text, err)
	}
	_, err = traceQuery("p", url.Values{"q": {strings.Repeat("a", 257)}})
	if e, ok := err.(*Error); !ok || e.Status != 400 || !strings.Contains(e.Message, "at most 256") {
		t.Errorf("traceQuery(q of 257 characters): got %v, want a 400 saying at most 256", err)
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
