package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/use-lumina/lumina/internal/genai"
)

// countedColumn is where spanArgs puts the Counted flag, which the rollup decides.
var countedColumn = slices.Index(spanColumns, "counted")

type traceKey struct{ project, trace string }

// traceGroup is the batch's spans of one trace: indexes into the batch, one per span id
// (its last occurrence, which is what a sequence of upserts would leave).
type traceGroup struct {
	key   traceKey
	spans []int
}

// groupByTrace groups a batch's spans by trace, in key order: inserts into the indexes on
// the random trace id then walk each b-tree in one direction instead of jumping about.
func groupByTrace(spans []genai.Span) []traceGroup {
	type spanKey struct {
		traceKey
		span string
	}
	last := make(map[spanKey]int, len(spans))
	for i := range spans {
		last[spanKey{traceKey{spans[i].ProjectID, spans[i].TraceID}, spans[i].SpanID}] = i
	}
	pos := make(map[traceKey]int, len(spans)/4+1)
	var groups []traceGroup
	for i := range spans {
		k := traceKey{spans[i].ProjectID, spans[i].TraceID}
		if last[spanKey{k, spans[i].SpanID}] != i {
			continue
		}
		g, ok := pos[k]
		if !ok {
			g = len(groups)
			pos[k] = g
			groups = append(groups, traceGroup{key: k})
		}
		groups[g].spans = append(groups[g].spans, i)
	}
	slices.SortFunc(groups, func(a, b traceGroup) int {
		return cmp.Or(strings.Compare(a.key.project, b.key.project), strings.Compare(a.key.trace, b.key.trace))
	})
	return groups
}

// rollupWriter writes a trace's spans and recomputes its rollup inside a write transaction.
type rollupWriter struct {
	st     *txStmts
	enc    *encoder
	old    map[traceKey]oldTrace // the batch's traces that were already stored
	sums   []genai.SpanSummary   // stored spans not in the batch, then the batch's; reused
	stored []storedSpan

	// What flush writes: trace rows, and rows new to the service and model indexes.
	traces   [][]any
	services []indexRow
	models   []indexRow
}

// oldTrace is what the previous rollup of a trace indexed, and under which start time.
type oldTrace struct {
	models, services []byte
	start            int64
}

// indexRow is a row of trace_services or trace_models, encoded as a JSON array for the
// statements that add a batch's rows at once.
type indexRow struct {
	project, value, trace string
	start                 int64
}

// MarshalJSON encodes the row as [project, value, trace, start].
func (x indexRow) MarshalJSON() ([]byte, error) {
	b := appendString([]byte{'['}, x.project)
	b = appendString(append(b, ','), x.value)
	b = appendString(append(b, ','), x.trace)
	b = strconv.AppendInt(append(b, ','), x.start, 10)
	return append(b, ']'), nil
}

// lookup reads which of the groups' traces are stored, and what they indexed, with one
// query per project rather than one per trace.
func (r *rollupWriter) lookup(ctx context.Context, groups []traceGroup) error {
	byProject := map[string][]string{}
	for _, g := range groups {
		byProject[g.key.project] = append(byProject[g.key.project], g.key.trace)
	}
	r.old = make(map[traceKey]oldTrace)
	for project, traces := range byProject {
		ids, err := r.enc.fast(traces)
		if err != nil {
			return fmt.Errorf("encode trace ids: %w", err)
		}
		rows, err := r.st.oldTraces.QueryContext(ctx, project, ids)
		if err != nil {
			return fmt.Errorf("read trace rows: %w", err)
		}
		for rows.Next() {
			var (
				id string
				o  oldTrace
			)
			if err := rows.Scan(&id, &o.models, &o.services, &o.start); err != nil {
				rows.Close()
				return fmt.Errorf("read trace rows: %w", err)
			}
			r.old[traceKey{project, id}] = o
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("read trace rows: %w", err)
		}
	}
	return nil
}

// storedSpan is what the rollup needs to know about a stored span besides its summary.
type storedSpan struct {
	rowid   int64
	counted bool
}

