package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// traceKey identifies a trace.
type traceKey struct{ project, trace string }

// traceGroup is one trace a batch touches: its spans are spans[lo:hi] of the batch.
type traceGroup struct {
	key    traceKey
	lo, hi int
	rollup genai.Trace
}

// storedSpan is the part of a stored span that a rollup needs, plus where it is.
type storedSpan struct {
	sum      genai.SpanSummary
	startNS  int64
	provider string // for the model rollup
	counted  bool   // as stored
}

// Write implements store.Writer in one transaction of a few set-based statements:
//
//  1. insert the batch-only rollups of traces that have no row yet (ON CONFLICT DO NOTHING,
//     in key order): those traces had no stored span, so their rollup is final;
//  2. lock the other traces' rows (SELECT … FOR UPDATE, in key order), read the rollup
//     columns of all their stored spans and recompute their rollups and Counted flags;
//  3. write the spans with INSERT … SELECT FROM unnest(…) (a plain insert for new traces,
//     an upsert for the others), fix stored Counted flags, update the locked traces rows,
//     and insert the log records (ON CONFLICT DO NOTHING);
//  4. add the usage of the counted spans written and take away that of the counted spans
//     replaced or no longer counted, in the model rollup, then add the traces rows written
//     and take away the ones they replace in the trace rollup (rollupDeltas, traceDeltas:
//     in key order, last, model rollup first).
//
// Every trace a transaction writes is locked by it, new or not, so concurrent writers to
// one trace serialize instead of losing each other's spans; locks are always taken in key
// order, so they never deadlock.
func (s *Store) Write(ctx context.Context, b store.Batch) error {
	spans := uniqueSpans(b.Spans)
	logs := uniqueLogs(b.Logs)
	if len(spans) == 0 && len(logs) == 0 {
		return nil
	}
	starts := make([]int64, len(spans))
	for i := range spans {
		starts[i] = toNS(spans[i].StartTime)
	}
	if err := s.parts.ensure(ctx, s.pool, spanDays(starts)); err != nil {
		return err
	}
	// Roll every trace up from the batch alone: right for new traces, and a first guess of
	// the Counted flags for the others, corrected once their stored spans are read.
	groups := groupTraces(spans)
	counted := make([]bool, len(spans))
	for i := range groups {
		g := &groups[i]
		sums := make([]genai.SpanSummary, 0, g.hi-g.lo)
		for j := g.lo; j < g.hi; j++ {
			sums = append(sums, summarize(&spans[j]))
		}
		g.rollup = genai.Rollup(g.key.project, g.key.trace, sums) // in canonical order already
		for j, sum := range sums {
			counted[g.lo+j] = sum.Counted
		}
	}
	rows, err := newSpanRows(spans, counted)
	if err != nil {
		return fmt.Errorf("encode spans: %w", err)
	}
	logRows, err := newLogRows(logs)
	if err != nil {
		return fmt.Errorf("encode logs: %w", err)
	}
	write := func(upsertAll bool) error {
		return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
			return writeTx(ctx, tx, spans, groups, rows, logRows, upsertAll)
		})
	}
	err = write(false)
	if errIsCode(err, uniqueViolation) {
		// A new trace had stored spans after all (its row was deleted without them):
		// write again, upserting every span.
		s.logger.Warn("span rows of traces without a trace row; rewriting the batch as upserts", "err", err)
		err = write(true)
	}
	if err != nil {
		return fmt.Errorf("write %d spans and %d log records to postgres: %w", len(spans), len(logs), err)
	}
	return nil
}

// uniqueViolation is the SQLSTATE of a unique index violation.
const uniqueViolation = "23505"

// errIsCode reports whether err is a PostgreSQL error with the given SQLSTATE.
func errIsCode(err error, code string) bool {
	var pgErr interface{ SQLState() string }
	return errors.As(err, &pgErr) && pgErr.SQLState() == code
}

