package api

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

func (s *Server) listTraces(ctx context.Context, project string, r *http.Request) (any, error) {
	q, err := traceQuery(project, r.URL.Query())
	if err != nil {
		return nil, err
	}
	page, err := s.store.Traces(ctx, q)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(page.Traces))
	for i := range page.Traces {
		ids[i] = page.Traces[i].TraceID
	}
	quality, err := s.store.TraceQuality(ctx, project, ids)
	if err != nil {
		return nil, err
	}
	out := traceList{Traces: make([]traceJSON, len(page.Traces)), NextCursor: page.NextCursor}
	for i := range page.Traces {
		out.Traces[i] = newTraceJSON(&page.Traces[i])
		out.Traces[i].withQuality(quality)
	}
	return out, nil
}

// maxSearchText bounds the q parameter, a full-text search (store.TraceQuery.Text).
const maxSearchText = 256

// maxAttrFilter bounds one attr parameter, key=value, in bytes.
const maxAttrFilter = 1024

// traceQuery parses the trace list's query parameters.
func traceQuery(project string, v url.Values) (store.TraceQuery, error) {
	q := store.TraceQuery{
		ProjectID:   project,
		Service:     v.Get("service"),
		Name:        v.Get("name"),
		Model:       v.Get("model"),
		SessionID:   v.Get("session_id"),
		UserID:      v.Get("user_id"),
		Environment: v.Get("environment"),
		Tag:         v.Get("tag"),
		Provider:    v.Get("provider"),
		Cursor:      v.Get("cursor"),
		Limit:       50,
	}
	attrs := v["attr"]
	if len(attrs) > store.MaxAttributeFilters {
		return q, errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("at most %d attr parameters, got %d", store.MaxAttributeFilters, len(attrs)))
	}
	for _, a := range attrs {
		key, value, ok := strings.Cut(a, "=")
		if !ok || key == "" || len(a) > maxAttrFilter {
			return q, errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("attr must be key=value with a non-empty key, at most %d bytes in all", maxAttrFilter))
		}
		q.Attributes = append(q.Attributes, store.AttributeFilter{Key: key, Value: value})
	}
	if text := v.Get("q"); text != "" {
		if n := utf8.RuneCountInString(text); n > maxSearchText {
			return q, errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("q must be at most %d characters, got %d", maxSearchText, n))
		}
		q.Text = text
	}
	if st := v.Get("status"); st != "" {
		if st != genai.StatusOK && st != genai.StatusError {
			return q, errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("status must be %q or %q, got %q", genai.StatusOK, genai.StatusError, st))
		}
		q.Status = st
	}
	var err error
	if q.Since, err = timeParam(v, "since"); err != nil {
		return q, err
	}
	if q.Until, err = timeParam(v, "until"); err != nil {
		return q, err
	}
	for _, b := range []struct {
		name string
		dst  *time.Duration
	}{{"min_duration_ms", &q.MinDuration}, {"max_duration_ms", &q.MaxDuration}} {
		if d := v.Get(b.name); d != "" {
			ms, err := strconv.ParseFloat(d, 64)
			if err != nil || !(ms >= 0) || ms > 1e12 {
				return q, errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("%s must be a non-negative number, got %q", b.name, d))
			}
			*b.dst = time.Duration(ms * float64(time.Millisecond))
		}
	}
	for _, b := range []struct {
		name string
		dst  **float64
	}{{"min_cost_usd", &q.MinCostUSD}, {"max_cost_usd", &q.MaxCostUSD}} {
		if c := v.Get(b.name); c != "" {
			usd, err := strconv.ParseFloat(c, 64)
			if err != nil || !(usd >= 0) || math.IsInf(usd, 0) {
				return q, errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("%s must be a non-negative number of dollars, got %q", b.name, c))
			}
			*b.dst = &usd
		}
	}
	switch sort := v.Get("sort"); sort {
	case "", store.SortStartTime:
		q.Sort = store.SortStartTime
	case store.SortDuration:
		q.Sort = store.SortDuration
	default:
		return q, errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("sort must be %q or %q, got %q", store.SortStartTime, store.SortDuration, sort))
	}
	switch order := v.Get("order"); order {
	case "", "desc":
	case "asc":
		q.Ascending = true
	default:
		return q, errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("order must be asc or desc, got %q", order))
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return q, errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("limit must be an integer from 1 to 1000, got %q", l))
		}
		q.Limit = n
	}
	if q.Cursor != "" {
		if _, err := store.DecodeCursor(q.Cursor); err != nil {
			return q, errorf(http.StatusBadRequest, "invalid_cursor", "cursor is not one this API returned")
		}
	}
	return q, nil
}

