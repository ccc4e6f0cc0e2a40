package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

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
	defer s.ckpt.writing()()
	// Encoding is CPU work that needs no lock and the rollups need only the spans, so a
	// batch that was not prepared encodes on its own goroutines while this one takes the
	// writer and rolls up.
	var (
		e       encodedBatch
		encoder sync.WaitGroup
	)
	if p, ok := b.Prepared.(*prepared); ok && p.store == s {
		e = p.enc
	} else {
		encoder.Go(func() { e = encodeBatch(b) })
		defer encoder.Wait() // the encoder finishes before Write returns
	}

	groups := groupByTrace(b.Spans)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write batch: begin: %w", err)
	}
	defer tx.Rollback()
	r := rollupWriter{st: s.stmts.bind(ctx, tx), enc: newEncoder()}
	if err := r.lookup(ctx, groups); err != nil {
		return fmt.Errorf("write batch: %w", err)
	}
	counted := make([]bool, len(b.Spans))
	for _, g := range groups {
		if err := r.write(ctx, b.Spans, counted, g); err != nil {
			return fmt.Errorf("write batch: trace %s/%s: %w", g.key.project, g.key.trace, err)
		}
	}
	encoder.Wait()
	if e.err != nil {
		return fmt.Errorf("write batch: %w", e.err)
	}
	upserts := make([][]any, 0, len(b.Spans))
	for _, g := range groups {
		for _, i := range g.spans {
			e.spans[i][countedColumn] = boolInt(counted[i])
			upserts = append(upserts, e.spans[i])
		}
	}
	if err := execChunked(ctx, r.st.upsertSpan, r.st.upsertSpans, upserts, spanChunk); err != nil {
		return fmt.Errorf("write batch: upsert spans: %w", err)
	}
	texts, err := r.queueText(ctx, b.Spans, groups, e.texts)
	if err != nil {
		return fmt.Errorf("write batch: %w", err)
	}
	// The queue's rows the index has applied go in the same transaction.
	applied := s.ix.appliedID()
	if applied > s.dequeued.Load() {
		if _, err := r.st.dequeueText.ExecContext(ctx, applied); err != nil {
			return fmt.Errorf("write batch: dequeue search text: %w", err)
		}
	}
	if err := r.flush(ctx); err != nil {
		return fmt.Errorf("write batch: %w", err)
	}
	for i, row := range e.logs {
		if _, err := r.st.insertLog.ExecContext(ctx, row...); err != nil {
			return fmt.Errorf("write batch: insert log record %s: %w", b.Logs[i].ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write batch: commit: %w", err)
	}
	s.ckpt.wrote(e.size)
	s.dequeued.Store(max(s.dequeued.Load(), applied))
	s.ix.hand(texts)
	return nil
}

// spanChunk is how many span rows one INSERT carries. The binds cost the same either way,
// but each statement execution has a fixed cost (database/sql, the driver, opening and
// closing SQLite's statement journal) that sixteen rows share.
const spanChunk = 16

// execChunked runs many, which takes chunk rows of arguments, over rows, and one, which
// takes a single row, over what is left.
func execChunked(ctx context.Context, one, many *sql.Stmt, rows [][]any, chunk int) error {
	if len(rows) >= chunk {
		args := make([]any, 0, chunk*len(rows[0]))
		for ; len(rows) >= chunk; rows = rows[chunk:] {
			args = args[:0]
			for _, row := range rows[:chunk] {
				args = append(args, row...)
			}
			if _, err := many.ExecContext(ctx, args...); err != nil {
				return err
			}
		}
	}
	for _, row := range rows {
		if _, err := one.ExecContext(ctx, row...); err != nil {
			return err
		}
	}
	return nil
}

// encodeChunk is how many spans one encoding goroutine takes at least; below it the
// goroutine costs more than it saves.
const encodeChunk = 128

// Prepare encodes b's rows ahead of Write (store.Preparer). Encoding waited for in Write
// was a fifth of a write's time on the single writer (batches of 100 to 500 LLM-sized
// spans); the worker now does it while the previous batch is written.
func (s *Store) Prepare(b *store.Batch) {
	b.Prepared = &prepared{store: s, enc: encodeBatch(*b)}
}

// Join returns the parts as one batch (store.Preparer). Their encodings are joined too
// when s prepared every part; otherwise Write encodes the batch.
func (s *Store) Join(parts []store.Batch) store.Batch {
	b := store.Join(parts)
	var e encodedBatch
	for _, part := range parts {
		p, ok := part.Prepared.(*prepared)
		if !ok || p.store != s {
			return b
		}
		if e.err == nil {
			e.err = p.enc.err
		}
		e.spans = append(e.spans, p.enc.spans...)
		e.logs = append(e.logs, p.enc.logs...)
		e.texts = append(e.texts, p.enc.texts...)
		e.size += p.enc.size
	}
	b.Prepared = &prepared{store: s, enc: e}
	return b
}

// prepared is a batch encoded by Prepare, for the Store that made it.
type prepared struct {
	store *Store
	enc   encodedBatch
}

// encodedBatch is a batch as statement arguments, and about how many bytes they hold.
type encodedBatch struct {
	spans, logs [][]any
	texts       []string // store.SearchText of each span
	size        int64
	err         error
}

// encodeBatch turns the batch into statement arguments, encoding the spans on up to
// GOMAXPROCS goroutines: JSON encoding is a third of a write's CPU time and needs no lock.
func encodeBatch(b store.Batch) encodedBatch {
	spanRows := make([][]any, len(b.Spans))
	texts := make([]string, len(b.Spans))
	// One backing array for every row's values: a thousand fewer allocations a batch.
	values := make([]any, len(b.Spans)*len(spanColumns))
	workers := min(runtime.GOMAXPROCS(0), (len(b.Spans)+encodeChunk-1)/encodeChunk)
	errs := make([]error, max(workers, 1))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			enc := newEncoder()
			for i := w; i < len(b.Spans); i += workers {
				n := len(spanColumns)
				row, err := spanArgs(values[i*n:i*n:(i+1)*n], enc, &b.Spans[i])
				if err != nil {
					errs[w] = fmt.Errorf("span %s/%s: %w", b.Spans[i].TraceID, b.Spans[i].SpanID, err)
					return
				}
				spanRows[i] = row
				texts[i] = store.SearchText(b.Spans[i].GenAI)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return encodedBatch{err: err}
	}
	enc := newEncoder()
	logRows := make([][]any, len(b.Logs))
	for i := range b.Logs {
		row, err := logArgs(enc, &b.Logs[i])
		if err != nil {
			return encodedBatch{err: fmt.Errorf("log record %s: %w", b.Logs[i].ID, err)}
		}
		logRows[i] = row
	}
	var size int64
	for _, rows := range [][][]any{spanRows, logRows} {
		for _, row := range rows {
			size += rowBytes(row)
		}
	}
	for _, t := range texts {
		size += int64(len(t))
	}
	return encodedBatch{spans: spanRows, logs: logRows, texts: texts, size: size}
}

// rowBytes estimates a row's size: its text plus eight bytes for every other value.
func rowBytes(row []any) int64 {
	var n int64
	for _, v := range row {
		if s, ok := v.(string); ok {
			n += int64(len(s))
		} else {
			n += 8
		}
	}
	return n
}

// spanArgs appends s as the values of spanColumns to row.
func spanArgs(row []any, enc *encoder, s *genai.Span) ([]any, error) {
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
	row = append(row,
		s.ProjectID, s.TraceID, s.SpanID, s.ParentSpanID, s.TraceState, s.Name, s.Kind,
		s.ServiceName, nanos(s.StartTime), nanos(s.EndTime), s.StatusCode, s.StatusMessage,
		s.ScopeName, s.ScopeVersion, s.ResourceSchemaURL, s.ScopeSchemaURL,
		int64(s.DroppedAttributes), int64(s.DroppedEvents), int64(s.DroppedLinks),
		attrs, res, events, links,
	)
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
