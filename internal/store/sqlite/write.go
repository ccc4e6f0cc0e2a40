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

// Write stores the batch in one transaction: it upserts the spans, inserts the log records
// it has not seen, and recomputes the rollup (and each span's Counted flag) of every trace
// the batch touched from all of that trace's stored spans. It returns nil only after the
// commit; concurrent calls queue on the single writer connection.
func (s *Store) Write(ctx context.Context, b store.Batch) error {
	if len(b.Spans) == 0 && len(b.Logs) == 0 {
		return nil
	}
	// Encode before taking the writer, so concurrent writers share the CPU-bound part.
	enc := newEncoder()
	spanRows := make([][]any, len(b.Spans))
	for i := range b.Spans {
		row, err := spanArgs(enc, &b.Spans[i])
		if err != nil {
			return fmt.Errorf("write batch: span %s/%s: %w", b.Spans[i].TraceID, b.Spans[i].SpanID, err)
		}
		spanRows[i] = row
	}
	logRows := make([][]any, len(b.Logs))
	for i := range b.Logs {
		row, err := logArgs(enc, &b.Logs[i])
		if err != nil {
			return fmt.Errorf("write batch: log record %s: %w", b.Logs[i].ID, err)
		}
		logRows[i] = row
	}

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write batch: begin: %w", err)
	}
	defer tx.Rollback()
	st := s.stmts.bind(ctx, tx)
	for i, row := range spanRows {
		if _, err := st.upsertSpan.ExecContext(ctx, row...); err != nil {
			return fmt.Errorf("write batch: upsert span %s/%s: %w", b.Spans[i].TraceID, b.Spans[i].SpanID, err)
		}
	}
	for i, row := range logRows {
		if _, err := st.insertLog.ExecContext(ctx, row...); err != nil {
			return fmt.Errorf("write batch: insert log record %s: %w", b.Logs[i].ID, err)
		}
	}
	r := rollupWriter{st: st, enc: enc}
	for _, k := range touchedTraces(b.Spans) {
		if err := r.rollup(ctx, k.project, k.trace); err != nil {
			return fmt.Errorf("write batch: roll up trace %s/%s: %w", k.project, k.trace, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write batch: commit: %w", err)
	}
	return nil
}

type traceKey struct{ project, trace string }

// touchedTraces lists the distinct traces of spans, in first-seen order.
func touchedTraces(spans []genai.Span) []traceKey {
	seen := make(map[traceKey]bool, len(spans)/4+1)
	var keys []traceKey
	for i := range spans {
		k := traceKey{spans[i].ProjectID, spans[i].TraceID}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// spanArgs is s as the values of spanColumns.
func spanArgs(enc *encoder, s *genai.Span) ([]any, error) {
	attrs, err := enc.object(s.Attributes)
	if err != nil {
		return nil, fmt.Errorf("encode attributes: %w", err)
	}
	res, err := enc.object(s.Resource)
	if err != nil {
		return nil, fmt.Errorf("encode resource: %w", err)
	}
	events, err := enc.events(s.Events)
	if err != nil {
		return nil, fmt.Errorf("encode events: %w", err)
	}
	links, err := enc.links(s.Links)
	if err != nil {
		return nil, fmt.Errorf("encode links: %w", err)
	}
	row := []any{
		s.ProjectID, s.TraceID, s.SpanID, s.ParentSpanID, s.TraceState, s.Name, s.Kind,
		s.ServiceName, nanos(s.StartTime), nanos(s.EndTime), s.StatusCode, s.StatusMessage,
		s.ScopeName, s.ScopeVersion, s.ResourceSchemaURL, s.ScopeSchemaURL,
		int64(s.DroppedAttributes), int64(s.DroppedEvents), int64(s.DroppedLinks),
		attrs, res, events, links,
	}
	c := s.GenAI
	if c == nil {
		return append(row,
			"", "", "", "", "", "", "", // genai_type … environment
			int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), // tokens, usage_reported
			nil, "", int64(0), nil, nil, // cost_usd, cost_source, counted, tags, genai
		), nil
	}
	tags, err := enc.list(c.Tags)
	if err != nil {
		return nil, fmt.Errorf("encode tags: %w", err)
	}
	call, err := enc.text(c)
	if err != nil {
		return nil, fmt.Errorf("encode genai call: %w", err)
	}
	u := c.Usage
	return append(row,
		c.Type, c.Operation, c.Provider, c.Model(), c.SessionID, c.UserID, c.Environment,
		u.InputTokens, u.OutputTokens, u.CacheReadTokens, u.CacheWriteTokens,
		u.ReasoningTokens, u.TotalTokens, boolInt(u.Reported),
		nullFloat(c.Cost.TotalUSD), c.Cost.Source, boolInt(c.Counted), tags, call,
	), nil
}

// isGenAILog reports whether a record carries GenAI content, which makes it an orphan
// while its span is missing.
func isGenAILog(l *genai.LogRecord) bool {
	return len(l.Messages) > 0 || strings.HasPrefix(l.EventName, "gen_ai.")
}

// logArgs is l as the values of logColumns.
func logArgs(enc *encoder, l *genai.LogRecord) ([]any, error) {
	body, err := enc.value(l.Body)
	if err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	attrs, err := enc.object(l.Attributes)
	if err != nil {
		return nil, fmt.Errorf("encode attributes: %w", err)
	}
	res, err := enc.object(l.Resource)
	if err != nil {
		return nil, fmt.Errorf("encode resource: %w", err)
	}
	var msgs any
	if l.Messages != nil {
		if msgs, err = enc.text(l.Messages); err != nil {
			return nil, fmt.Errorf("encode messages: %w", err)
		}
	}
	return []any{
		l.ProjectID, l.ID, l.TraceID, l.SpanID, nanos(l.Time), nanos(l.ObservedTime), l.EventName,
		l.SeverityText, int64(l.SeverityNumber), l.ServiceName, l.ScopeName, body, attrs,
		res, msgs, boolInt(l.Output), boolInt(isGenAILog(l)),
	}, nil
}

// rollupWriter recomputes trace rollups inside a write transaction.
type rollupWriter struct {
	st   *txStmts
	enc  *encoder
	sums []genai.SpanSummary // reused across traces
	rows []summaryRow
}

// summaryRow is what a rollup needs to know about a stored span besides its summary.
type summaryRow struct {
	rowid   int64
	counted bool
}

// rollup loads the light columns of every stored span of the trace, runs genai.Rollup,
// writes back the Counted flags that changed and upserts the trace row and its indexes.
func (r *rollupWriter) rollup(ctx context.Context, project, trace string) error {
	if err := r.load(ctx, project, trace); err != nil {
		return err
	}
	t := genai.Rollup(project, trace, r.sums)
	for i := range r.sums {
		if r.sums[i].Counted != r.rows[i].counted {
			if _, err := r.st.setCounted.ExecContext(ctx, boolInt(r.sums[i].Counted), r.rows[i].rowid); err != nil {
				return fmt.Errorf("set counted: %w", err)
			}
		}
	}

	var oldModels, oldServices []byte
	err := r.st.oldTrace.QueryRowContext(ctx, project, trace).Scan(&oldModels, &oldServices)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read trace row: %w", err)
	}
	args, err := traceArgs(r.enc, &t)
	if err != nil {
		return err
	}
	if _, err := r.st.upsertTrace.ExecContext(ctx, args...); err != nil {
		return fmt.Errorf("upsert trace row: %w", err)
	}
	if err := r.sync(ctx, project, trace, oldServices, t.Services, r.st.addService, r.st.removeService); err != nil {
		return fmt.Errorf("index services: %w", err)
	}
	if err := r.sync(ctx, project, trace, oldModels, t.Models, r.st.addModel, r.st.removeModel); err != nil {
		return fmt.Errorf("index models: %w", err)
	}
	return nil
}

// load reads the trace's span summaries into r.sums and r.rows.
func (r *rollupWriter) load(ctx context.Context, project, trace string) error {
	rows, err := r.st.summaries.QueryContext(ctx, project, trace)
	if err != nil {
		return fmt.Errorf("read span summaries: %w", err)
	}
	defer rows.Close()
	r.sums, r.rows = r.sums[:0], r.rows[:0]
	for rows.Next() {
		var (
			s       genai.SpanSummary
			row     summaryRow
			start   int64
			end     int64
			cost    sql.NullFloat64
			tags    []byte
			usageOn bool
		)
		if err := rows.Scan(&row.rowid, &s.SpanID, &s.ParentSpanID, &s.Name, &s.ServiceName, &start, &end,
			&s.StatusCode, &s.Type, &s.Model, &s.Usage.InputTokens, &s.Usage.OutputTokens,
			&s.Usage.CacheReadTokens, &s.Usage.CacheWriteTokens, &s.Usage.ReasoningTokens,
			&s.Usage.TotalTokens, &usageOn, &cost, &s.CostSource, &s.SessionID, &s.UserID,
			&s.Environment, &tags, &row.counted); err != nil {
			return fmt.Errorf("read span summaries: %w", err)
		}
		s.StartTime, s.EndTime = fromNanos(start), fromNanos(end)
		s.Usage.Reported, s.CostUSD, s.Counted = usageOn, floatPtr(cost), row.counted
		if s.Tags, err = decodeStrings(tags, "span tags"); err != nil {
			return err
		}
		r.sums, r.rows = append(r.sums, s), append(r.rows, row)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read span summaries: %w", err)
	}
	return nil
}

// sync brings a trace's rows in an index table (services or models) from the old list,
// as stored in the previous trace row, to the new one.
func (r *rollupWriter) sync(ctx context.Context, project, trace string, oldCol []byte, now []string, add, remove *sql.Stmt) error {
	old, err := decodeStrings(oldCol, "trace index list")
	if err != nil {
		return err
	}
	for _, v := range old {
		if !slices.Contains(now, v) {
			if _, err := remove.ExecContext(ctx, project, v, trace); err != nil {
				return err
			}
		}
	}
	for _, v := range now {
		if !slices.Contains(old, v) {
			if _, err := add.ExecContext(ctx, project, v, trace); err != nil {
				return err
			}
		}
	}
	return nil
}

// traceArgs is t as the values of traceColumns.
func traceArgs(enc *encoder, t *genai.Trace) ([]any, error) {
	models, err := enc.list(t.Models)
	if err != nil {
		return nil, fmt.Errorf("encode models: %w", err)
	}
	services, err := enc.list(t.Services)
	if err != nil {
		return nil, fmt.Errorf("encode services: %w", err)
	}
	tags, err := enc.list(t.Tags)
	if err != nil {
		return nil, fmt.Errorf("encode tags: %w", err)
	}
	u := t.Usage
	return []any{
		t.ProjectID, t.TraceID, t.ServiceName, t.Name, nanos(t.StartTime), nanos(t.EndTime),
		int64(t.Duration()), int64(t.SpanCount), int64(t.ErrorCount), int64(t.LLMCallCount),
		t.Status, models, services, u.InputTokens, u.OutputTokens, u.CacheReadTokens,
		u.CacheWriteTokens, u.ReasoningTokens, u.TotalTokens, nullFloat(t.CostUSD),
		int64(t.UnpricedCalls), boolInt(t.HasRoot), t.SessionID, t.UserID, t.Environment, tags,
	}, nil
}
