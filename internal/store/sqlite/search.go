package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// indexText updates the full-text index (span_text) for a batch's spans after their rows
// are written. Spans of new traces are new: their documents are inserted. Spans of stored
// traces may be rewrites: their documents replace any they had (INSERT OR REPLACE on the
// span's rowid, which upserts keep, so a redelivered span is indexed once and a rewrite
// with new content replaces the old words), and a GenAI span of a stored trace without
// text has its document deleted. Spans that are not GenAI calls cost nothing (a rewrite of
// an LLM span as another kind is caught by the span_text_retype trigger).
func (r *rollupWriter) indexText(ctx context.Context, spans []genai.Span, groups []traceGroup, texts []string) error {
	var index, reindex, unindex [][4]string
	for _, g := range groups {
		_, old := r.old[g.key]
		for _, i := range g.spans {
			s := &spans[i]
			switch {
			case texts[i] != "" && !old:
				index = append(index, [4]string{s.ProjectID, s.TraceID, s.SpanID, texts[i]})
			case texts[i] != "":
				reindex = append(reindex, [4]string{s.ProjectID, s.TraceID, s.SpanID, texts[i]})
			case old && s.GenAI != nil:
				unindex = append(unindex, [4]string{s.ProjectID, s.TraceID, s.SpanID, ""})
			}
		}
	}
	for _, op := range []struct {
		rows [][4]string
		stmt *sql.Stmt
	}{{unindex, r.st.unindexText}, {reindex, r.st.reindexText}, {index, r.st.indexText}} {
		if len(op.rows) == 0 {
			continue
		}
		arg, err := r.enc.text(op.rows)
		if err != nil {
			return fmt.Errorf("encode search text: %w", err)
		}
		if _, err := op.stmt.ExecContext(ctx, arg); err != nil {
			return fmt.Errorf("index search text: %w", err)
		}
	}
	return nil
}

// A text search (TraceQuery.Text) lists traces with a span whose document matches every
// term, in one of two ways, chosen by how many documents match (textCommon, which reads
// only the index, counting up to textCommonMatches).
//
// Rare terms: textMatches reads all the matches once (each term's doclist, then the
// matching spans by rowid) and the listing tests each trace's membership in them, a cost
// that grows with the matches.
//
// Common terms match most traces, so reading every match would cost more than the page
// needs: the listing first probes a window of the next textProbeTraces traces per row of
// the page (w, in listing order). textProbe takes their LLM spans (ws, through spans_key)
// and reads the matches only within the window's rowid range, which for the newest
// traces is the end of the index. When the window holds a page of matches the page is
// exact, as every earlier trace was tested; otherwise textMatches lists them.
const (
	textProbe = `, ws AS MATERIALIZED (SELECT s.rowid AS r, s.trace_id AS trace_id
			FROM w CROSS JOIN spans s ON s.project_id = w.project_id AND s.trace_id = w.trace_id
			WHERE s.genai_type = 'llm'),
		hit AS (SELECT ws.trace_id FROM span_text f CROSS JOIN ws ON ws.r = f.rowid
			WHERE span_text MATCH ? AND f.rowid BETWEEN (SELECT min(r) FROM ws) AND (SELECT max(r) FROM ws))
		SELECT w.* FROM w WHERE w.trace_id IN (SELECT trace_id FROM hit)`
	textMatches = `t.trace_id IN (SELECT s.trace_id FROM span_text f CROSS JOIN spans s ON s.rowid = f.rowid
		WHERE span_text MATCH ? AND s.project_id = ?)`
	textProbeTraces = 10
	textCommon      = `SELECT count(*) FROM (SELECT 1 FROM span_text WHERE span_text MATCH ? LIMIT ?)`
	// textCommonMatches is where reading every match (about 2.5 µs each) costs more than a
	// probe of 500 traces (about 8 ms).
	textCommonMatches = 4096
)

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
