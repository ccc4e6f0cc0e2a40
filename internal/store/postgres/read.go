package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// defaultLogLimit is a log listing's page size when LogQuery.Limit is 0.
const defaultLogLimit = 100

// traceReadColumns are read by scanTrace, in its order.
const traceReadColumns = `project_id, trace_id, start_ns, end_ns, span_count, error_count,
	llm_call_count, unpriced_calls, input_tokens, output_tokens, cache_read_tokens,
	cache_write_tokens, reasoning_tokens, total_tokens, cost_usd, has_root, service_name, name,
	status, session_id, user_id, environment, model_keys, service_keys, tags, duration_ns`

// scanTrace reads one traces row; it also returns duration_ns, a cursor key.
func scanTrace(row pgx.Row) (genai.Trace, int64, error) {
	var t genai.Trace
	var startNS, endNS, durationNS int64
	u := &t.Usage
	err := row.Scan(&t.ProjectID, &t.TraceID, &startNS, &endNS, &t.SpanCount, &t.ErrorCount,
		&t.LLMCallCount, &t.UnpricedCalls, &u.InputTokens, &u.OutputTokens, &u.CacheReadTokens,
		&u.CacheWriteTokens, &u.ReasoningTokens, &u.TotalTokens, &t.CostUSD, &t.HasRoot,
		&t.ServiceName, &t.Name, &t.Status, &t.SessionID, &t.UserID, &t.Environment,
		&t.Models, &t.Services, &t.Tags, &durationNS)
	if err != nil {
		return t, 0, err
	}
	t.StartTime, t.EndTime = fromNS(startNS), fromNS(endNS)
	t.Models, t.Services, t.Tags = stripKeys(t.Models), stripKeys(t.Services), nilIfEmpty(t.Tags)
	return t, durationNS, nil
}

// spanReadColumns are read by scanSpan, in its order.
const spanReadColumns = `project_id, trace_id, span_id, start_ns, end_ns, parent_span_id,
	trace_state, name, kind, service_name, status_code, status_message, scope_name,
	scope_version, resource_schema_url, scope_schema_url, dropped_attributes, dropped_events,
	dropped_links, counted, attributes, resource, events, links, genai`

func scanSpan(row pgx.Row) (genai.Span, error) {
	var s genai.Span
	var startNS, endNS, dropA, dropE, dropL int64
	var counted bool
	var attrs, res, events, links, call []byte
	err := row.Scan(&s.ProjectID, &s.TraceID, &s.SpanID, &startNS, &endNS, &s.ParentSpanID,
		&s.TraceState, &s.Name, &s.Kind, &s.ServiceName, &s.StatusCode, &s.StatusMessage,
		&s.ScopeName, &s.ScopeVersion, &s.ResourceSchemaURL, &s.ScopeSchemaURL, &dropA, &dropE,
		&dropL, &counted, &attrs, &res, &events, &links, &call)
	if err != nil {
		return s, err
	}
	s.StartTime, s.EndTime = fromNS(startNS), fromNS(endNS)
	s.DroppedAttributes, s.DroppedEvents, s.DroppedLinks = uint32(dropA), uint32(dropE), uint32(dropL)
	if err := errors.Join(unmarshalJSON(attrs, &s.Attributes), unmarshalJSON(res, &s.Resource),
		unmarshalJSON(events, &s.Events), unmarshalJSON(links, &s.Links)); err != nil {
		return s, fmt.Errorf("span %s: %w", s.SpanID, err)
	}
	if call != nil {
		s.GenAI = &genai.Call{}
		if err := unmarshalJSON(call, s.GenAI); err != nil {
			return s, fmt.Errorf("span %s genai: %w", s.SpanID, err)
		}
		s.GenAI.Counted = counted // the column is the truth; the document agrees
	}
	return s, nil
}

// logReadColumns are read by scanLog, in its order.
const logReadColumns = `project_id, id, trace_id, span_id, time_ns, observed_ns, event_name,
	severity_text, severity_number, service_name, scope_name, body, attributes, resource,
	messages, output`

func scanLog(row pgx.Row) (genai.LogRecord, error) {
	var l genai.LogRecord
	var timeNS, observedNS int64
	var body, attrs, res, msgs []byte
	err := row.Scan(&l.ProjectID, &l.ID, &l.TraceID, &l.SpanID, &timeNS, &observedNS, &l.EventName,
		&l.SeverityText, &l.SeverityNumber, &l.ServiceName, &l.ScopeName, &body, &attrs, &res,
		&msgs, &l.Output)
	if err != nil {
		return l, err
	}
	l.Time, l.ObservedTime = fromNS(timeNS), fromNS(observedNS)
	if err := errors.Join(unmarshalJSON(body, &l.Body), unmarshalJSON(attrs, &l.Attributes),
		unmarshalJSON(res, &l.Resource), unmarshalJSON(msgs, &l.Messages)); err != nil {
		return l, fmt.Errorf("log record %s: %w", l.ID, err)
	}
	return l, nil
}

