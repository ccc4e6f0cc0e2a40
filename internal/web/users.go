package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/use-lumina/lumina/internal/store"
)

// userRow is one end user: the totals of the traces carrying its user id.
type userRow struct {
	store.EndUser
	TracesURL   string
	SessionsURL string
	Cost        string
}

// usersData is the users page: the sessions page's tab over user ids.
type usersData struct {
	Window   string
	Windows  []struct{ Key, Label string }
	Rows     []userRow
	NextURL  string
	FirstURL string
	Error    string
}

func (d usersData) url(mut func(url.Values)) string {
	v := url.Values{}
	if d.Window != "24h" {
		v.Set("window", d.Window)
	}
	if mut != nil {
		mut(v)
	}
	if len(v) == 0 {
		return "/users"
	}
	return "/users?" + v.Encode()
}

// users lists the project's end users, most recently active first, aggregated in the store
// (store.EndUserReader) and keyset-paginated.
func (s *Server) users(ctx context.Context, r *request) (view, error) {
	v := r.URL.Query()
	d := usersData{Window: v.Get("window"), Windows: sessionWindows}
	if d.Window == "" {
		d.Window = "24h"
	}
	dur, ok := alertWindow(d.Window)
	if !ok || dur == 0 {
		d.Error = "window must be 1h, 24h, 7d or 30d, got \"" + d.Window + "\""
		return view{Page: "users", Title: "Users", Nav: "sessions", Status: http.StatusBadRequest, Data: d}, nil
	}
	q := store.EndUserQuery{ProjectID: r.Project, Since: r.Now.Add(-dur), Limit: 50, Cursor: v.Get("cursor")}
	page, err := s.store.EndUsers(ctx, q)
	if err != nil {
		return view{}, err
	}
	for _, u := range page.Users {
		tv := url.Values{"user": {u.UserID}}
		if d.Window != "30d" { // beyond the trace list's presets: every trace of the user
			tv.Set("range", d.Window)
		}
		sv := url.Values{"user": {u.UserID}}
		if d.Window != "24h" {
			sv.Set("window", d.Window)
		}
		d.Rows = append(d.Rows, userRow{EndUser: u, Cost: costTotal(u.CostUSD, u.UnpricedCalls),
			TracesURL: "/traces?" + tv.Encode(), SessionsURL: "/sessions?" + sv.Encode()})
	}
	if page.NextCursor != "" {
		d.NextURL = d.url(func(v url.Values) { v.Set("cursor", page.NextCursor) })
	}
	if q.Cursor != "" {
		d.FirstURL = d.url(nil)
	}
	return view{Page: "users", Title: "Users", Nav: "sessions", Data: d}, nil
}
