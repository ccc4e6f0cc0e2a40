package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// textProbeTraces is how many traces per row of the page a span search's window holds.
const textProbeTraces = 10

// attributesUnderProject is the expression the spans_attributes index holds (migration
// 0820): a span's attributes under its project id, so that an index entry names a project.
const attributesUnderProject = "jsonb_set('{}'::jsonb, ARRAY[s.project_id], s.attributes)"

// spanMatch is a condition on a trace's spans s (the alias) of project $1, binding its
// values with arg. resolve says that the planner cannot estimate how many spans it matches
// (a jsonb containment), so search resolves it to its traces first when they are few.
type spanMatch struct {
	sql     func(arg func(v any) string) string
	resolve bool
	// row, when set, is the condition on one span's row without an index, for testing the
	// spans of a few traces (the window's, through the spans' primary key).
	row func(arg func(v any) string) string
}

// spanMatches are q's conditions that a span of the trace must meet, each on a GIN index of
// spans: its text search (spans_search) and each attribute filter (spans_attributes). An
// attribute filter names the project inside the document it looks up, so it has no
// project_id condition: with one, the planner ANDs the project's whole btree range (every
// span of it in the partition) into the bitmap of the few GIN matches (measured 150 ms a
// lookup at 10M spans, against under 1 ms for the GIN's own bitmap).
func spanMatches(q store.TraceQuery) []spanMatch {
	var ms []spanMatch
	if terms := store.ParseSearch(q.Text); len(terms) > 0 {
		match, ok := tsQuery(terms)
		ms = append(ms, spanMatch{sql: func(arg func(any) string) string {
			if !ok {
				return "false"
			}
			return "s.project_id = $1 AND s.search_vec IS NOT NULL AND s.search_vec @@ " + arg(match) + "::tsquery"
		}})
	}
	for _, f := range q.Attributes {
		// Stored as the encoder stores them: NUL and invalid UTF-8 as U+FFFD.
		docs := store.AttributeFilter{Key: clean(f.Key), Value: clean(f.Value)}.Documents()
		contains := func(expr, doc string) func(arg func(any) string) string {
			return func(arg func(any) string) string {
				cs := make([]string, len(docs))
				for i, d := range docs {
					cs[i] = expr + " @> " + fmt.Sprintf(doc, arg(d))
				}
				return "s.attributes IS NOT NULL AND (" + strings.Join(cs, " OR ") + ")"
			}
		}
		ms = append(ms, spanMatch{resolve: true,
			sql: contains(attributesUnderProject, "jsonb_build_object($1::text, %s::jsonb)"),
			row: contains("s.attributes", "%s::jsonb")})
	}
	return ms
}

// search lists a page of the traces matching where and the lister's contains conditions
// (with args, of which where uses the first whereArgs) and, for each span match, a span
// meeting it.
//
// A span match finds the matching spans in each partition's GIN index, then their traces:
// a cost that grows with the matching spans from the earliest start the condition allows.
// A common word or attribute value matches most spans, so for the newest-first listing
// (the dashboard's) search first bounds that start: it reads the start time b of the next
// textProbeTraces×(limit+1) traces under the other filters (from the traces_start index)
// and lists the matching traces that start at or after b, whose spans all start at or
// after b too, so that only the partitions from b on are searched; an attribute match
// tests the spans of each of those traces instead (through the spans' primary key: the
// GIN lookup of a common value read every match from b on, 1 s and more on a deep page
// at 10M spans, where the window's spans are a few thousand rows). That page is exact
// whatever b is; it is complete when it is full, or when the window held every remaining
// trace. Otherwise, and for other orders, the matches are bounded by the query's Since
// only, and an attribute match is first resolved to the ids of its traces when it has at
// most Store.resolveTraces of them: PostgreSQL guesses a fixed share of the spans for a jsonb
// containment, and for a rare value that guess made it hash every trace of the project
// (2.4 s at 10M spans) instead of reading the few matches' traces by key.
func (l traceLister) search(ctx context.Context, q store.TraceQuery, matches []spanMatch, where []string, args []any, whereArgs int) (store.TracePage, error) {
	resolved := make([][]string, len(matches)) // the trace ids of a resolved match
	cond := func(args []any, since int64, window bool) ([]any, string) {
		args = slices.Clip(args)
		arg := binder(&args)
		cs := make([]string, len(matches))
		for i, m := range matches {
			if resolved[i] != nil {
				cs[i] = "trace_id = ANY(" + arg(resolved[i]) + "::text[])"
				continue
			}
			if window && m.row != nil {
				cs[i] = "EXISTS (SELECT 1 FROM spans s WHERE s.project_id = traces.project_id AND s.trace_id = traces.trace_id" +
					" AND s.start_ns >= traces.start_ns AND " + m.row(arg) + ")"
				continue
			}
			c := "trace_id IN (SELECT s.trace_id FROM spans s WHERE " + m.sql(arg)
			if since != 0 {
				c += " AND s.start_ns >= " + arg(since)
			}
			cs[i] = c + ")"
		}
		return args, strings.Join(cs, " AND ")
	}
	var since int64
	if !q.Since.IsZero() {
		since = toNS(q.Since)
	}
	if l.key == "start_ns" && !q.Ascending {
		window := textProbeTraces * (l.limit + 1)
		var (
			b *int64
			n int
		)
		err := l.s.pool.QueryRow(ctx, fmt.Sprintf("SELECT min(start_ns), count(*) FROM (SELECT start_ns FROM traces WHERE %s %s LIMIT %d) w",
			strings.Join(where, " AND "), l.order, window), args[:whereArgs]...).Scan(&b, &n)
		if err != nil {
			return store.TracePage{}, fmt.Errorf("list traces: search window: %w", err)
		}
		if n == 0 {
			return store.TracePage{Traces: []genai.Trace{}}, nil
		}
		bounded, c := cond(args, max(*b, since), true)
		bounded = append(bounded, *b)
		page, err := l.list(ctx, append(slices.Clip(where), c, "start_ns >= $"+strconv.Itoa(len(bounded))), bounded)
		if err != nil || page.NextCursor != "" || n < window {
			return page, err
		}
	}
	for i, m := range matches {
		if !m.resolve {
			continue
		}
		ids, err := l.resolve(ctx, q.ProjectID, m, since)
		if err != nil {
			return store.TracePage{}, err
		}
		if ids != nil && len(ids) == 0 {
			return store.TracePage{Traces: []genai.Trace{}}, nil
		}
		resolved[i] = ids
	}
	all, c := cond(args, since, false)
	return l.list(ctx, append(slices.Clip(where), c), all)
}

// resolve lists the traces of project's spans that meet m and start at or after since
// (when not zero); nil when they are more than the store's resolveTraces.
func (l traceLister) resolve(ctx context.Context, project string, m spanMatch, since int64) ([]string, error) {
	args := []any{project}
	arg := binder(&args)
	sql := "SELECT DISTINCT s.trace_id FROM spans s WHERE " + m.sql(arg)
	if since != 0 {
		sql += " AND s.start_ns >= " + arg(since)
	}
	rows, err := l.s.pool.Query(ctx, sql+" LIMIT "+strconv.Itoa(l.s.resolveTraces+1), args...)
	if err != nil {
		return nil, fmt.Errorf("list traces: resolve an attribute filter: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list traces: resolve an attribute filter: %w", err)
	}
	if len(ids) > l.s.resolveTraces {
		return nil, nil
	}
	if ids == nil {
		ids = []string{} // resolved, to nothing
	}
	return ids, nil
}