// Trace implements store.TraceReader: the rollup, spans and log records are read in one
// round trip.
func (s *Store) Trace(ctx context.Context, projectID, traceID string) (store.TraceDetail, error) {
	var d store.TraceDetail
	batch := &pgx.Batch{}
	batch.Queue("SELECT "+traceReadColumns+" FROM traces WHERE project_id = $1 AND trace_id = $2",
		projectID, traceID)
	batch.Queue("SELECT "+spanReadColumns+" FROM spans WHERE project_id = $1 AND trace_id = $2 ORDER BY start_ns, span_id",
		projectID, traceID)
	batch.Queue("SELECT "+logReadColumns+" FROM logs WHERE project_id = $1 AND trace_id = $2 AND trace_id <> '' ORDER BY time_ns, id",
		projectID, traceID)
	res := s.pool.SendBatch(ctx, batch)
	defer res.Close()
	t, _, err := scanTrace(res.QueryRow())
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("trace %s: %w", traceID, store.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("read trace %s: %w", traceID, err)
	}
	d.Trace = t
	rows, err := res.Query()
	if err != nil {
		return d, fmt.Errorf("read spans of trace %s: %w", traceID, err)
	}
	if d.Spans, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (genai.Span, error) { return scanSpan(r) }); err != nil {
		return d, fmt.Errorf("read spans of trace %s: %w", traceID, err)
	}
	if rows, err = res.Query(); err != nil {
		return d, fmt.Errorf("read logs of trace %s: %w", traceID, err)
	}
	if d.Logs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (genai.LogRecord, error) { return scanLog(r) }); err != nil {
		return d, fmt.Errorf("read logs of trace %s: %w", traceID, err)
	}
	if len(d.Logs) == 0 {
		d.Logs = nil
	}
	return d, nil
}

