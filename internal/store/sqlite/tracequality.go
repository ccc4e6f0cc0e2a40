package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/use-lumina/lumina/internal/store"
)

// TraceQuality reads the scored LLM spans of the traces through spans_key.
func (s *Store) TraceQuality(ctx context.Context, projectID string, traceIDs []string) (map[string]store.TraceQuality, error) {
	if len(traceIDs) > store.MaxTraceQualityIDs {
		return nil, fmt.Errorf("read trace quality: %d traces, at most %d", len(traceIDs), store.MaxTraceQualityIDs)
	}
	out := map[string]store.TraceQuality{}
	if len(traceIDs) == 0 {
		return out, nil
	}
	const score = `json_extract(genai, '$.quality.score')`
	args := make([]any, 0, len(traceIDs)+1)
	args = append(args, projectID)
	for _, id := range traceIDs {
		args = append(args, id)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT trace_id, count(*), avg(`+score+`), min(`+score+`)
		FROM spans WHERE project_id = ? AND trace_id IN (?`+strings.Repeat(", ?", len(traceIDs)-1)+`)
		AND genai_type = 'llm' AND `+score+` IS NOT NULL
		GROUP BY trace_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read trace quality: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			q  store.TraceQuality
		)
		if err := rows.Scan(&id, &q.Scored, &q.Mean, &q.Min); err != nil {
			return nil, fmt.Errorf("read trace quality: %w", err)
		}
		out[id] = q
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read trace quality: %w", err)
	}
	return out, nil
}
