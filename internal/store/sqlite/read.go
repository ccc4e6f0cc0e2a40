package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// Trace returns the trace's rollup, its spans by start time then span id, and its log
// records oldest first, all read from one snapshot.
func (s *Store) Trace(ctx context.Context, projectID, traceID string) (store.TraceDetail, error) {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return store.TraceDetail{}, fmt.Errorf("read trace %s: %w", traceID, err)
	}
	defer tx.Rollback()
	row := tx.QueryRowContext(ctx, "SELECT "+strings.Join(traceColumns, ", ")+
		" FROM traces WHERE project_id = ? AND trace_id = ?", projectID, traceID)
	t, err := scanTrace(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.TraceDetail{}, fmt.Errorf("read trace %s: %w", traceID, store.ErrNotFound)
	}
	if err != nil {
		return store.TraceDetail{}, fmt.Errorf("read trace %s: %w", traceID, err)
	}
	d := store.TraceDetail{Trace: t}
	if d.Spans, err = querySpans(ctx, tx, projectID, traceID); err != nil {
		return store.TraceDetail{}, fmt.Errorf("read trace %s: %w", traceID, err)
	}
	if d.Logs, err = queryLogs(ctx, tx, "SELECT "+strings.Join(logColumns, ", ")+
		" FROM logs WHERE project_id = ? AND trace_id = ? ORDER BY time, id", projectID, traceID); err != nil {
		return store.TraceDetail{}, fmt.Errorf("read trace %s: %w", traceID, err)
	}
	return d, nil
}

