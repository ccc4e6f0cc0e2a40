package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// indexText updates the full-text index (span_text) for a batch's spans after their rows
// are written: every span with search text gets its document replaced (INSERT OR REPLACE on
// the span's rowid, so a redelivered span is indexed once and a rewrite with new content
// replaces the old words). A GenAI span without text in a trace that was already stored
// may be a rewrite of a span that had some, so its document is deleted; spans of new
// traces, and spans that are not GenAI calls, cost nothing.
func (r *rollupWriter) indexText(ctx context.Context, spans []genai.Span, groups []traceGroup, texts []string) error {
	var index, unindex [][4]string
	for _, g := range groups {
		_, old := r.old[g.key]
		for _, i := range g.spans {
			s := &spans[i]
			switch {
			case texts[i] != "":
				index = append(index, [4]string{s.ProjectID, s.TraceID, s.SpanID, texts[i]})
			case old && s.GenAI != nil:
				unindex = append(unindex, [4]string{s.ProjectID, s.TraceID, s.SpanID, ""})
			}
		}
	}
	for _, op := range []struct {
		rows [][4]string
		exec func(ctx context.Context, args ...any) error
	}{
		{unindex, func(ctx context.Context, a ...any) error {
			_, err := r.st.unindexText.ExecContext(ctx, a...)
			return err
		}},
		{index, func(ctx context.Context, a ...any) error { _, err := r.st.indexText.ExecContext(ctx, a...); return err }},
	} {
		if len(op.rows) == 0 {
			continue
		}
		arg, err := r.enc.text(op.rows)
		if err != nil {
			return fmt.Errorf("encode search text: %w", err)
		}
		if err := op.exec(ctx, arg); err != nil {
			return fmt.Errorf("index search text: %w", err)
		}
	}
	return nil
}

// textFilter adds the TraceQuery.Text condition: the trace is among those with a span
// whose document matches every term. The subquery does not depend on the trace row, so
// SQLite evaluates it once per listing (an FTS5 lookup of each term's doclist, then the
// matching spans by rowid) and tests each trace's membership in the result.
func textFilter(q store.TraceQuery, cond func(c string, a ...any)) {
	terms := store.ParseSearch(q.Text)
	if len(terms) == 0 {
		return
	}
	cond(`t.trace_id IN (SELECT s.trace_id FROM span_text f CROSS JOIN spans s ON s.rowid = f.rowid
		WHERE span_text MATCH ? AND s.project_id = ?)`, matchExpr(terms), q.ProjectID)
}

// matchExpr is terms as an FTS5 query: each term a quoted phrase (embedded quotes doubled,
// though ParseSearch leaves none), the phrases ANDed by juxtaposition. Quoting makes every
// word a literal token: FTS5 reads no operator, column filter or prefix star inside quotes.
func matchExpr(terms []store.SearchTerm) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(strings.Join(t, " "), `"`, `""`))
		b.WriteByte('"')
	}
	return b.String()
}