func writeTx(ctx context.Context, tx pgx.Tx, spans []genai.Span, groups []traceGroup, rows *spanRows, logs *logRows, upsertAll bool) error {
	var existing []*traceGroup
	var fresh, old []int // rows of new and of existing traces
	var inserted map[traceKey]bool
	if len(groups) > 0 {
		var err error
		if inserted, err = insertTraces(ctx, tx, groups); err != nil {
			return err
		}
		for i := range groups {
			// upsertAll distrusts "new trace, so no stored spans": every trace is reread.
			g, rowsOf := &groups[i], &fresh
			if !inserted[g.key] || upsertAll {
				existing, rowsOf = append(existing, g), &old
			}
			for j := g.lo; j < g.hi; j++ {
				*rowsOf = append(*rowsOf, j)
			}
		}
	}
	fix := rollupFixes{usage: rollupDeltas{}, traces: traceDeltas{}}
	for i := range groups {
		if inserted[groups[i].key] {
			fix.traces.add(rollupUsage(&groups[i].rollup), 1)
		}
	}
	for _, i := range fresh {
		if rows.counted[i] {
			fix.usage.add(rows.rowUsage(i), 1)
		}
	}
	if len(existing) > 0 {
		stored, old, err := lockAndLoad(ctx, tx, existing)
		if err != nil {
			return err
		}
		if err := reroll(spans, existing, stored, rows, &fix); err != nil {
			return err
		}
		for _, g := range existing {
			if u, ok := old[g.key]; ok { // updateTraces replaces it
				fix.traces.add(u, -1)
				fix.traces.add(rollupUsage(&g.rollup), 1)
			}
		}
	}
	// A new trace's spans cannot be stored yet: COPY is enough; the others are upserted.
	subset := func(idx []int) *spanRows {
		if len(idx) < len(spans) {
			return rows.subset(idx)
		}
		return rows
	}
	if len(fresh) > 0 {
		if err := copySpans(ctx, tx, subset(fresh)); err != nil {
			return fmt.Errorf("copy spans: %w", err)
		}
	}
	if len(old) > 0 {
		if err := execArrays(ctx, tx, "lumina_upsert_spans", upsertSpansSQL, subset(old).arrayParams()); err != nil {
			return fmt.Errorf("upsert spans: %w", err)
		}
	}
	if err := fix.apply(ctx, tx); err != nil {
		return err
	}
	if len(existing) > 0 {
		if err := updateTraces(ctx, tx, existing); err != nil {
			return err
		}
	}
	if len(logs.projectID) > 0 {
		if _, err := tx.Exec(ctx, insertLogsSQL, logs.args()...); err != nil {
			return fmt.Errorf("insert log records: %w", err)
		}
	}
	if err := fix.usage.apply(ctx, tx); err != nil {
		return err
	}
	return fix.traces.apply(ctx, tx)
}

// rollupUsage is the trace rollup usage of the traces row that insertTraces or updateTraces
// writes for t: the values newTraceRows encodes.
func rollupUsage(t *genai.Trace) traceUsage {
	return traceUsageOf(t.ProjectID, toNS(t.StartTime), clean(t.ServiceName), clean(t.Name), clean(t.Status),
		t.Usage.TotalTokens, t.CostUSD, int64(int32(t.UnpricedCalls)), int64(t.Duration()))
}

// groupTraces splits spans sorted by key into runs of one trace, and orders each run
// canonically (start time, then span id).
func groupTraces(spans []genai.Span) []traceGroup {
	var groups []traceGroup
	for i := range spans {
		k := traceKey{spans[i].ProjectID, spans[i].TraceID}
		if n := len(groups); n > 0 && groups[n-1].key == k {
			groups[n-1].hi = i + 1
			continue
		}
		groups = append(groups, traceGroup{key: k, lo: i, hi: i + 1})
	}
	for _, g := range groups {
		slices.SortFunc(spans[g.lo:g.hi], func(a, b genai.Span) int {
			return cmp.Or(cmp.Compare(toNS(a.StartTime), toNS(b.StartTime)), cmp.Compare(a.SpanID, b.SpanID))
		})
	}
	return groups
}

// summarize is genai.Summarize on the values as they are stored.
func summarize(s *genai.Span) genai.SpanSummary {
	sum := genai.Summarize(s)
	sum.CostUSD = finitePtr(sum.CostUSD)
	return sum
}