// timeParam accepts RFC 3339 or Unix milliseconds.
func timeParam(v url.Values, name string) (time.Time, error) {
	s := v.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Time{}, errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("%s must be an RFC 3339 time or Unix milliseconds, got %q", name, s))
}

func (s *Server) getTrace(ctx context.Context, project string, r *http.Request) (any, error) {
	id := r.PathValue("trace_id")
	if !validHex(id, 32) {
		return nil, errorf(http.StatusBadRequest, "invalid_trace_id", "trace_id must be 32 hexadecimal characters")
	}
	d, err := s.store.Trace(ctx, project, normalizeHex(id))
	if err != nil {
		return nil, err
	}
	if s.join != nil {
		s.join(d.Spans, d.Logs)
	}
	quality, err := s.store.TraceQuality(ctx, project, []string{d.Trace.TraceID})
	if err != nil {
		return nil, err
	}
	out := traceDetailJSON{traceJSON: newTraceJSON(&d.Trace), Spans: make([]spanJSON, len(d.Spans))}
	out.withQuality(quality)
	for i := range d.Spans {
		out.Spans[i] = newSpanJSON(&d.Spans[i])
	}
	for i := range d.Logs {
		out.Logs = append(out.Logs, newLogJSON(&d.Logs[i]))
	}
	return out, nil
}

func (s *Server) listLogs(ctx context.Context, project string, r *http.Request) (any, error) {
	v := r.URL.Query()
	q := store.LogQuery{ProjectID: project, TraceID: v.Get("trace_id"), SpanID: v.Get("span_id"), Limit: 100}
	if q.TraceID != "" && !validHex(q.TraceID, 32) {
		return nil, errorf(http.StatusBadRequest, "invalid_trace_id", "trace_id must be 32 hexadecimal characters")
	}
	if q.SpanID != "" && !validHex(q.SpanID, 16) {
		return nil, errorf(http.StatusBadRequest, "invalid_span_id", "span_id must be 16 hexadecimal characters")
	}
	q.TraceID, q.SpanID = normalizeHex(q.TraceID), normalizeHex(q.SpanID)
	if o := v.Get("orphans"); o != "" {
		b, err := strconv.ParseBool(o)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid_parameter", "orphans must be true or false")
		}
		q.Orphans = b
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return nil, errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("limit must be an integer from 1 to 1000, got %q", l))
		}
		q.Limit = n
	}
	logs, err := s.store.Logs(ctx, q)
	if err != nil {
		return nil, err
	}
	out := struct {
		Logs []logJSON `json:"logs"`
	}{Logs: make([]logJSON, len(logs))}
	for i := range logs {
		out.Logs[i] = newLogJSON(&logs[i])
	}
	return out, nil
}

func (s *Server) unpricedModels(ctx context.Context, project string, r *http.Request) (any, error) {
	since, err := timeParam(r.URL.Query(), "since")
	if err != nil {
		return nil, err
	}
	counts, err := s.store.UnpricedModels(ctx, project, since)
	if err != nil {
		return nil, err
	}
	type modelCount struct {
		Provider string `json:"provider"`
		Model    string `json:"model"`
		Calls    int64  `json:"calls"`
	}
	out := struct {
		Models []modelCount `json:"models"`
	}{Models: make([]modelCount, len(counts))}
	for i, c := range counts {
		out.Models[i] = modelCount{c.Provider, c.Model, c.Count}
	}
	return out, nil
}

func validHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func normalizeHex(s string) string {
	b, err := hex.DecodeString(s)
	if err != nil {
		return s
	}
	return hex.EncodeToString(b)
}
