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

// sessionIDsIn extracts the data-session-id values of a page, in order.
func sessionIDsIn(body string) []string {
	var ids []string
	for _, part := range strings.Split(body, `data-session-id="`)[1:] {
		ids = append(ids, part[:strings.Index(part, `"`)])
	}
	return ids
}

func TestSessionsPage(t *testing.T) {
	srv := seededServer(t)
	tests := []struct {
		query  string
		status int
		want   []string
		text   string
	}{
		// sess-0 holds the newest trace (21, 5 minutes ago); the other project's sess-1 is not counted.
		{"", 200, []string{"sess-0", "sess-1", "sess-2"}, "3 sessions on this page"},
		{"window=1h", 200, []string{"sess-0"}, ""},
		{"user=u-42&window=7d", 200, []string{"sess-0", "sess-1", "sess-2"}, ""},
		{"user=nobody", 200, nil, "No sessions in this window."},
		{"window=1y", 400, nil, "window must be 1h, 24h, 7d or 30d"},
		{"window=all", 400, nil, "window must be 1h, 24h, 7d or 30d"},
		{"cursor=bogus", 400, nil, "The pagination cursor is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res, body := get(t, srv, "/sessions?"+tt.query)
			if res.StatusCode != tt.status {
				t.Fatalf("status: got %d, want %d", res.StatusCode, tt.status)
			}
			if got := sessionIDsIn(body); !slices.Equal(got, tt.want) {
				t.Errorf("sessions: got %v, want %v", got, tt.want)
			}
			if !strings.Contains(body, tt.text) {
				t.Errorf("body lacks %q", tt.text)
			}
		})
	}
	// sess-1 is traces 1, 4 (failing), 7 and 10: its totals, and a link to exactly them.
	_, body := get(t, srv, "/sessions")
	row := body[strings.Index(body, `data-session-id="sess-1"`):]
	row = row[:strings.Index(row, "</tr>")]
	for _, want := range []string{`<td class="num">4</td>`, `<span class="errtext">1</span>`, "8,960", "$0.0210", `href="/traces?range=24h&amp;session=sess-1"`} {
		if !strings.Contains(row, want) {
			t.Errorf("sess-1 row lacks %q:\n%s", want, row)
		}
	}
	_, body = get(t, srv, "/traces?range=24h&session=sess-1")
	if got := traceIDsIn(body); !slices.Equal(got, []string{tid(1), tid(4), tid(7), tid(10)}) {
		t.Errorf("traces of sess-1: got %v", got)
	}
	if !strings.Contains(body, `name="session" value="sess-1"`) {
		t.Error("the trace filter form does not show the session")
	}
}

func TestSessionsPaginationAndEscaping(t *testing.T) {
	srv := newTestServer(t, func() time.Time { return testNow }, nil)
	var batch store.Batch
	for i := range 53 {
		spans := ragTrace(100+i, testNow.Add(-time.Duration(i+1)*time.Minute), "chat", "hi", false)
		spans[0].GenAI.SessionID = fmt.Sprintf("s-%02d", i)
		if i == 7 {
			spans[0].GenAI.SessionID = xssPayload
		}
		batch.Spans = append(batch.Spans, spans...)
	}
	if err := srv.store.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	path, pages := "/sessions?window=7d", 0
	for path != "" && pages < 5 {
		pages++
		_, body := get(t, srv, path)
		if strings.Contains(body, `<script>alert("xss")</script>`) {
			t.Fatalf("page %d: the hostile session id reached the page unescaped", pages)
		}
		for _, id := range sessionIDsIn(body) {
			if seen[id] {
				t.Errorf("session %s on two pages", id)
			}
			seen[id] = true
		}
		path = ""
		if i := strings.Index(body, `rel="next"`); i >= 0 {
			j := strings.LastIndex(body[:i], `href="`)
			path = strings.ReplaceAll(body[j+6:strings.Index(body[j+6:], `"`)+j+6], "&amp;", "&")
		}
	}
	if pages != 2 || len(seen) != 53 {
		t.Errorf("53 sessions at 50 a page: got %d pages and %d sessions, want 2 and 53", pages, len(seen))
	}
	escaped := `&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&#34;&#39;&amp;`
	if !seen[escaped] {
		t.Error("the hostile session id is not listed as escaped text")
	}
	_, body := get(t, srv, "/traces?session="+url.QueryEscape(xssPayload))
	if got := traceIDsIn(body); !slices.Equal(got, []string{tid(107)}) {
		t.Errorf("traces of the hostile session: got %v, want [%s]", got, tid(107))
	}
}