// Traces implements store.TraceReader with keyset pagination on (sort key, trace id).
func (s *Store) Traces(ctx context.Context, q store.TraceQuery) (store.TracePage, error) {
	var page store.TracePage
	key := "start_ns"
	switch q.Sort {
	case "", store.SortStartTime:
	case store.SortDuration:
		key = "duration_ns"
	default:
		return page, fmt.Errorf("list traces: unknown sort %q", q.Sort)
	}
	limit := store.PageLimit(q.Limit)

	// Model and service filters are array containment on the GIN indexes; the others are
	// btree-friendly and go in the inner query of the probe (below).
	var where, contains []string
	var containsService, containsModel bool
	args := []any{q.ProjectID}
	arg := binder(&args)
	where = append(where, "project_id = $1")
	if q.Service != "" {
		containsService = true
	}
	if q.Name != "" {
		where = append(where, "name = "+arg(q.Name))
	}
	if q.Status != "" {
		where = append(where, "status = "+arg(q.Status))
	}
	if q.SessionID != "" {
		where = append(where, "session_id = "+arg(q.SessionID))
	}
	where = append(where, traceFilters(q, arg)...)
	if q.Model != "" {
		containsModel = true
	}
	if !q.Since.IsZero() {
		where = append(where, "start_ns >= "+arg(toNS(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, "start_ns < "+arg(toNS(q.Until)))
	}
	if q.MinDuration > 0 {
		where = append(where, "duration_ns >= "+arg(int64(q.MinDuration)))
	}
	dir, op := "DESC", "<"
	if q.Ascending {
		dir, op = "ASC", ">"
	}
	if q.Cursor != "" {
		c, err := store.DecodeCursor(q.Cursor)
		if err != nil {
			return page, fmt.Errorf("list traces: %w", err)
		}
		where = append(where, fmt.Sprintf("(%s, trace_id) %s (%s, %s)", key, op, arg(c.Key), arg(c.TraceID)))
	}
	// The GIN conditions bind their values last, so the other conditions can run alone
	// with the arguments before them (see traceLister.search).
	whereArgs := len(args)
	if containsService {
		contains = append(contains, "service_keys @> ARRAY["+arg(projectKey(q.ProjectID, q.Service))+"::text]")
	}
	if containsModel {
		contains = append(contains, "model_keys @> ARRAY["+arg(projectKey(q.ProjectID, q.Model))+"::text]")
	}
	order := fmt.Sprintf("ORDER BY %s %s, trace_id %s", key, dir, dir)
	l := traceLister{s: s, key: key, limit: limit, order: order, contains: contains}
	matches := spanMatches(q)
	if len(matches) == 0 {
		return l.list(ctx, where, args)
	}
	return l.search(ctx, q, matches, where, args, whereArgs)
}

// list reads one page of the traces matching where and the lister's contains conditions.
func (l traceLister) list(ctx context.Context, where []string, args []any) (store.TracePage, error) {
	var page store.TracePage
	l.args = args
	if len(l.contains) > 0 {
		// The probe: filter the newest (or longest…) traces in index order. The planner
		// cannot do this itself: it takes a project's model or service key, which implies the
		// project, for independent of project_id, so it estimates such a filter 10× too
		// selective and sorts every match of the GIN index instead (measured 121 ms p95 for
		// a model on 20 % of 200k traces). When the probed rows do not fill a page, the
		// filter matches under 1 % of them, and the GIN index does find few rows.
		probe := min(100*(l.limit+1), 50_000)
		sql := fmt.Sprintf("SELECT %s FROM (SELECT %s FROM traces WHERE %s %s LIMIT %d) t WHERE %s %s LIMIT %d",
			traceReadColumns, traceReadColumns, strings.Join(where, " AND "), l.order, probe,
			strings.Join(l.contains, " AND "), l.order, l.limit+1)
		if err := l.run(ctx, &page, sql); err != nil || page.NextCursor != "" {
			return page, err
		}
		page = store.TracePage{}
	}
	sql := fmt.Sprintf("SELECT %s FROM traces WHERE %s %s LIMIT %d",
		traceReadColumns, strings.Join(append(slices.Clip(where), l.contains...), " AND "), l.order, l.limit+1)
	return page, l.run(ctx, &page, sql)
}

// traceLister runs one trace-list query and reads its page.
type traceLister struct {
	s        *Store
	key      string // the sort column
	limit    int
	order    string   // the ORDER BY clause
	contains []string // the conditions on the GIN indexes of traces
	args     []any
}

// run reads up to limit traces from sql (which asks for limit+1) into page, with the next
// cursor when there is one more.
func (l traceLister) run(ctx context.Context, page *store.TracePage, sql string) error {
	rows, err := l.s.pool.Query(ctx, sql, l.args...)
	if err != nil {
		return fmt.Errorf("list traces: %w", err)
	}
	defer rows.Close()
	var lastKey int64
	for rows.Next() {
		if len(page.Traces) == l.limit {
			last := page.Traces[l.limit-1]
			page.NextCursor = store.Cursor{Key: lastKey, TraceID: last.TraceID}.Encode()
			break
		}
		t, durationNS, err := scanTrace(rows)
		if err != nil {
			return fmt.Errorf("list traces: %w", err)
		}
		lastKey = durationNS
		if l.key == "start_ns" {
			lastKey = toNS(t.StartTime)
		}
		page.Traces = append(page.Traces, t)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list traces: %w", err)
	}
	return nil
}

// Logs implements store.TraceReader.
func (s *Store) Logs(ctx context.Context, q store.LogQuery) ([]genai.LogRecord, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLogLimit
	}
	// The "<> ''" terms let the planner use the partial indexes on trace and span ids.
	where := []string{"l.project_id = $1"}
	args := []any{q.ProjectID}
	if q.TraceID != "" {
		args = append(args, q.TraceID)
		where = append(where, fmt.Sprintf("l.trace_id = $%d AND l.trace_id <> ''", len(args)))
	}
	if q.SpanID != "" {
		args = append(args, q.SpanID)
		where = append(where, fmt.Sprintf("l.span_id = $%d AND l.span_id <> ''", len(args)))
	}
	if q.Orphans {
		where = append(where, `l.is_genai AND NOT EXISTS (SELECT 1 FROM spans s
			WHERE s.project_id = l.project_id AND s.trace_id = l.trace_id AND s.span_id = l.span_id)`)
	}
	sql := fmt.Sprintf("SELECT %s FROM logs l WHERE %s ORDER BY l.time_ns, l.id LIMIT %d",
		logReadColumns, strings.Join(where, " AND "), limit)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list log records: %w", err)
	}
	logs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (genai.LogRecord, error) { return scanLog(r) })
	if err != nil {
		return nil, fmt.Errorf("list log records: %w", err)
	}
	if len(logs) == 0 {
		return nil, nil
	}
	return logs, nil
}
