package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// queueText queues the full-text index's changes for a batch's spans, after their rows are
// written, for the indexer (indexer.go) to apply: every span with text has its document
// put (a redelivered span's or a rewrite's replaces the one it had), and a GenAI span of a
// stored trace without text has its document removed. Spans that are not GenAI calls cost
// nothing (a rewrite of an LLM span as another kind is caught by the span_text_retype
// trigger). The texts are not stored: the rows ask the indexer to take them from the span,
// and the returned handoff, given to the indexer once the transaction commits, spares it
// reading them back.
func (r *rollupWriter) queueText(ctx context.Context, spans []genai.Span, groups []traceGroup, texts []string) (handoff, error) {
	var rows [][4]any
	var h handoff
	for _, g := range groups {
		_, old := r.old[g.key]
		for _, i := range g.spans {
			if s := &spans[i]; texts[i] != "" || old && s.GenAI != nil {
				rows = append(rows, [4]any{s.ProjectID, s.TraceID, s.SpanID, texts[i] == ""})
				h.texts = append(h.texts, texts[i])
			}
		}
	}
	if len(rows) == 0 {
		return handoff{}, nil
	}
	arg, err := r.enc.text(rows)
	if err != nil {
		return handoff{}, fmt.Errorf("encode search text: %w", err)
	}
	res, err := r.st.queueText.ExecContext(ctx, arg)
	if err != nil {
		return handoff{}, fmt.Errorf("queue search text: %w", err)
	}
	// The rows took consecutive ids, in the array's order.
	n, err1 := res.RowsAffected()
	last, err2 := res.LastInsertId()
	if err1 != nil || err2 != nil || n != int64(len(rows)) {
		return handoff{}, nil // the indexer reads the texts from the spans
	}
	h.first = last - n + 1
	return h, nil
}

// waitIndexed waits until the index holds what was queued before it was called (within
// the indexer's bounds, see waitFor), so a search sees the spans stored before it.
func (s *Store) waitIndexed(ctx context.Context) error {
	queued, err := s.queuedID(ctx)
	if err != nil {
		return err
	}
	s.ix.waitFor(ctx, queued)
	return nil
}

// SearchIndexBacklog is how many queued changes the full-text index has not applied.
func (s *Store) SearchIndexBacklog(ctx context.Context) (int64, error) {
	queued, err := s.queuedID(ctx)
	return max(queued-s.ix.appliedID(), 0), err
}

// queuedID is the id of the last row queued for the index.
func (s *Store) queuedID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.r.QueryRowContext(ctx, lastQueuedSQL).Scan(&id); err != nil {
		return 0, fmt.Errorf("read the search queue: %w", err)
	}
	return id, nil
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
