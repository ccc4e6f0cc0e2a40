package sqlite

import (
	"context"
	"fmt"

	"github.com/use-lumina/lumina/internal/store"
)

// KeySeries sums one alert key's requests per bucket in one GROUP BY over spans_start.
func (s *Store) KeySeries(ctx context.Context, q store.KeySeriesQuery) ([]store.KeyBucket, error) {
	width, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	query := `SELECT (start_time - ?) / ?, count(*),
		sum(CASE WHEN status_code = 'error' OR (genai_type IN ('llm', 'embedding') AND coalesce(json_extract(genai, '$.error_type'), '') <> '') THEN 1 ELSE 0 END),
		count(cost_usd), coalesce(sum(cost_usd), 0), coalesce(sum(max(end_time - start_time, 0)), 0) / 1e6,
		count(json_extract(genai, '$.quality.score')), coalesce(sum(json_extract(genai, '$.quality.score')), 0)
		FROM spans WHERE project_id = ? AND start_time >= ? AND start_time < ?
		AND (genai_type IN ('llm', 'embedding') OR parent_span_id = '')`
	since := nanos(q.Since)
	args := []any{since, int64(width), q.ProjectID, since, nanos(q.Until)}
	for _, f := range []struct{ col, v string }{{"service_name", q.Service}, {"name", q.Endpoint}, {"model", q.Model}} {
		if f.v != "" {
			query += ` AND ` + f.col + ` = ?`
			args = append(args, f.v)
		}
	}
	if q.Model != "" {
		query += ` AND genai_type IN ('llm', 'embedding')`
	}
	query += ` GROUP BY 1`
	out := q.EmptyBuckets(width)
	rows, err := s.r.QueryContext(ctx, query, args...)
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
