package web

import (
	"cmp"
	"context"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// spanNode is one row of the trace's tree-waterfall.
type spanNode struct {
	ID          string
	Name        string
	Service     string
	Type        string // the GenAI type, or "span"
	Depth       int
	Indent      []struct{} // one entry per level, for the template's indentation guides
	Offset      time.Duration
	Duration    time.Duration
	X, W        float64 // the bar within a 0..1000 timeline
	Error       bool
	Model       string
	Tokens      int64
	Cost        string
	Counted     bool
	Selected    bool
	URL         string
	FragmentURL string
	Children    int
}

// traceData is the trace detail page.
type traceData struct {
	ReplayOK  bool // Replay Studio runs in this process: offer "add to replay set"
	Trace     genai.Trace
	Row       traceRow
	Nodes     []spanNode
	Ticks     []string // timeline labels at the start, the middle and the end
	Inspector *inspector
	LogCount  int
	Orphans   int // log records whose span is not in the trace
	// Alerts are the alerts this trace triggered.
	Alerts []store.Alert
}

// validTraceID reports whether id is 32 lower-case hex characters.
func validTraceID(id string) bool {
	_, err := hex.DecodeString(id)
	return len(id) == 32 && err == nil && strings.ToLower(id) == id
}

func (s *Server) loadTrace(ctx context.Context, project, id string) (store.TraceDetail, error) {
	if !validTraceID(id) {
		return store.TraceDetail{}, badRequestf("a trace id is 32 lower-case hexadecimal characters, got %q", id)
	}
	d, err := s.store.Trace(ctx, project, id)
	if err != nil {
		return d, err
	}
	if s.cfg.Join != nil {
		s.cfg.Join(d.Spans, d.Logs)
	}
	return d, nil
}

// traceAlerts lists the alerts whose triggering trace is t, newest first.
func (s *Server) traceAlerts(ctx context.Context, project string, t *genai.Trace) ([]store.Alert, error) {
	page, err := s.store.Alerts(ctx, store.AlertQuery{ProjectID: project, TraceID: t.TraceID, Limit: 100})
	return page.Alerts, err
}

func (s *Server) trace(ctx context.Context, r *request) (view, error) {
	d, err := s.loadTrace(ctx, r.Project, r.PathValue("trace_id"))
	if err != nil {
		return view{}, err
	}
	td := traceData{Trace: d.Trace, Row: newTraceRow(&d.Trace), LogCount: len(d.Logs), ReplayOK: s.cfg.Replay != nil}
	selected := r.URL.Query().Get("span")
	if selected == "" {
		selected = defaultSpan(d.Spans)
	}
	td.Nodes = spanTree(d.Trace, d.Spans, selected)
	total := d.Trace.Duration()
	for i := 0; i <= 2; i++ {
		td.Ticks = append(td.Ticks, fmtDuration(total*time.Duration(i)/2))
	}
	ids := map[string]bool{}
	for i := range d.Spans {
		ids[d.Spans[i].SpanID] = true
		if d.Spans[i].SpanID == selected {
			td.Inspector = s.newInspector(ctx, r.Project, &d.Trace, &d.Spans[i])
		}
	}
	for _, l := range d.Logs {
		if l.SpanID != "" && !ids[l.SpanID] {
			td.Orphans++
		}
	}
	if td.Alerts, err = s.traceAlerts(ctx, r.Project, &d.Trace); err != nil {
		return view{}, err
	}
	if selected != "" && td.Inspector == nil && r.URL.Query().Get("span") != "" {
		return view{}, badRequestf("trace %s has no span %q", d.Trace.TraceID, selected)
	}
	title := d.Trace.Name
	if title == "" {
		title = "Trace " + shortID(d.Trace.TraceID)
	}
	return view{Page: "trace", Title: title, Nav: "traces", Data: td}, nil
}

// spanFragment serves one span's inspector as an HTML fragment, for the page's script to
// swap in without reloading the waterfall.
func (s *Server) spanFragment(w http.ResponseWriter, r *http.Request) {
	project, err := s.cfg.Project(r)
	if err != nil {
		http.Error(w, "sign in required", http.StatusUnauthorized)
		return
	}
	d, err := s.loadTrace(r.Context(), project, r.PathValue("trace_id"))
	if err != nil {
		v := s.errorView(r, err)
		http.Error(w, v.Data.(errorData).Message, v.Status)
		return
	}
	id := r.PathValue("span_id")
	for i := range d.Spans {
		if d.Spans[i].SpanID != id {
			continue
		}
		html, err := s.fragment("inspector", s.newInspector(r.Context(), project, &d.Trace, &d.Spans[i]))
		if err != nil {
			s.log.Error("render span inspector", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(html))
		return
	}
	http.Error(w, "no such span in this trace", http.StatusNotFound)
}

// defaultSpan is the span the inspector opens on: the first model call, else the root.
func defaultSpan(spans []genai.Span) string {
	for i := range spans {
		if spans[i].GenAI.IsModelCall() {
			return spans[i].SpanID
		}
	}
	if len(spans) > 0 {
		return spans[0].SpanID
	}
	return ""
}

// spanTree orders spans depth-first (children by start time) with their depth and their
// bar on the trace's timeline. Spans whose parent is missing start their own subtree;
// parent cycles in hostile input are broken.
func spanTree(t genai.Trace, spans []genai.Span, selected string) []spanNode {
	byID := make(map[string]*genai.Span, len(spans))
	for i := range spans {
		byID[spans[i].SpanID] = &spans[i]
	}
	children := map[string][]*genai.Span{}
	var roots []*genai.Span
	for i := range spans {
		sp := &spans[i]
		if _, ok := byID[sp.ParentSpanID]; ok && sp.ParentSpanID != sp.SpanID {
			children[sp.ParentSpanID] = append(children[sp.ParentSpanID], sp)
		} else {
			roots = append(roots, sp)
		}
	}
	byStart := func(a, b *genai.Span) int {
		return cmp.Or(a.StartTime.Compare(b.StartTime), strings.Compare(a.SpanID, b.SpanID))
	}
	slices.SortFunc(roots, byStart)
	total := t.Duration()
	nodes := make([]spanNode, 0, len(spans))
	visited := map[string]bool{}
	var walk func(sp *genai.Span, depth int)
	walk = func(sp *genai.Span, depth int) {
		if visited[sp.SpanID] {
			return
		}
		visited[sp.SpanID] = true
		nodes = append(nodes, newSpanNode(t, sp, depth, total, selected, len(children[sp.SpanID])))
		kids := children[sp.SpanID]
		slices.SortFunc(kids, byStart)
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	// Spans only reachable through a cycle.
	for i := range spans {
		walk(&spans[i], 0)
	}
	return nodes
}

func newSpanNode(t genai.Trace, sp *genai.Span, depth int, total time.Duration, selected string, kids int) spanNode {
	n := spanNode{
		ID: sp.SpanID, Name: sp.Name, Service: sp.ServiceName, Type: "span", Depth: depth,
		Offset: sp.StartTime.Sub(t.StartTime), Duration: sp.Duration(), Error: sp.StatusCode == genai.StatusError,
		Selected: sp.SpanID == selected, Children: kids,
		URL:         "/traces/" + url.PathEscape(t.TraceID) + "?span=" + url.QueryEscape(sp.SpanID) + "#inspector",
		FragmentURL: "/traces/" + url.PathEscape(t.TraceID) + "/spans/" + url.PathEscape(sp.SpanID),
	}
	n.Indent = make([]struct{}, min(depth, 24)) // deeper levels stop indenting
	if c := sp.GenAI; c != nil {
		n.Type, n.Model, n.Counted = c.Type, c.Model(), c.Counted
		if c.Usage.Reported {
			n.Tokens = c.Usage.TotalTokens
		}
		if c.IsModelCall() || c.Cost.Source != "" {
			n.Cost = fmtCost(c.Cost.TotalUSD)
		}
	}
	if total > 0 {
		n.X = round2(max(0, float64(n.Offset)/float64(total)*1000))
		n.W = round2(max(3, float64(n.Duration)/float64(total)*1000))
		if n.X+n.W > 1000 {
			n.X = max(0, 1000-n.W)
		}
	} else {
		n.W = 1000
	}
	return n
}
