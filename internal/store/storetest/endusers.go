package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

func runEndUserTests(t *testing.T, open Opener) {
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"EndUsers", testEndUsers},
		{"EndUsersPagination", testEndUsersPagination},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func endUserIDs(us []store.EndUser) []string {
	out := []string{}
	for _, u := range us {
		out = append(out, u.UserID)
	}
	return out
}

func testEndUsers(t *testing.T, s store.Store) {
	// sessionFixture: in project A, u1 has s-a (traces 1 at 0 and 2 at 1h), s-c (unpriced, at
	// 30m) and a trace without a session at 3h; u2 has s-b (failing, at 2h); project B has u9.
	sessionFixture(t, s)
	write(t, s, []genai.Span{sessionTrace(projectA, 7, "s-d", "", 5*time.Hour, f64(3), false)}) // no user: left out
	ctx := context.Background()
	page, err := s.EndUsers(ctx, store.EndUserQuery{ProjectID: projectA})
	if err != nil {
		t.Fatalf("EndUsers: %v", err)
	}
	diff(t, "end users, most recently active first", endUserIDs(page.Users), []string{"u1", "u2"})
	if page.NextCursor != "" {
		t.Errorf("NextCursor of the only page: got %q, want empty", page.NextCursor)
	}
	if len(page.Users) != 2 {
		t.Fatalf("got %d users, want 2", len(page.Users))
	}
	u1 := page.Users[0]
	if u1.CostUSD < 1.0299999 || u1.CostUSD > 1.0300001 {
		t.Errorf("u1 cost: got %v, want 1.03 (the priced traces)", u1.CostUSD)
	}
	u1.CostUSD = 0
	diff(t, "u1 totals", u1, store.EndUser{UserID: "u1", Traces: 4, Sessions: 2, TotalTokens: 480, UnpricedCalls: 1,
		FirstSeen: at(0), LastSeen: at(3 * time.Hour)})
	u2 := page.Users[1]
	u2.CostUSD = 0
	diff(t, "u2 totals", u2, store.EndUser{UserID: "u2", Traces: 1, Sessions: 1, Errors: 1, TotalTokens: 120,
		FirstSeen: at(2 * time.Hour), LastSeen: at(2 * time.Hour)})

	for _, tt := range []struct {
		name string
		q    store.EndUserQuery
		want []string
	}{
		{"since", store.EndUserQuery{ProjectID: projectA, Since: at(150 * time.Minute)}, []string{"u1"}},
		{"until", store.EndUserQuery{ProjectID: projectA, Until: at(150 * time.Minute)}, []string{"u2", "u1"}},
		{"other project", store.EndUserQuery{ProjectID: projectB}, []string{"u9"}},
		{"unknown project", store.EndUserQuery{ProjectID: "nobody"}, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.EndUsers(ctx, tt.q)
			if err != nil {
				t.Fatalf("EndUsers: %v", err)
			}
			diff(t, "end users", endUserIDs(page.Users), tt.want)
		})
	}
	// The window bounds the totals too: before 150m, u1 has traces 1, 2 and 5, last seen at 1h.
	page, err = s.EndUsers(ctx, store.EndUserQuery{ProjectID: projectA, Until: at(150 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got := page.Users[1]; got.UserID != "u1" || got.Traces != 3 || !got.LastSeen.Equal(at(time.Hour)) {
		t.Errorf("u1 until 150m: got %+v, want 3 traces last seen at %v", got, at(time.Hour))
	}
	page, err = s.EndUsers(ctx, store.EndUserQuery{ProjectID: projectB})
	if err != nil || len(page.Users) != 1 || page.Users[0].Traces != 1 || page.Users[0].CostUSD != 7 {
		t.Errorf("project B: got %+v (err %v), want u9's single trace costing 7", page.Users, err)
	}
}

func testEndUsersPagination(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Five users, two of them with the same last-seen time: the id breaks the tie.
	var spans []genai.Span
	for i, id := range []string{"user-1", "user-2", "user-3", "user-4", "user-5"} {
		start := time.Duration(i) * time.Minute
		if id == "user-4" {
			start = 2 * time.Minute // the same as user-3; user-4 sorts first (ids descending)
		}
		spans = append(spans, sessionTrace(projectA, 20+i, "", id, start, f64(0.001), false))
	}
	write(t, s, spans)
	got := allPages(t, "EndUsers", 2, func(cursor string) ([]string, string, error) {
		page, err := s.EndUsers(ctx, store.EndUserQuery{ProjectID: projectA, Limit: 2, Cursor: cursor})
		return endUserIDs(page.Users), page.NextCursor, err
	})
	diff(t, "end users over pages", got, []string{"user-5", "user-4", "user-3", "user-2", "user-1"})
	if _, err := s.EndUsers(ctx, store.EndUserQuery{ProjectID: projectA, Cursor: "not a cursor!"}); !errors.Is(err, store.ErrInvalidCursor) {
		t.Errorf("bad cursor: got %v, want ErrInvalidCursor", err)
	}
}
