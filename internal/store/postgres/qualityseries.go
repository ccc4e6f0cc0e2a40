package postgres

import (
	"context"
	"fmt"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// QualitySeries counts the assessed LLM spans per bucket in one GROUP BY over
// spans_project_start, selecting the spans QualityPoints lists.
func (s *Store) QualitySeries(ctx context.Context, q store.QualitySeriesQuery) ([]store.QualityBucket, error) {
	width, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	const score = `(genai->'quality'->>'score')::float8`
	query := `SELECT (start_ns - $1) / $2, count(*), count(` + score + `), coalesce(sum(` + score + `), 0),
		count(*) FILTER (WHERE ` + score + ` < $3),
		count(*) FILTER (WHERE ` + score + ` IS NOT NULL AND genai->'quality'->>'tier' = $4)
		FROM spans WHERE project_id = $5 AND genai_type = 'llm' AND start_ns >= $1 AND start_ns < $6
		AND genai->'quality' IS NOT NULL
		GROUP BY 1`
	out := q.EmptyBuckets(width)
	rows, err := s.pool.Query(ctx, query, toNS(q.Since), int64(width), q.Low, genai.QualityTier2, clean(q.ProjectID), toNS(q.Until))
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
