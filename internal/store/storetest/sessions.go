package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

func runSessionTests(t *testing.T, open Opener) {
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Sessions", testSessions},
		{"SessionsPagination", testSessionsPagination},
		{"TraceSessionFilter", testTraceSessionFilter},
		{"TraceFieldFilters", testTraceFieldFilters},
		{"TraceAttributeFilters", testTraceAttributeFilters},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// sessionTrace is a one-call trace of project p in session (none when empty) for user,
// started at start, costing cost (nil: unpriced).
func sessionTrace(p string, tr int, session, user string, start time.Duration, cost *float64, fail bool) genai.Span {
	s := span(p, tr, tr*10, 0, "chat", start, 200*time.Millisecond)
	s.GenAI = &genai.Call{Type: genai.TypeLLM, Operation: "chat", Provider: "openai", RequestModel: "gpt-4o",
		Usage:     genai.Usage{InputTokens: 100, OutputTokens: 20, TotalTokens: 120, Reported: true},
		Cost:      genai.Cost{TotalUSD: cost, Source: genai.CostComputed},
		SessionID: session, UserID: user}
	if cost == nil {
		s.GenAI.Cost.Source = genai.CostUnpriced
	}
	if fail {
		s.StatusCode = genai.StatusError
	}
	return s
}

// sessionFixture: in project A, s-a (two traces of u1), s-b (one failing trace of u2), s-c
// (one unpriced trace of u1) and a trace with no session; s-a again in project B.
func sessionFixture(t *testing.T, s store.Store) {
	write(t, s, []genai.Span{
		sessionTrace(projectA, 1, "s-a", "u1", 0, f64(0.01), false),
		sessionTrace(projectA, 2, "s-a", "u1", time.Hour, f64(0.02), false),
		sessionTrace(projectA, 3, "s-b", "u2", 2*time.Hour, f64(0.5), true),
		sessionTrace(projectA, 4, "", "u1", 3*time.Hour, f64(1), false),
		sessionTrace(projectA, 5, "s-c", "u1", 30*time.Minute, nil, false),
		sessionTrace(projectB, 6, "s-a", "u9", 4*time.Hour, f64(7), false),
	})
}

func sessionIDs(ss []store.Conversation) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.SessionID)
	}
	return out
}

func testSessions(t *testing.T, s store.Store) {
	sessionFixture(t, s)
	ctx := context.Background()
	page, err := s.Conversations(ctx, store.ConversationQuery{ProjectID: projectA})
	if err != nil {
		t.Fatalf("Sessions: %v", err)
	}
	diff(t, "sessions newest first", sessionIDs(page.Conversations), []string{"s-b", "s-a", "s-c"})
	if page.NextCursor != "" {
		t.Errorf("NextCursor of the only page: got %q, want empty", page.NextCursor)
	}
	if len(page.Conversations) != 3 {
		t.Fatalf("got %d sessions, want 3", len(page.Conversations))
	}
	a := page.Conversations[1]
	if a.CostUSD < 0.0299999 || a.CostUSD > 0.0300001 {
		t.Errorf("s-a cost: got %v, want 0.03", a.CostUSD)
	}
	a.CostUSD = 0
	diff(t, "s-a totals", a, store.Conversation{SessionID: "s-a", UserID: "u1", Users: 1, Traces: 2, TotalTokens: 240,
		FirstSeen: at(0), LastSeen: at(time.Hour)})
	b, c := page.Conversations[0], page.Conversations[2]
	if b.Errors != 1 || b.Traces != 1 || b.UserID != "u2" {
		t.Errorf("s-b: got %+v, want one failing trace of u2", b)
	}
	if c.UnpricedCalls != 1 || c.CostUSD != 0 {
		t.Errorf("s-c: got cost %v with %d unpriced calls, want 0 with 1", c.CostUSD, c.UnpricedCalls)
	}

	for _, tt := range []struct {
		name string
		q    store.ConversationQuery
		want []string
	}{
		{"user", store.ConversationQuery{ProjectID: projectA, UserID: "u1"}, []string{"s-a", "s-c"}},
		{"since", store.ConversationQuery{ProjectID: projectA, Since: at(45 * time.Minute)}, []string{"s-b", "s-a"}},
		{"until", store.ConversationQuery{ProjectID: projectA, Until: at(time.Hour)}, []string{"s-c", "s-a"}},
		{"other project", store.ConversationQuery{ProjectID: projectB}, []string{"s-a"}},
		{"unknown project", store.ConversationQuery{ProjectID: "nobody"}, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.Conversations(ctx, tt.q)
			if err != nil {
				t.Fatalf("Sessions: %v", err)
			}
			diff(t, "sessions", sessionIDs(page.Conversations), tt.want)
		})
	}
	// The window bounds the totals too: since 45m, s-a has one trace.
	page, err = s.Conversations(ctx, store.ConversationQuery{ProjectID: projectA, Since: at(45 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got := page.Conversations[1]; got.Traces != 1 || !got.FirstSeen.Equal(at(time.Hour)) {
		t.Errorf("s-a since 45m: got %d traces first seen %v, want 1 at %v", got.Traces, got.FirstSeen, at(time.Hour))
	}
	if page, err := s.Conversations(ctx, store.ConversationQuery{ProjectID: projectB}); err != nil || page.Conversations[0].UserID != "u9" || page.Conversations[0].Traces != 1 {
		t.Errorf("project B's s-a: got %+v (err %v), want its own single trace of u9", page.Conversations, err)
	}
}

func testSessionsPagination(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Five sessions, two of them with the same last-seen time: the id breaks the tie.
	var spans []genai.Span
	for i, id := range []string{"p-1", "p-2", "p-3", "p-4", "p-5"} {
		start := time.Duration(i) * time.Minute
		if id == "p-4" {
			start = 3 * time.Minute // the same as p-3; p-4 sorts first (ids descending)
		}
		spans = append(spans, sessionTrace(projectA, 10+i, id, "u", start, f64(0.001), false))
	}
	write(t, s, spans)
	got := allPages(t, "Conversations", 2, func(cursor string) ([]string, string, error) {
		page, err := s.Conversations(ctx, store.ConversationQuery{ProjectID: projectA, Limit: 2, Cursor: cursor})
		return sessionIDs(page.Conversations), page.NextCursor, err
	})
	diff(t, "sessions over pages", got, []string{"p-5", "p-4", "p-3", "p-2", "p-1"})
	if _, err := s.Conversations(ctx, store.ConversationQuery{ProjectID: projectA, Cursor: "not a cursor!"}); !errors.Is(err, store.ErrInvalidCursor) {
		t.Errorf("bad cursor: got %v, want ErrInvalidCursor", err)
	}
}

func testTraceSessionFilter(t *testing.T, s store.Store) {
	sessionFixture(t, s)
	page, err := s.Traces(context.Background(), store.TraceQuery{ProjectID: projectA, SessionID: "s-a"})
	if err != nil {
		t.Fatalf("Traces: %v", err)
	}
	diff(t, "traces of session s-a", traceIDs(page.Traces), []string{traceID(2), traceID(1)})
	page, err = s.Traces(context.Background(), store.TraceQuery{ProjectID: projectA, SessionID: "s-a", Model: "gpt-4o", Service: "svc"})
	if err != nil {
		t.Fatalf("Traces with more filters: %v", err)
	}
	diff(t, "traces of session s-a, model and service", traceIDs(page.Traces), []string{traceID(2), traceID(1)})
}
