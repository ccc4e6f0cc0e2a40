package postgres

import (
	"context"
	"fmt"

	"github.com/use-lumina/lumina/internal/store"
)

// TraceQuality reads the scored LLM spans of the traces through the spans primary key
// (project_id, trace_id, …) of each partition.
func (s *Store) TraceQuality(ctx context.Context, projectID string, traceIDs []string) (map[string]store.TraceQuality, error) {
	if len(traceIDs) > store.MaxTraceQualityIDs {
		return nil, fmt.Errorf("read trace quality: %d traces, at most %d", len(traceIDs), store.MaxTraceQualityIDs)
	}
	out := map[string]store.TraceQuality{}
	if len(traceIDs) == 0 {
		return out, nil
	}
	ids := make([]string, len(traceIDs))
	for i, id := range traceIDs {
		ids[i] = clean(id)
	}
	const score = `(genai->'quality'->>'score')::float8`
	rows, err := s.pool.Query(ctx, `SELECT trace_id, count(*), avg(`+score+`), min(`+score+`)
		FROM spans WHERE project_id = $1 AND trace_id = ANY($2)
		AND genai_type = 'llm' AND `+score+` IS NOT NULL
		GROUP BY trace_id`, clean(projectID), ids)
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
