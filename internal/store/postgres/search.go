package postgres

import (
	"strings"

	"github.com/use-lumina/lumina/internal/store"
)

// textFilter returns the TraceQuery.Text condition, or "" when the text has no terms: the
// trace is among those with a span whose search_text matches every term. The subquery does
// not depend on the trace row, so it runs once, on each partition's spans_search GIN index
// (the expression and predicate are the index's), from the query's since on: a trace's
// spans start no earlier than the trace. arg binds a value and returns its placeholder.
func textFilter(q store.TraceQuery, arg func(v any) string) string {
	terms := store.ParseSearch(q.Text)
	if len(terms) == 0 {
		return ""
	}
	c := "trace_id IN (SELECT s.trace_id FROM spans s WHERE s.project_id = $1 AND s.search_text <> ''" +
		" AND to_tsvector('simple'::regconfig, s.search_text) @@ to_tsquery('simple'::regconfig, " + arg(tsQuery(terms)) + ")"
	if !q.Since.IsZero() {
		c += " AND s.start_ns >= " + arg(toNS(q.Since))
	}
	return c + ")"
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
