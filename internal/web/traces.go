package web

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// traceRow is one line of a trace table.
type traceRow struct {
	ID        string
	URL       string
	Name      string
	Service   string
	Start     time.Time
	Duration  time.Duration
	Spans     int
	LLMCalls  int
	Tokens    int64
	Cost      string
	Unpriced  bool
	Error     bool
	Models    []string
	HasRoot   bool
	SessionID string
	UserID    string
	Quality   *rowQuality // nil when no LLM call of the trace is scored
}

// rowQuality is the quality of a trace's scored LLM calls (store.TraceQuality).
type rowQuality struct {
	Mean   string
	Min    string
	Scored int64
	Low    bool // the lowest score is below lowQuality
}

func newTraceRow(t *genai.Trace) traceRow {
	return traceRow{
		ID: t.TraceID, URL: "/traces/" + url.PathEscape(t.TraceID), Name: t.Name, Service: t.ServiceName,
		Start: t.StartTime, Duration: t.Duration(), Spans: t.SpanCount, LLMCalls: t.LLMCallCount,
		Tokens: t.Usage.TotalTokens, Cost: fmtCost(t.CostUSD), Unpriced: t.UnpricedCalls > 0,
		Error: t.Status == genai.StatusError, Models: t.Models, HasRoot: t.HasRoot,
		SessionID: t.SessionID, UserID: t.UserID,
	}
}

// traceRows makes the rows of traces with their quality, read in one store query.
func (s *Server) traceRows(ctx context.Context, project string, traces []genai.Trace) ([]traceRow, error) {
	if len(traces) == 0 {
		return nil, nil
	}
	ids := make([]string, len(traces))
	for i := range traces {
		ids[i] = traces[i].TraceID
	}
	quality, err := s.store.TraceQuality(ctx, project, ids)
	if err != nil {
		return nil, err
	}
	rows := make([]traceRow, len(traces))
	for i := range traces {
		rows[i] = newTraceRow(&traces[i])
		if q, ok := quality[traces[i].TraceID]; ok {
			rows[i].Quality = &rowQuality{Mean: fmtScore(q.Mean), Min: fmtScore(q.Min), Scored: q.Scored, Low: q.Min < lowQuality}
		}
	}
	return rows, nil
}