// write rolls the trace up from its stored spans and the batch's, records in counted (by
// batch index) the flags the rollup decided for the batch's spans, rewrites the
// flag on stored spans where it changed, and queues the trace row and its index rows for
// flush. Summaries of the batch's spans come from memory, so a new trace costs no span
// reads at all.
func (r *rollupWriter) write(ctx context.Context, spans []genai.Span, counted []bool, g traceGroup) error {
	project, trace := g.key.project, g.key.trace
	old, exists := r.old[g.key]
	r.sums, r.stored = r.sums[:0], r.stored[:0]
	if exists {
		inBatch := make(map[string]bool, len(g.spans))
		for _, i := range g.spans {
			inBatch[spans[i].SpanID] = true
		}
		if err := r.load(ctx, project, trace, inBatch); err != nil {
			return err
		}
	}
	nStored := len(r.sums)
	for _, i := range g.spans {
		r.sums = append(r.sums, genai.Summarize(&spans[i]))
	}
	t := genai.Rollup(project, trace, r.sums)

	for j, i := range g.spans {
		counted[i] = r.sums[nStored+j].Counted
	}
	for j := range nStored {
		if r.sums[j].Counted != r.stored[j].counted {
			if _, err := r.st.setCounted.ExecContext(ctx, boolInt(r.sums[j].Counted), r.stored[j].rowid); err != nil {
				return fmt.Errorf("set counted on span %s: %w", r.sums[j].SpanID, err)
			}
		}
	}
	args, err := traceArgs(r.enc, &t)
	if err != nil {
		return err
	}
	r.traces = append(r.traces, args)
	start := nanos(t.StartTime)
	if r.services, err = r.sync(ctx, old, g.key, start, old.services, t.Services, r.services, r.st.moveService, r.st.removeService); err != nil {
		return fmt.Errorf("index services: %w", err)
	}
	if r.models, err = r.sync(ctx, old, g.key, start, old.models, t.Models, r.models, r.st.moveModel, r.st.removeModel); err != nil {
		return fmt.Errorf("index models: %w", err)
	}
	return nil
}

// traceChunk is how many trace rows one upsert carries; see spanChunk.
const traceChunk = 16

// flush upserts the queued trace rows and adds the queued index rows, all of a batch's
// index rows in one statement per table.
func (r *rollupWriter) flush(ctx context.Context) error {
	if err := execChunked(ctx, r.st.upsertTrace, r.st.upsertTraces, r.traces, traceChunk); err != nil {
		return fmt.Errorf("upsert trace rows: %w", err)
	}
	for _, idx := range []struct {
		rows []indexRow
		stmt *sql.Stmt
	}{{r.services, r.st.addServices}, {r.models, r.st.addModels}} {
		if len(idx.rows) == 0 {
			continue
		}
		rows, err := r.enc.text(idx.rows)
		if err != nil {
			return fmt.Errorf("encode index rows: %w", err)
		}
		if _, err := idx.stmt.ExecContext(ctx, rows); err != nil {
			return fmt.Errorf("add index rows: %w", err)
		}
	}
	return nil
}

// load appends the summaries of the trace's stored spans that the batch does not replace.
func (r *rollupWriter) load(ctx context.Context, project, trace string, inBatch map[string]bool) error {
	rows, err := r.st.summaries.QueryContext(ctx, project, trace)
	if err != nil {
		return fmt.Errorf("read span summaries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			s          genai.SpanSummary
			st         storedSpan
			start, end int64
			cost       sql.NullFloat64
			tags       []byte
		)
		if err := rows.Scan(&st.rowid, &s.SpanID, &s.ParentSpanID, &s.Name, &s.ServiceName, &start, &end,
			&s.StatusCode, &s.Type, &s.Model, &s.Usage.InputTokens, &s.Usage.OutputTokens,
			&s.Usage.CacheReadTokens, &s.Usage.CacheWriteTokens, &s.Usage.ReasoningTokens,
			&s.Usage.TotalTokens, &s.Usage.Reported, &cost, &s.CostSource, &s.SessionID, &s.UserID,
			&s.Environment, &tags, &st.counted); err != nil {
			return fmt.Errorf("read span summaries: %w", err)
		}
		if inBatch[s.SpanID] {
			continue
		}
		s.StartTime, s.EndTime, s.CostUSD, s.Counted = fromNanos(start), fromNanos(end), floatPtr(cost), st.counted
		if s.Tags, err = decodeStrings(tags, "span tags"); err != nil {
			return err
		}
		r.sums, r.stored = append(r.sums, s), append(r.stored, st)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read span summaries: %w", err)
	}
	return nil
}

// sync brings a trace's rows in an index table (services or models) from the old list,
// as stored in the previous trace row under its previous start time, to the new one: it
// removes what left (rare: a wrapper's model gives way to its inner call's), moves what
// stayed when the trace's start time moved (a root arriving after its children), and
// appends what is new to add.
func (r *rollupWriter) sync(ctx context.Context, old oldTrace, k traceKey, start int64, oldCol []byte, now []string,
	add []indexRow, move, remove *sql.Stmt) ([]indexRow, error) {
	before, err := decodeStrings(oldCol, "trace index list")
	if err != nil {
		return add, err
	}
	for _, v := range before {
		stmt, args := remove, []any{k.project, v, k.trace, old.start}
		if slices.Contains(now, v) {
			if old.start == start {
				continue
			}
			stmt, args = move, []any{start, k.project, v, k.trace, old.start}
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return add, err
		}
	}
	for _, v := range now {
		if !slices.Contains(before, v) {
			add = append(add, indexRow{project: k.project, value: v, trace: k.trace, start: start})
		}
	}
	return add, nil
}
