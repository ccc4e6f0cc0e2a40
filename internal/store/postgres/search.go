package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// textProbeTraces is how many traces per row of the page a text search's window holds.
const textProbeTraces = 10

// search lists a page of the traces matching where and the lister's contains conditions
// (with args, of which where uses the first whereArgs) and the text terms.
//
// The text condition finds the spans whose search_text matches in each partition's
// spans_search GIN index, then their traces: a cost that grows with the matching spans
// from the earliest start the condition allows. A common word matches most spans, so for
// the newest-first listing (the dashboard's) search first bounds that start: it reads the
// start time b of the next textProbeTraces×(limit+1) traces under the other filters (from
// the traces_start index) and lists the matching traces that start at or after b, whose
// spans all start at or after b too, so that only the partitions from b on are searched.
// That page is exact whatever b is; it is complete when it is full, or when the window
// held every remaining trace. Otherwise, and for other orders, the condition is bounded by
// the query's Since only.
func (l traceLister) search(ctx context.Context, q store.TraceQuery, terms []store.SearchTerm, where []string, args []any, whereArgs int) (store.TracePage, error) {
	match := tsQuery(terms)
	cond := func(args []any, since int64) ([]any, string) {
		args = append(slices.Clip(args), match)
		c := "trace_id IN (SELECT s.trace_id FROM spans s WHERE s.project_id = $1 AND s.search_text <> ''" +
			" AND to_tsvector('simple'::regconfig, s.search_text) @@ to_tsquery('simple'::regconfig, $" + strconv.Itoa(len(args)) + ")"
		if since != 0 {
			args = append(args, since)
			c += " AND s.start_ns >= $" + strconv.Itoa(len(args))
		}
		return args, c + ")"
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
			return store.TracePage{}, fmt.Errorf("list traces: text search window: %w", err)
		}
		if n == 0 {
			return store.TracePage{Traces: []genai.Trace{}}, nil
		}
		bounded, c := cond(args, max(*b, since))
		bounded = append(bounded, *b)
		page, err := l.list(ctx, append(slices.Clip(where), c, "start_ns >= $"+strconv.Itoa(len(bounded))), bounded)
		if err != nil || page.NextCursor != "" || n < window {
			return page, err
		}
	}
	all, c := cond(args, since)
	return l.list(ctx, append(slices.Clip(where), c), all)
}

// tsQuery is terms as to_tsquery input: each word a quoted lexeme (quotes and backslashes
// escaped, though ParseSearch leaves none), a phrase's words joined by <-> (next to each
// other, in order), the terms joined by &. Quoting makes every word a literal lexeme:
// to_tsquery reads no operator, weight or prefix marker inside quotes.
func tsQuery(terms []store.SearchTerm) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(" & ")
		}
		b.WriteByte('(')
		for j, w := range t {
			if j > 0 {
				b.WriteString(" <-> ")
			}
			b.WriteByte('\'')
			b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(w))
			b.WriteByte('\'')
		}
		b.WriteByte(')')
	}
	return b.String()
}