// fmtScore shows a 0–1 quality score with two decimals.
func fmtScore(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// parseLocalTime reads a datetime-local value (minutes or seconds) as UTC.
func parseLocalTime(v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("parse time %q", v)
}

// timeRanges are the trace list's time presets.
var timeRanges = []struct{ Key, Label string }{
	{"", "Any time"}, {"15m", "Last 15 minutes"}, {"1h", "Last hour"}, {"24h", "Last 24 hours"}, {"7d", "Last 7 days"},
}

func rangeDuration(key string) (time.Duration, bool) {
	switch key {
	case "15m":
		return 15 * time.Minute, true
	case "1h":
		return time.Hour, true
	case "24h":
		return 24 * time.Hour, true
	case "7d":
		return 7 * 24 * time.Hour, true
	}
	return 0, false
}

// traceFilter is the trace list's query string, parsed: the form's values as typed and the
// store query they make.
type traceFilter struct {
	Service, Name, Model, Status, Range, From, To, MinMS, Sort, Order, Limit, Session string
	User, Env, Tag, Provider, MaxMS, MinCost, MaxCost                                 string
	Text                                                                              string // q: a full-text search
	Attr                                                                              string // key=value: a span attribute
	Query                                                                             store.TraceQuery
}

// maxSearchText bounds the search box (store.TraceQuery.Text), as the API does.
const maxSearchText = 256

// maxAttrFilter bounds the attribute filter (key=value), as the API does.
const maxAttrFilter = 1024

// parseTraceFilter reads the list's query parameters. Unknown values are errors, so a bad
// deep link says what is wrong rather than showing the wrong traces.
func parseTraceFilter(r *request) (traceFilter, error) {
	v := r.URL.Query()
	f := traceFilter{
		Service: strings.TrimSpace(v.Get("service")), Name: strings.TrimSpace(v.Get("name")),
		Model: strings.TrimSpace(v.Get("model")), Status: v.Get("status"), Range: v.Get("range"),
		From: strings.TrimSpace(v.Get("from")), To: strings.TrimSpace(v.Get("to")),
		MinMS: strings.TrimSpace(v.Get("min_ms")), Sort: v.Get("sort"), Order: v.Get("order"), Limit: v.Get("limit"),
		Session: strings.TrimSpace(v.Get("session")), User: strings.TrimSpace(v.Get("user")), Env: strings.TrimSpace(v.Get("env")),
		Tag: strings.TrimSpace(v.Get("tag")), Provider: strings.TrimSpace(v.Get("provider")), MaxMS: strings.TrimSpace(v.Get("max_ms")),
		MinCost: strings.TrimSpace(v.Get("min_cost")), MaxCost: strings.TrimSpace(v.Get("max_cost")),
		Text: strings.TrimSpace(v.Get("q")), Attr: strings.TrimSpace(v.Get("attr")),
	}
	q := store.TraceQuery{ProjectID: r.Project, Service: f.Service, Name: f.Name, Model: f.Model, SessionID: f.Session,
		UserID: f.User, Environment: f.Env, Tag: f.Tag, Provider: f.Provider, Text: f.Text, Limit: 50, Cursor: v.Get("cursor")}
	if n := utf8.RuneCountInString(f.Text); n > maxSearchText {
		return f, badRequestf("search must be at most %d characters, got %d", maxSearchText, n)
	}
	if f.Attr != "" {
		key, value, ok := strings.Cut(f.Attr, "=")
		if key = strings.TrimSpace(key); !ok || key == "" || len(f.Attr) > maxAttrFilter {
			return f, badRequestf("attribute must be key=value, like customer.tier=gold (at most %d bytes), got %q", maxAttrFilter, f.Attr)
		}
		q.Attributes = []store.AttributeFilter{{Key: key, Value: strings.TrimSpace(value)}}
	}
	switch f.Status {
	case "", genai.StatusOK, genai.StatusError:
		q.Status = f.Status
	default:
		return f, badRequestf("status must be ok or error, got %q", f.Status)
	}
	if f.Range != "" {
		d, ok := rangeDuration(f.Range)
		if !ok {
			return f, badRequestf("range must be 15m, 1h, 24h or 7d, got %q", f.Range)
		}
		q.Since = r.Now.Add(-d)
	}
	// An explicit start wins over the preset; both are UTC, as datetime-local inputs send them.
	for _, b := range []struct {
		name, v string
		dst     *time.Time
	}{{"from", f.From, &q.Since}, {"to", f.To, &q.Until}} {
		if b.v == "" {
			continue
		}
		t, err := parseLocalTime(b.v)
		if err != nil {
			return f, badRequestf("%s must be a date and time like 2026-12-03T12:00 (UTC), got %q", b.name, b.v)
		}
		*b.dst = t
	}
	if !q.Until.IsZero() && !q.Until.After(q.Since) {
		return f, badRequestf("to (%s) must be after from (%s)", f.To, q.Since.Format("2006-01-02T15:04"))
	}
	for _, b := range []struct {
		name, v string
		dst     *time.Duration
	}{{"minimum", f.MinMS, &q.MinDuration}, {"maximum", f.MaxMS, &q.MaxDuration}} {
		if b.v == "" {
			continue
		}
		ms, err := strconv.ParseFloat(b.v, 64)
		if err != nil || ms < 0 || ms > 1e9 {
			return f, badRequestf("%s duration must be a number of milliseconds, got %q", b.name, b.v)
		}
		*b.dst = time.Duration(ms * float64(time.Millisecond))
	}
	if q.MaxDuration > 0 && q.MaxDuration < q.MinDuration {
		return f, badRequestf("maximum duration (%s ms) must not be below the minimum (%s ms)", f.MaxMS, f.MinMS)
	}
	for _, b := range []struct {
		name, v string
		dst     **float64
	}{{"minimum cost", f.MinCost, &q.MinCostUSD}, {"maximum cost", f.MaxCost, &q.MaxCostUSD}} {
		if b.v == "" {
			continue
		}
		usd, err := strconv.ParseFloat(strings.TrimPrefix(b.v, "$"), 64)
		if err != nil || usd < 0 || math.IsInf(usd, 0) || math.IsNaN(usd) {
			return f, badRequestf("%s must be a number of dollars, got %q", b.name, b.v)
		}
		*b.dst = &usd
	}
	if q.MinCostUSD != nil && q.MaxCostUSD != nil && *q.MaxCostUSD < *q.MinCostUSD {
		return f, badRequestf("maximum cost ($%s) must not be below the minimum ($%s)", f.MaxCost, f.MinCost)
	}
	if f.Limit != "" {
		n, err := strconv.Atoi(f.Limit)
		if err != nil || n < 1 || n > 200 {
			return f, badRequestf("limit must be a number of traces from 1 to 200, got %q", f.Limit)
		}
		q.Limit = n
	}
	switch f.Sort {
	case "", store.SortStartTime:
		f.Sort, q.Sort = store.SortStartTime, store.SortStartTime
	case store.SortDuration:
		q.Sort = store.SortDuration
	default:
		return f, badRequestf("sort must be start_time or duration, got %q", f.Sort)
	}
	switch f.Order {
	case "", "desc":
		f.Order = "desc"
	case "asc":
		q.Ascending = true
	default:
		return f, badRequestf("order must be asc or desc, got %q", f.Order)
	}
	f.Query = q
	return f, nil
}

// values is the filter as query parameters, without the cursor; defaults are left out so
// URLs stay short.
func (f traceFilter) values() url.Values {
	v := url.Values{}
	set := func(k, val, dflt string) {
		if val != "" && val != dflt {
			v.Set(k, val)
		}
	}
	set("q", f.Text, "")
	set("service", f.Service, "")
	set("name", f.Name, "")
	set("model", f.Model, "")
	set("session", f.Session, "")
	set("user", f.User, "")
	set("env", f.Env, "")
	set("tag", f.Tag, "")
	set("attr", f.Attr, "")
	set("provider", f.Provider, "")
	set("status", f.Status, "")
	set("range", f.Range, "")
	set("from", f.From, "")
	set("to", f.To, "")
	set("min_ms", f.MinMS, "")
	set("max_ms", f.MaxMS, "")
	set("min_cost", f.MinCost, "")
	set("max_cost", f.MaxCost, "")
	set("sort", f.Sort, store.SortStartTime)
	set("order", f.Order, "desc")
	set("limit", f.Limit, "")
	return v
}

func (f traceFilter) url(mut func(url.Values)) string {
	v := f.values()
	if mut != nil {
		mut(v)
	}
	if len(v) == 0 {
		return "/traces"
	}
	return "/traces?" + v.Encode()
}

// sortHeader is a sortable column header: its link toggles the order when the column is
// already the sort key.
type sortHeader struct {
	Label string
	URL   string
	Aria  string // aria-sort: ascending, descending or none
	Arrow string
}

func (f traceFilter) header(label, key string) sortHeader {
	h := sortHeader{Label: label, Aria: "none"}
	order := "desc"
	if f.Sort == key {
		h.Aria, h.Arrow = "descending", "↓"
		if f.Order == "asc" {
			h.Aria, h.Arrow = "ascending", "↑"
		} else {
			order = "asc"
		}
	}
	h.URL = f.url(func(v url.Values) {
		v.Del("sort")
		v.Del("order")
		if key != store.SortStartTime {
			v.Set("sort", key)
		}
		if order != "desc" {
			v.Set("order", order)
		}
	})
	return h
}

// tracesData is the trace list page.
type tracesData struct {
	Filter     traceFilter
	Ranges     []struct{ Key, Label string }
	Rows       []traceRow
	NextURL    string
	FirstURL   string // set when this is not the first page
	ClearURL   string
	Filtered   bool
	TimeHeader sortHeader
	DurHeader  sortHeader
	Services   []string
	Models     []string
	Live       liveConfig
	LiveOK     bool // live updates apply: first page, newest first
	Error      string
	ReplayOK   bool // Replay Studio runs in this process: offer the replay forms
	Replay     replayFromFilter
}

// replayFromFilter is the "new replay set from this filter" form: replay filters take a
// service, a model and a start time, so it is offered only when the list uses no other filter.
type replayFromFilter struct {
	Applies           bool
	Range, RangeLabel string
	Limit             int
}

func newReplayFromFilter(f traceFilter) replayFromFilter {
	q := f.Query
	rf := replayFromFilter{Range: f.Range, Limit: q.Limit,
		Applies: q.Text == "" && q.Name == "" && q.Status == "" && q.SessionID == "" && q.UserID == "" && q.Environment == "" && q.Provider == "" && f.From == "" &&
			f.To == "" && q.MinDuration == 0 && q.MaxDuration == 0 && q.MinCostUSD == nil && q.MaxCostUSD == nil && len(q.Attributes) == 0}
	for _, r := range timeRanges {
		if r.Key == f.Range {
			rf.RangeLabel = strings.ToLower(strings.TrimPrefix(r.Label, "Last "))
			rf.RangeLabel = "last " + rf.RangeLabel
		}
	}
	return rf
}

func (s *Server) traces(ctx context.Context, r *request) (view, error) {
	f, err := parseTraceFilter(r)
	var br *badRequest
	if errors.As(err, &br) {
		// Keep the form as typed, with what is wrong, so the filter can be fixed in place.
		return view{Page: "traces", Title: "Traces", Nav: "traces", Status: http.StatusBadRequest,
			Data: tracesData{Filter: f, Ranges: timeRanges, ClearURL: "/traces", Filtered: true, Error: br.msg,
				TimeHeader: f.header("Started (UTC)", store.SortStartTime), DurHeader: f.header("Duration", store.SortDuration)}}, nil
	}
	if err != nil {
		return view{}, err
	}
	page, err := s.store.Traces(ctx, f.Query)
	if err != nil {
		return view{}, err
	}
	d := tracesData{Filter: f, Ranges: timeRanges, ClearURL: "/traces", Filtered: len(f.values()) > 0,
		TimeHeader: f.header("Started (UTC)", store.SortStartTime), DurHeader: f.header("Duration", store.SortDuration)}
	if d.Rows, err = s.traceRows(ctx, f.Query.ProjectID, page.Traces); err != nil {
		return view{}, err
	}
	if page.NextCursor != "" {
		d.NextURL = f.url(func(v url.Values) { v.Set("cursor", page.NextCursor) })
	}
	if f.Query.Cursor != "" {
		d.FirstURL = f.url(nil)
	}
	// Filter suggestions come from the page itself: an aggregate over the whole project
	// would cost more than the list.
	services, models := map[string]bool{}, map[string]bool{}
	for i := range page.Traces {
		for _, sv := range page.Traces[i].Services {
			services[sv] = true
		}
		for _, m := range page.Traces[i].Models {
			models[m] = true
		}
	}
	d.Services, d.Models = slices.Sorted(maps.Keys(services)), slices.Sorted(maps.Keys(models))
	d.ReplayOK, d.Replay = s.cfg.Replay != nil, newReplayFromFilter(f)
	d.LiveOK = f.Query.Cursor == "" && f.Query.Sort == store.SortStartTime && !f.Query.Ascending && f.Query.Until.IsZero()
	if d.LiveOK {
		d.Live = newLiveConfig(f.Query, page.Traces, "traces")
	}
	return view{Page: "traces", Title: "Traces", Nav: "traces", Data: d}, nil
}
