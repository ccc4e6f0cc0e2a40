package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/use-lumina/lumina/internal/store"
)

// sessionWindows are the session list's time presets (traces started in the window).
var sessionWindows = []struct{ Key, Label string }{
	{"1h", "Last hour"}, {"24h", "Last 24 hours"}, {"7d", "Last 7 days"}, {"30d", "Last 30 days"},
}

// sessionRow is one conversation: the totals of the traces sharing a session id.
type sessionRow struct {
	store.Conversation
	TracesURL string
	Cost      string
	Span      string // first to last seen
}

// sessionsData is the session list page.
type sessionsData struct {
	User, Window string
	Windows      []struct{ Key, Label string }
	Rows         []sessionRow
	NextURL      string
	FirstURL     string
	Filtered     bool
	Error        string
}

func (d sessionsData) url(mut func(url.Values)) string {
	v := url.Values{}
	if d.User != "" {
		v.Set("user", d.User)
	}
	if d.Window != "24h" {
		v.Set("window", d.Window)
	}
	if mut != nil {
		mut(v)
	}
	if len(v) == 0 {
		return "/sessions"
	}
	return "/sessions?" + v.Encode()
}

func (s *Server) sessions(ctx context.Context, r *request) (view, error) {
	v := r.URL.Query()
	d := sessionsData{User: strings.TrimSpace(v.Get("user")), Window: v.Get("window"), Windows: sessionWindows}
	if d.Window == "" {
		d.Window = "24h"
	}
	dur, ok := alertWindow(d.Window)
	if !ok || dur == 0 {
		d.Error, d.Filtered = "window must be 1h, 24h, 7d or 30d, got \""+d.Window+"\"", true
		return view{Page: "sessions", Title: "Sessions", Nav: "sessions", Status: http.StatusBadRequest, Data: d}, nil
	}
	q := store.ConversationQuery{ProjectID: r.Project, UserID: d.User, Since: r.Now.Add(-dur), Limit: 50, Cursor: v.Get("cursor")}
	page, err := s.store.Conversations(ctx, q)
	if err != nil {
		return view{}, err
	}
	d.Filtered = d.url(nil) != "/sessions"
	for _, ss := range page.Conversations {
		row := sessionRow{Conversation: ss, Cost: costTotal(ss.CostUSD, ss.UnpricedCalls), Span: fmtDuration(ss.LastSeen.Sub(ss.FirstSeen))}
		// The traces of a session, over the same window: the list filters on the server.
		tv := url.Values{"session": {ss.SessionID}}
		if d.Window != "" {
			tv.Set("range", d.Window)
			if d.Window == "30d" {
				tv.Del("range") // beyond the trace list's presets: every trace of the session
			}
		}
		row.TracesURL = "/traces?" + tv.Encode()
		d.Rows = append(d.Rows, row)
	}
	if page.NextCursor != "" {
		d.NextURL = d.url(func(v url.Values) { v.Set("cursor", page.NextCursor) })
	}
	if q.Cursor != "" {
		d.FirstURL = d.url(nil)
	}
	return view{Page: "sessions", Title: "Sessions", Nav: "sessions", Data: d}, nil
}