// rollup runs genai.Rollup over sums in a canonical order (start time, then span id), so a
// trace's rollup does not depend on the order its spans arrived or were read in.
func rollup(k traceKey, sums []genai.SpanSummary) genai.Trace {
	slices.SortFunc(sums, func(a, b genai.SpanSummary) int {
		return cmp.Or(cmp.Compare(toNS(a.StartTime), toNS(b.StartTime)), cmp.Compare(a.SpanID, b.SpanID))
	})
	return genai.Rollup(k.project, k.trace, sums)
}

// lockAndLoad locks the traces rows of existing traces in key order, reads their trace
// rollup usage and the rollup columns of all their stored spans.
func lockAndLoad(ctx context.Context, tx pgx.Tx, existing []*traceGroup) (map[traceKey][]storedSpan, map[traceKey]traceUsage, error) {
	projects, traces := make([]string, len(existing)), make([]string, len(existing))
	for i, g := range existing {
		projects[i], traces[i] = g.key.project, g.key.trace
	}
	old, err := lockTraces(ctx, tx, projects, traces)
	if err != nil {
		return nil, nil, fmt.Errorf("lock traces: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT project_id, trace_id, span_id, start_ns, end_ns, parent_span_id,
		name, service_name, status_code, genai_type, provider, model, usage_reported, input_tokens,
		output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, total_tokens,
		cost_usd, cost_source, session_id, user_id, environment, tags, counted
		FROM spans WHERE (project_id, trace_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
		projects, traces)
	if err != nil {
		return nil, nil, fmt.Errorf("load spans of %d traces: %w", len(existing), err)
	}
	defer rows.Close()
	out := make(map[traceKey][]storedSpan, len(existing))
	for rows.Next() {
		var k traceKey
		var sp storedSpan
		var endNS int64
		var tags []byte
		u := &sp.sum.Usage
		if err := rows.Scan(&k.project, &k.trace, &sp.sum.SpanID, &sp.startNS, &endNS, &sp.sum.ParentSpanID,
			&sp.sum.Name, &sp.sum.ServiceName, &sp.sum.StatusCode, &sp.sum.Type, &sp.provider, &sp.sum.Model, &u.Reported,
			&u.InputTokens, &u.OutputTokens, &u.CacheReadTokens, &u.CacheWriteTokens, &u.ReasoningTokens,
			&u.TotalTokens, &sp.sum.CostUSD, &sp.sum.CostSource, &sp.sum.SessionID, &sp.sum.UserID,
			&sp.sum.Environment, &tags, &sp.counted); err != nil {
			return nil, nil, fmt.Errorf("load spans: %w", err)
		}
		sp.sum.StartTime, sp.sum.EndTime = fromNS(sp.startNS), fromNS(endNS)
		if err := unmarshalJSON(tags, &sp.sum.Tags); err != nil {
			return nil, nil, fmt.Errorf("load span tags: %w", err)
		}
		out[k] = append(out[k], sp)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("load spans: %w", err)
	}
	return out, old, nil
}

// lockTraces locks the traces rows of the given traces in key order and returns their trace
// rollup usage.
func lockTraces(ctx context.Context, tx pgx.Tx, projects, traces []string) (map[traceKey]traceUsage, error) {
	rows, err := tx.Query(ctx, `SELECT project_id, trace_id, start_ns, service_name, name, status,
		total_tokens, cost_usd, unpriced_calls, duration_ns FROM traces
		WHERE (project_id, trace_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
		ORDER BY project_id, trace_id FOR UPDATE`, projects, traces)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	old := make(map[traceKey]traceUsage, len(projects))
	for rows.Next() {
		var k traceKey
		var start, total, unpriced, duration int64
		var service, name, status string
		var cost *float64
		if err := rows.Scan(&k.project, &k.trace, &start, &service, &name, &status, &total, &cost, &unpriced, &duration); err != nil {
			return nil, err
		}
		old[k] = traceUsageOf(k.project, start, service, name, status, total, cost, unpriced, duration)
	}
	return old, rows.Err()
}

// rollupFixes are the changes to stored spans that a recomputed rollup implies.
type rollupFixes struct {
	// Counted flags of stored spans outside the batch that changed.
	project, trace, span []string
	start                []int64
	counted              []bool
	// The write's changes to the trace rollup: the traces rows inserted and updated, less
	// the rows updated as they were.
	traces traceDeltas
	// Stored rows replaced by a batch span with the same id but another start time (the
	// start is part of the row key, so the upsert did not overwrite them).
	delProject, delTrace, delSpan []string
	delStart                      []int64
	// The write's changes to the model rollup: its counted batch rows, less the stored
	// rows they replace, and the stored spans whose Counted flag changes.
	usage rollupDeltas
}

// reroll recomputes the rollups of existing traces from their stored spans and the batch's,
// fixes the batch rows' Counted flags and adds the changes stored spans and the model
// rollup need to fix.
func reroll(spans []genai.Span, existing []*traceGroup, stored map[traceKey][]storedSpan, rows *spanRows, fix *rollupFixes) error {
	for _, g := range existing {
		batch := spans[g.lo:g.hi]
		inBatch := make(map[string]int, len(batch))
		sums := make([]genai.SpanSummary, 0, len(batch)+len(stored[g.key]))
		for j := range batch {
			inBatch[batch[j].SpanID] = j
			sums = append(sums, summarize(&batch[j]))
		}
		kept := map[string]storedSpan{}
		for _, sp := range stored[g.key] {
			if j, ok := inBatch[sp.sum.SpanID]; ok {
				// Replaced by the batch's row (upserted over it, or deleted below).
				if sp.counted {
					fix.usage.add(storedUsage(g.key.project, sp), -1)
				}
				if sp.startNS != rows.startNS[g.lo+j] {
					fix.delProject = append(fix.delProject, g.key.project)
					fix.delTrace = append(fix.delTrace, g.key.trace)
					fix.delSpan = append(fix.delSpan, sp.sum.SpanID)
					fix.delStart = append(fix.delStart, sp.startNS)
				}
				continue
			}
			kept[sp.sum.SpanID] = sp
			sums = append(sums, sp.sum)
		}
		g.rollup = rollup(g.key, sums)
		for _, sum := range sums {
			if j, ok := inBatch[sum.SpanID]; ok {
				i := g.lo + j
				if batch[j].GenAI != nil && rows.counted[i] != sum.Counted {
					call, err := marshalCall(batch[j].GenAI, sum.Counted)
					if err != nil {
						return fmt.Errorf("encode span %s genai: %w", sum.SpanID, err)
					}
					rows.counted[i], rows.call[i] = sum.Counted, call
				}
				if rows.counted[i] {
					fix.usage.add(rows.rowUsage(i), 1)
				}
				continue
			}
			if sp := kept[sum.SpanID]; sp.counted != sum.Counted {
				n := int64(1)
				if !sum.Counted {
					n = -1
				}
				fix.usage.add(storedUsage(g.key.project, sp), n)
				fix.project = append(fix.project, g.key.project)
				fix.trace = append(fix.trace, g.key.trace)
				fix.span = append(fix.span, sp.sum.SpanID)
				fix.start = append(fix.start, sp.startNS)
				fix.counted = append(fix.counted, sum.Counted)
			}
		}
	}
	return nil
}

// apply writes the fixes; the document copy of Counted is kept equal to the column.
func (f *rollupFixes) apply(ctx context.Context, tx pgx.Tx) error {
	if len(f.delSpan) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM spans WHERE (project_id, trace_id, span_id, start_ns) IN
			(SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]))`,
			f.delProject, f.delTrace, f.delSpan, f.delStart); err != nil {
			return fmt.Errorf("delete replaced spans: %w", err)
		}
	}
	if len(f.span) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE spans s SET counted = u.counted,
			genai = jsonb_set(s.genai::jsonb, '{counted}', to_jsonb(u.counted))::json
			FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::boolean[]) AS u(project_id, trace_id, span_id, start_ns, counted)
			WHERE s.project_id = u.project_id AND s.trace_id = u.trace_id AND s.span_id = u.span_id AND s.start_ns = u.start_ns`,
			f.project, f.trace, f.span, f.start, f.counted); err != nil {
			return fmt.Errorf("update counted flags: %w", err)
		}
	}
	return nil
}
