package sqlite

import (
	"context"
	"fmt"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// QualitySeries counts the assessed LLM spans per bucket in one GROUP BY over spans_start,
// selecting the spans QualityPoints lists.
func (s *Store) QualitySeries(ctx context.Context, q store.QualitySeriesQuery) ([]store.QualityBucket, error) {
	width, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	const score = `json_extract(genai, '$.quality.score')`
	query := `SELECT (start_time - ?) / ?, count(*), count(` + score + `), coalesce(sum(` + score + `), 0),
		sum(CASE WHEN ` + score + ` < ? THEN 1 ELSE 0 END),
		sum(CASE WHEN ` + score + ` IS NOT NULL AND json_extract(genai, '$.quality.tier') = ? THEN 1 ELSE 0 END)
		FROM spans WHERE project_id = ? AND genai_type = 'llm' AND start_time >= ? AND start_time < ?
		AND json_extract(genai, '$.quality') IS NOT NULL
		GROUP BY 1`
	since := nanos(q.Since)
	out := q.EmptyBuckets(width)
	rows, err := s.r.QueryContext(ctx, query, since, int64(width), q.Low, genai.QualityTier2, q.ProjectID, since, nanos(q.Until))
	if err != nil {
		return nil, fmt.Errorf("read quality series: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			i int64
			b store.QualityBucket
		)
		if err := rows.Scan(&i, &b.Assessed, &b.Scored, &b.ScoreSum, &b.Low, &b.Tier2); err != nil {
			return nil, fmt.Errorf("read quality series: %w", err)
		}
		store.PutQualityBucket(out, i, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read quality series: %w", err)
	}
	return out, nil
}