// querySpans reads every span of a trace.
func querySpans(ctx context.Context, tx *sql.Tx, projectID, traceID string) ([]genai.Span, error) {
	// Without INDEXED BY the planner may walk spans_start for the ORDER BY instead, which
	// reads every span of the project.
	rows, err := tx.QueryContext(ctx, "SELECT "+strings.Join(spanColumns, ", ")+
		" FROM spans INDEXED BY spans_key WHERE project_id = ? AND trace_id = ? ORDER BY start_time, span_id", projectID, traceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var spans []genai.Span
	for rows.Next() {
		sp, err := scanSpan(rows)
		if err != nil {
			return nil, err
		}
		spans = append(spans, sp)
	}
	return spans, rows.Err()
}

// scanSpan reads one row of spanColumns.
func scanSpan(rows *sql.Rows) (genai.Span, error) {
	var (
		s                              genai.Span
		start, end                     int64
		dropAttrs, dropEvts, dropLinks int64
		attrs, res, events, links      []byte
		typ, op, provider, model       string
		session, user, env             string
		tokens                         [6]int64
		reported, counted              bool
		cost                           sql.NullFloat64
		costSource                     string
		tags, call                     []byte
	)
	if err := rows.Scan(&s.ProjectID, &s.TraceID, &s.SpanID, &s.ParentSpanID, &s.TraceState, &s.Name,
		&s.Kind, &s.ServiceName, &start, &end, &s.StatusCode, &s.StatusMessage,
		&s.ScopeName, &s.ScopeVersion, &s.ResourceSchemaURL, &s.ScopeSchemaURL,
		&dropAttrs, &dropEvts, &dropLinks, &attrs, &res, &events, &links,
		&typ, &op, &provider, &model, &session, &user, &env,
		&tokens[0], &tokens[1], &tokens[2], &tokens[3], &tokens[4], &tokens[5], &reported,
		&cost, &costSource, &counted, &tags, &call); err != nil {
		return genai.Span{}, fmt.Errorf("scan span: %w", err)
	}
	s.StartTime, s.EndTime = fromNanos(start), fromNanos(end)
	s.DroppedAttributes, s.DroppedEvents, s.DroppedLinks = uint32(dropAttrs), uint32(dropEvts), uint32(dropLinks)
	if err := decode(attrs, &s.Attributes, "span attributes"); err != nil {
		return genai.Span{}, err
	}
	if err := decode(res, &s.Resource, "span resource"); err != nil {
		return genai.Span{}, err
	}
	var err error
	if s.Events, err = decodeEvents(events); err != nil {
		return genai.Span{}, err
	}
	if s.Links, err = decodeLinks(links); err != nil {
		return genai.Span{}, err
	}
	if call != nil {
		s.GenAI = &genai.Call{}
		if err := decode(call, s.GenAI, "genai call"); err != nil {
			return genai.Span{}, err
		}
		// The column is what the latest rollup decided; the JSON holds what the writer sent.
		s.GenAI.Counted = counted
	}
	return s, nil
}

// scanTrace reads one row of traceColumns.
func scanTrace(row interface{ Scan(...any) error }) (genai.Trace, error) {
	var (
		t                                     genai.Trace
		start, end, duration                  int64
		spans, errs, calls, unpriced, hasRoot int64
		models, services, tags                []byte
		cost                                  sql.NullFloat64
	)
	if err := row.Scan(&t.ProjectID, &t.TraceID, &t.ServiceName, &t.Name, &start, &end, &duration,
		&spans, &errs, &calls, &t.Status, &models, &services,
		&t.Usage.InputTokens, &t.Usage.OutputTokens, &t.Usage.CacheReadTokens,
		&t.Usage.CacheWriteTokens, &t.Usage.ReasoningTokens, &t.Usage.TotalTokens, &cost,
		&unpriced, &hasRoot, &t.SessionID, &t.UserID, &t.Environment, &tags); err != nil {
		return genai.Trace{}, err
	}
	t.StartTime, t.EndTime = fromNanos(start), fromNanos(end)
	t.SpanCount, t.ErrorCount, t.LLMCallCount = int(spans), int(errs), int(calls)
	t.UnpricedCalls, t.HasRoot, t.CostUSD = int(unpriced), hasRoot != 0, floatPtr(cost)
	var err error
	if t.Models, err = decodeStrings(models, "trace models"); err != nil {
		return genai.Trace{}, err
	}
	if t.Services, err = decodeStrings(services, "trace services"); err != nil {
		return genai.Trace{}, err
	}
	if t.Tags, err = decodeStrings(tags, "trace tags"); err != nil {
		return genai.Trace{}, err
	}
	return t, nil
}

// Traces lists the project's trace rollups matching q, one keyset page at a time: the page
// holds up to q.Limit traces after q.Cursor in (sort key, trace id) order.
func (s *Store) Traces(ctx context.Context, q store.TraceQuery) (store.TracePage, error) {
	key := "start_time"
	switch q.Sort {
	case "", store.SortStartTime:
	case store.SortDuration:
		key = "duration"
	default:
		return store.TracePage{}, fmt.Errorf("list traces: unknown sort %q", q.Sort)
	}
	limit := store.PageLimit(q.Limit)

	// A listing walks one index in sort order and stops after a page. Listing by start time
	// for a service or model walks that value's rows in trace_services or trace_models;
	// otherwise it walks traces (by start time, status or name, or duration), testing the
	// rest of the filters on each trace.
	from, where, args := "traces t", []string{"t.project_id = ?"}, []any{q.ProjectID}
	sortCol, idCol := "t."+key, "t.trace_id"
	cond := func(c string, a ...any) { where, args = append(where, c), append(args, a...) }
	drive := ""
	if key == "start_time" && q.Service != "" {
		drive = "trace_services"
	} else if key == "start_time" && q.Model != "" {
		drive = "trace_models"
	}
	if drive != "" {
		col, val := "service_name", q.Service
		if drive == "trace_models" {
			col, val = "model", q.Model
		}
		// CROSS JOIN keeps the index table as the outer loop.
		from = drive + " x CROSS JOIN traces t ON t.project_id = x.project_id AND t.trace_id = x.trace_id"
		where, args = []string{"x.project_id = ?", "x." + col + " = ?"}, []any{q.ProjectID, val}
		sortCol, idCol = "x.start_time", "x.trace_id"
	}
	if q.Service != "" && drive != "trace_services" {
		cond(`EXISTS (SELECT 1 FROM trace_services s WHERE s.project_id = t.project_id
			AND s.service_name = ? AND s.start_time = t.start_time AND s.trace_id = t.trace_id)`, q.Service)
	}
	if q.Model != "" && drive != "trace_models" {
		cond(`EXISTS (SELECT 1 FROM trace_models m WHERE m.project_id = t.project_id
			AND m.model = ? AND m.start_time = t.start_time AND m.trace_id = t.trace_id)`, q.Model)
	}
	if q.Name != "" {
		cond("t.name = ?", q.Name)
	}
	if q.Status != "" {
		cond("t.status = ?", q.Status)
	}
	if q.SessionID != "" {
		cond("t.session_id = ?", q.SessionID)
	}
	traceFilters(q, cond)
	startCol := "t.start_time"
	if drive != "" {
		startCol = "x.start_time" // the same value, on the index being walked
	}
	if !q.Since.IsZero() {
		cond(startCol+" >= ?", nanos(q.Since))
	}
	if !q.Until.IsZero() {
		cond(startCol+" < ?", nanos(q.Until))
	}
	if q.MinDuration > 0 {
		cond("t.duration >= ?", int64(q.MinDuration))
	}
	dir, cmp := "DESC", "<"
	if q.Ascending {
		dir, cmp = "ASC", ">"
	}
	if q.Cursor != "" {
		c, err := store.DecodeCursor(q.Cursor)
		if err != nil {
			return store.TracePage{}, fmt.Errorf("list traces: %w", err)
		}
		cond("("+sortCol+", "+idCol+") "+cmp+" (?, ?)", c.Key, c.TraceID)
	}
	selectAll := "SELECT " + prefixed("t.", traceColumns) + " FROM " + from + " WHERE " + strings.Join(where, " AND ")
	order := " ORDER BY " + sortCol + " " + dir + ", " + idCol + " " + dir
	var page store.TracePage
	if terms := store.ParseSearch(q.Text); len(terms) == 0 {
		if err := s.listTraces(ctx, &page, selectAll+order+" LIMIT ?", append(args, limit+1)); err != nil {
			return store.TracePage{}, err
		}
	} else {
		// A text search probes a window of the next traces when its terms are common, and
		// lists the traces of all matches when they are rare or the window holds less than
		// a page (see textProbe).
		if err := s.waitIndexed(ctx); err != nil {
			return store.TracePage{}, fmt.Errorf("list traces: %w", err)
		}
		match := matchExpr(terms)
		var common int
		if err := s.r.QueryRowContext(ctx, textCommon, match, s.textCommon).Scan(&common); err != nil {
			return store.TracePage{}, fmt.Errorf("list traces: count text matches: %w", err)
		}
		if common >= s.textCommon {
			probe := "WITH w AS MATERIALIZED (" + selectAll + order + " LIMIT ?) " + textProbe +
				" ORDER BY w." + key + " " + dir + ", w.trace_id " + dir + " LIMIT ?"
			if err := s.listTraces(ctx, &page, probe, append(slices.Clip(args), textProbeTraces*(limit+1), match, limit+1)); err != nil {
				return store.TracePage{}, err
			}
		}
		if len(page.Traces) <= limit {
			query := selectAll + " AND " + textMatches + order + " LIMIT ?"
			if err := s.listTraces(ctx, &page, query, append(args, match, q.ProjectID, limit+1)); err != nil {
				return store.TracePage{}, err
			}
		}
	}
	if len(page.Traces) > limit {
		page.Traces = page.Traces[:limit]
		last := page.Traces[limit-1]
		k := nanos(last.StartTime)
		if key == "duration" {
			k = int64(last.Duration())
		}
		page.NextCursor = store.Cursor{Key: k, TraceID: last.TraceID}.Encode()
	}
	return page, nil
}

// prefixed is columns joined, each with prefix.
func prefixed(prefix string, columns []string) string {
	return prefix + strings.Join(columns, ", "+prefix)
}

// listTraces runs a trace listing query and appends its rows to page.
func (s *Store) listTraces(ctx context.Context, page *store.TracePage, query string, args []any) error {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("list traces: %w", err)
	}
	defer rows.Close()
	page.Traces = []genai.Trace{}
	for rows.Next() {
		t, err := scanTrace(rows)
		if err != nil {
			return fmt.Errorf("list traces: %w", err)
		}
		page.Traces = append(page.Traces, t)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list traces: %w", err)
	}
	return nil
}
