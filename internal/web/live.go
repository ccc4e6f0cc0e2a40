package web

import (
	"context"
	"fmt"
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

// Live updates: a page that shows the newest traces opens an EventSource on /live/traces
// with its filter and the start time of the newest trace it shows. The stream polls the
// store every LivePoll for traces that started at or after that time (the same filter, in
// the store, keyset-ordered), sends each new one as a server-rendered row, and a "tick"
// after every poll so the page can say how fresh it is. A trace whose spans arrive late
// with a start time older than the newest shown appears on the next reload.

// liveBatch bounds the traces one poll sends.
const liveBatch = 100

// liveConfig is what a page's script needs to open its stream, passed in data- attributes.
type liveConfig struct {
	URL string
}

// newLiveConfig builds the stream URL for a filter and the traces a page shows (newest first).
func newLiveConfig(q store.TraceQuery, shown []genai.Trace, kind string) liveConfig {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("q", q.Text)
	set("service", q.Service)
	set("name", q.Name)
	set("model", q.Model)
	set("status", q.Status)
	if !q.Since.IsZero() {
		v.Set("since", strconv.FormatInt(q.Since.UnixNano(), 10))
	}
	if q.MinDuration > 0 {
		v.Set("min_ns", strconv.FormatInt(int64(q.MinDuration), 10))
	}
	v.Set("view", kind)
	if len(shown) > 0 {
		newest := shown[0].StartTime
		var seen []string
		for _, t := range shown {
			if t.StartTime.Equal(newest) {
				seen = append(seen, t.TraceID)
			}
		}
		v.Set("after", strconv.FormatInt(newest.UnixNano(), 10))
		v.Set("seen", strings.Join(seen, ","))
	}
	return liveConfig{URL: "/live/traces?" + v.Encode()}
}

// liveCursor is where a stream stands: the newest start time sent and the traces sent at
// exactly that time (ties are possible; ids break them).
type liveCursor struct {
	after int64
	seen  map[string]bool
}

// parseLiveCursor reads the cursor from the query, or from Last-Event-ID on a reconnect
// ("<unix nanos>:<id>,<id>").
func parseLiveCursor(r *http.Request) liveCursor {
	c := liveCursor{seen: map[string]bool{}}
	after, seen := r.URL.Query().Get("after"), r.URL.Query().Get("seen")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		after, seen, _ = strings.Cut(id, ":")
	}
	c.after, _ = strconv.ParseInt(after, 10, 64)
	for id := range strings.SplitSeq(seen, ",") {
		if id != "" && len(c.seen) < liveBatch {
			c.seen[id] = true
		}
	}
	return c
}

func (c liveCursor) eventID() string {
	ids := make([]string, 0, len(c.seen))
	for id := range c.seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return strconv.FormatInt(c.after, 10) + ":" + strings.Join(ids, ",")
}

func (s *Server) liveTraces(w http.ResponseWriter, r *http.Request) {
	project, err := s.cfg.Project(r)
	if err != nil {
		http.Error(w, "sign in required", http.StatusUnauthorized)
		return
	}
	v := r.URL.Query()
	q := store.TraceQuery{ProjectID: project, Service: v.Get("service"), Name: v.Get("name"), Model: v.Get("model"),
		Status: v.Get("status"), Text: v.Get("q"), Sort: store.SortStartTime}
	if utf8.RuneCountInString(q.Text) > maxSearchText {
		http.Error(w, fmt.Sprintf("q must be at most %d characters", maxSearchText), http.StatusBadRequest)
		return
	}
	if q.Status != "" && q.Status != genai.StatusOK && q.Status != genai.StatusError {
		http.Error(w, "status must be ok or error", http.StatusBadRequest)
		return
	}
	if n, err := strconv.ParseInt(v.Get("since"), 10, 64); err == nil && n > 0 {
		q.Since = time.Unix(0, n)
	}
	if n, err := strconv.ParseInt(v.Get("min_ns"), 10, 64); err == nil && n > 0 {
		q.MinDuration = time.Duration(n)
	}
	row := "trace_row"
	if v.Get("view") == "recent" {
		row = "recent_row"
	}
	select {
	case s.live <- struct{}{}:
		defer func() { <-s.live }()
	default:
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many live streams", http.StatusServiceUnavailable)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 1000\n\n")
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.LiveMaxAge)
	defer cancel()
	cur := parseLiveCursor(r)
	tick := time.NewTicker(s.cfg.LivePoll)
	defer tick.Stop()
	for {
		if err := s.livePoll(ctx, w, q, &cur, row); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("live traces poll", "err", err)
			}
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// livePoll sends the traces that arrived since cur and a tick, and advances cur.
func (s *Server) livePoll(ctx context.Context, w http.ResponseWriter, q store.TraceQuery, cur *liveCursor, row string) error {
	q.Limit = liveBatch
	var fresh []genai.Trace
	if cur.after == 0 {
		// The page showed nothing: anything matching now is new. Newest first, sent oldest first.
		page, err := s.store.Traces(ctx, q)
		if err != nil {
			return err
		}
		fresh = page.Traces
		slices.Reverse(fresh)
	} else {
		q.Ascending = true
		if after := time.Unix(0, cur.after); after.After(q.Since) {
			q.Since = after
		}
		page, err := s.store.Traces(ctx, q)
		if err != nil {
			return err
		}
		fresh = page.Traces
	}
	rows, err := s.traceRows(ctx, q.ProjectID, fresh)
	if err != nil {
		return err
	}
	for i, tr := range rows {
		ns := fresh[i].StartTime.UnixNano()
		if ns == cur.after && cur.seen[tr.ID] {
			continue
		}
		if ns != cur.after {
			cur.after, cur.seen = ns, map[string]bool{}
		}
		cur.seen[tr.ID] = true
		html, err := s.fragment(row, tr)
		if err != nil {
			return err
		}
		writeEvent(w, "trace", cur.eventID(), html)
	}
	writeEvent(w, "tick", "", strconv.FormatInt(s.cfg.Now().UnixMilli(), 10))
	return nil
}

// writeEvent writes one SSE event; every line of data becomes a data: line.
func writeEvent(w http.ResponseWriter, event, id, data string) {
	var b strings.Builder
	b.WriteString("event: " + event + "\n")
	if id != "" {
		b.WriteString("id: " + id + "\n")
	}
	for line := range strings.SplitSeq(data, "\n") {
		b.WriteString("data: " + strings.TrimSuffix(line, "\r") + "\n")
	}
	b.WriteString("\n")
	_, _ = w.Write([]byte(b.String()))
}
