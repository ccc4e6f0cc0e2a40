package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/use-lumina/lumina/internal/store"
)

// KeySeries sums one alert key's requests per bucket in one GROUP BY over
// spans_project_start.
func (s *Store) KeySeries(ctx context.Context, q store.KeySeriesQuery) ([]store.KeyBucket, error) {
	width, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	const score = `(genai->'quality'->>'score')::float8`
	query := `SELECT (start_ns - $1) / $2, count(*),
		count(*) FILTER (WHERE status_code = 'error' OR (genai_type IN ('llm', 'embedding') AND coalesce(genai->>'error_type', '') <> '')),
		count(cost_usd), coalesce(sum(cost_usd), 0), coalesce(sum(greatest(end_ns - start_ns, 0)), 0)::float8 / 1e6,
		count(` + score + `), coalesce(sum(` + score + `), 0)
		FROM spans WHERE project_id = $3 AND start_ns >= $1 AND start_ns < $4
		AND (genai_type IN ('llm', 'embedding') OR parent_span_id = '')`
	since := toNS(q.Since)
	args := []any{since, int64(width), clean(q.ProjectID), toNS(q.Until)}
	for _, f := range []struct{ col, v string }{{"service_name", q.Service}, {"name", q.Endpoint}, {"model", q.Model}} {
		if f.v != "" {
			args = append(args, clean(f.v))
			query += ` AND ` + f.col + ` = $` + strconv.Itoa(len(args))
		}
	}
	if q.Model != "" {
		query += ` AND genai_type IN ('llm', 'embedding')`
	}
	query += ` GROUP BY 1`
	out := q.EmptyBuckets(width)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read key series: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			i int64
			b store.KeyBucket
		)
		if err := rows.Scan(&i, &b.Requests, &b.Errors, &b.Priced, &b.CostUSD, &b.LatencyMS, &b.Scored, &b.QualitySum); err != nil {
			return nil, fmt.Errorf("read key series: %w", err)
		}
		store.PutBucket(out, i, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read key series: %w", err)
	}
	return out, nil
}
