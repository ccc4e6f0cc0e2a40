package web

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

func TestTraceFieldFilters(t *testing.T) {
	srv := newTestServer(t, func() time.Time { return testNow }, nil)
	alice := ragTrace(201, testNow.Add(-time.Minute), "rag-api", "q1", false)
	alice[0].GenAI.UserID, alice[0].GenAI.Environment, alice[0].GenAI.Tags = "alice", "prod", []string{"beta"}
	alice[1].Attributes = map[string]any{"customer.tier": "gold", "retries": int64(2)}
	bob := ragTrace(202, testNow.Add(-2*time.Minute), "rag-api", "q2", true)
	bob[0].GenAI.UserID, bob[0].GenAI.Environment = "bob", "dev"
	spans := append(append(alice, bob...), unpricedTrace(203, testNow.Add(-3*time.Minute))...)
	if err := srv.store.Write(context.Background(), store.Batch{Spans: spans}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query  string
		status int
		want   []string
		text   string
	}{
		{"user=alice", 200, []string{tid(201)}, `name="user" value="alice"`},
		{"env=dev", 200, []string{tid(202)}, `name="env" value="dev"`},
		{"tag=beta", 200, []string{tid(201)}, `name="tag" value="beta"`},
		{"provider=acme", 200, []string{tid(203)}, `name="provider" value="acme"`},
		{"provider=anthropic&status=error", 200, []string{tid(202)}, ""},
		{"max_ms=2000", 200, []string{tid(201), tid(202)}, ""},
		{"min_cost=0.005", 200, []string{tid(201), tid(202)}, ""},
		{"max_cost=%240.01", 200, []string{tid(201), tid(202)}, ""},
		{"max_cost=0.001", 200, nil, "No traces match these filters."},
		{"user=alice&env=dev", 200, nil, ""},
		{"attr=customer.tier%3Dgold", 200, []string{tid(201)}, `name="attr" value="customer.tier=gold"`},
		{"attr=retries%3D2", 200, []string{tid(201)}, ""},
		{"attr=+customer.tier+%3D+silver", 200, nil, "No traces match these filters."},
		{"attr=customer.tier", 400, nil, "attribute must be key=value, like customer.tier=gold"},
		{"attr=%3Dgold", 400, nil, "attribute must be key=value"},
		{"min_ms=2000&max_ms=1000", 400, nil, "maximum duration (1000 ms) must not be below the minimum (2000 ms)"},
		{"min_cost=abc", 400, nil, "minimum cost must be a number of dollars, got &#34;abc&#34;"},
		{"min_cost=-1", 400, nil, "minimum cost must be a number of dollars"},
		{"min_cost=1&max_cost=0.5", 400, nil, "maximum cost ($0.5) must not be below the minimum ($1)"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res, body := get(t, srv, "/traces?"+tt.query)
			if res.StatusCode != tt.status {
				t.Fatalf("status: got %d, want %d", res.StatusCode, tt.status)
			}
			if got := traceIDsIn(body); !slices.Equal(got, tt.want) {
				t.Errorf("traces: got %v, want %v", got, tt.want)
			}
			if !strings.Contains(body, tt.text) {
				t.Errorf("body lacks %q", tt.text)
			}
		})
	}
	// A filtered page links its next page and sort headers with the new filters kept.
	_, body := get(t, srv, "/traces?user=alice&max_cost=1")
	if !strings.Contains(body, `href="/traces?max_cost=1&amp;order=asc&amp;sort=duration&amp;user=alice"`) &&
		!strings.Contains(body, `max_cost=1&amp;sort=duration&amp;user=alice`) {
		t.Error("the duration sort link drops the user or cost filter")
	}
}
