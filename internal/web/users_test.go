package web

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// userIDsIn extracts the data-user-id values of a page, in order.
func userIDsIn(body string) []string {
	var ids []string
	for _, part := range strings.Split(body, `data-user-id="`)[1:] {
		ids = append(ids, part[:strings.Index(part, `"`)])
	}
	return ids
}

func TestUsersPage(t *testing.T) {
	srv := seededServer(t)
	// A second user, active 20 minutes ago with two traces of one session, one failing.
	var batch store.Batch
	for i, n := range []int{50, 51} {
		spans := ragTrace(n, testNow.Add(-time.Duration(20+i)*time.Minute), "rag-api", "hello", i == 1)
		spans[0].GenAI.UserID, spans[0].GenAI.SessionID = "ana@example.com", "sess-ana"
		batch.Spans = append(batch.Spans, spans...)
	}
	if err := srv.store.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query  string
		status int
		want   []string
		text   string
	}{
		// u-42 holds the newest trace (21, 5 minutes ago); the other project's u-42 is not counted.
		{"", 200, []string{"u-42", "ana@example.com"}, "Showing 2 users on this page"},
		{"window=1h", 200, []string{"u-42", "ana@example.com"}, ""},
		{"window=30d", 200, []string{"u-42", "ana@example.com"}, ""},
		{"window=1y", 400, nil, "window must be 1h, 24h, 7d or 30d"},
		{"cursor=bogus", 400, nil, "The pagination cursor is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res, body := get(t, srv, "/users?"+tt.query)
			if res.StatusCode != tt.status {
				t.Fatalf("status: got %d, want %d", res.StatusCode, tt.status)
			}
			if got := userIDsIn(body); !slices.Equal(got, tt.want) {
				t.Errorf("users: got %v, want %v", got, tt.want)
			}
			if !strings.Contains(body, tt.text) {
				t.Errorf("body lacks %q", tt.text)
			}
		})
	}
	_, body := get(t, srv, "/users")
	row := body[strings.Index(body, `data-user-id="ana@example.com"`):]
	row = row[:strings.Index(row, "</tr>")]
	for _, want := range []string{`<td class="num">2</td>`, `aria-label="Sessions of user ana@example.com">1</a>`, `<span class="errtext">1</span>`,
		"$0.0105", `href="/traces?range=24h&amp;user=ana%40example.com"`, `href="/sessions?user=ana%40example.com"`} {
		if !strings.Contains(row, want) {
			t.Errorf("ana's row lacks %q:\n%s", want, row)
		}
	}
	// The row's link opens exactly that user's traces.
	_, body = get(t, srv, "/traces?range=24h&user=ana%40example.com")
	if got := traceIDsIn(body); !slices.Equal(got, []string{tid(50), tid(51)}) {
		t.Errorf("traces of ana: got %v, want [%s %s]", got, tid(50), tid(51))
	}
	if _, body := get(t, srv, "/sessions"); !strings.Contains(body, `<a href="/users">Users</a>`) {
		t.Error("the sessions page has no tab to the users view")
	}
}

func TestUsersPaginationAndEscaping(t *testing.T) {
	srv := newTestServer(t, func() time.Time { return testNow }, nil)
	var batch store.Batch
	for i := range 53 {
		spans := ragTrace(100+i, testNow.Add(-time.Duration(i+1)*time.Minute), "chat", "hi", false)
		spans[0].GenAI.UserID = fmt.Sprintf("user-%02d", i)
		if i == 7 {
			spans[0].GenAI.UserID = xssPayload
		}
		batch.Spans = append(batch.Spans, spans...)
	}
	if err := srv.store.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	var order []string
	path, pages := "/users?window=7d", 0
	for path != "" && pages < 5 {
		pages++
		_, body := get(t, srv, path)
		if strings.Contains(body, `<script>alert("xss")</script>`) {
			t.Fatalf("page %d: the hostile user id reached the page unescaped", pages)
		}
		order = append(order, userIDsIn(body)...)
		path = ""
		if i := strings.Index(body, `rel="next"`); i >= 0 {
			j := strings.LastIndex(body[:i], `href="`)
			path = strings.ReplaceAll(body[j+6:strings.Index(body[j+6:], `"`)+j+6], "&amp;", "&")
			if !strings.Contains(path, "window=7d") || !strings.Contains(path, "cursor=") {
				t.Errorf("next page link %q drops the window or the cursor", path)
			}
		}
	}
	if pages != 2 || len(order) != 53 {
		t.Fatalf("53 users at 50 a page: got %d pages and %d users, want 2 and 53", pages, len(order))
	}
	if order[0] != "user-00" || order[52] != "user-52" {
		t.Errorf("order: got %s first and %s last, want the most recently active first", order[0], order[52])
	}
	if escaped := `&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&#34;&#39;&amp;`; order[7] != escaped {
		t.Errorf("the hostile user id: got %q, want it as escaped text", order[7])
	}
	_, body := get(t, srv, "/traces?user="+url.QueryEscape(xssPayload))
	if got := traceIDsIn(body); !slices.Equal(got, []string{tid(107)}) {
		t.Errorf("traces of the hostile user: got %v, want [%s]", got, tid(107))
	}
}

func TestUsersGolden(t *testing.T) {
	srv := seededServer(t)
	res, body := get(t, srv, "/users?window=7d")
	if res.StatusCode != 200 {
		t.Fatalf("GET /users: %d", res.StatusCode)
	}
	golden(t, "users-7d", body)
}
