package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

var _ store.JudgeStore = (*Store)(nil)

// EnqueueJudgeJobs implements store.JudgeStore.
func (s *Store) EnqueueJudgeJobs(ctx context.Context, jobs []store.JudgeJob) ([]store.JudgeJob, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("enqueue judge jobs: %w", err)
	}
	defer tx.Rollback()
	var kept []store.JudgeJob
	for _, j := range jobs {
		doc, err := json.Marshal(j)
		if err != nil {
			return nil, fmt.Errorf("enqueue judge job %q: encode: %w", j.ID, err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO judge_jobs (id, project_id, trace_id, status, content_hash, next_attempt, created_at, finished_at, cost_usd, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET project_id = excluded.project_id, trace_id = excluded.trace_id, status = excluded.status,
				content_hash = excluded.content_hash, next_attempt = excluded.next_attempt, created_at = excluded.created_at,
				finished_at = excluded.finished_at, cost_usd = excluded.cost_usd, doc = excluded.doc
			WHERE judge_jobs.content_hash <> excluded.content_hash`,
			j.ID, j.ProjectID, j.TraceID, j.Status, j.ContentHash, nanos(j.NextAttempt), nanos(j.CreatedAt), nanos(j.FinishedAt), j.CostUSD, string(doc))
		if err != nil {
			return nil, fmt.Errorf("enqueue judge job %q: %w", j.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("enqueue judge job %q: %w", j.ID, err)
		} else if n > 0 {
			continue
		}
		rows, err := tx.QueryContext(ctx, `SELECT doc, status, next_attempt FROM judge_jobs WHERE id = ?`, j.ID)
		if err != nil {
			return nil, fmt.Errorf("enqueue judge job %q: %w", j.ID, err)
		}
		got, err := scanJudgeJobs(rows)
		if err != nil {
			return nil, fmt.Errorf("enqueue judge job %q: %w", j.ID, err)
		}
		kept = append(kept, got...)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("enqueue judge jobs: %w", err)
	}
	return kept, nil
}

// scanJudgeJobs decodes rows of (doc, status, next_attempt), the columns winning over the
// document, and closes rows.
func scanJudgeJobs(rows *sql.Rows) ([]store.JudgeJob, error) {
	defer rows.Close()
	var out []store.JudgeJob
	for rows.Next() {
		var (
			doc    string
			status string
			next   int64
		)
		if err := rows.Scan(&doc, &status, &next); err != nil {
			return nil, err
		}
		var j store.JudgeJob
		if err := json.Unmarshal([]byte(doc), &j); err != nil {
			return nil, fmt.Errorf("decode judge job: %w", err)
		}
		j.Status, j.NextAttempt = status, fromNanos(next)
		out = append(out, j)
	}
	return out, rows.Err()
}

// ClaimJudgeJobs implements store.JudgeStore. SQLite has one writer, so the UPDATE is the
// claim: no other process can take the same rows in between.
func (s *Store) ClaimJudgeJobs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.JudgeJob, error) {
	rows, err := s.w.QueryContext(ctx, `UPDATE judge_jobs SET status = 'running', next_attempt = ?
		WHERE id IN (SELECT id FROM judge_jobs WHERE status IN ('pending', 'running') AND next_attempt <= ?
			ORDER BY next_attempt, id LIMIT ?)
		RETURNING doc, status, next_attempt`, nanos(now.Add(lease)), nanos(now), max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("claim judge jobs: %w", err)
	}
	out, err := scanJudgeJobs(rows)
	if err != nil {
		return nil, fmt.Errorf("claim judge jobs: %w", err)
	}
	slices.SortFunc(out, func(a, b store.JudgeJob) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// UpdateJudgeJob implements store.JudgeStore.
func (s *Store) UpdateJudgeJob(ctx context.Context, j store.JudgeJob) error {
	doc, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("update judge job %q: encode: %w", j.ID, err)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE judge_jobs SET status = ?, content_hash = ?, next_attempt = ?, finished_at = ?, cost_usd = ?, doc = ?
		WHERE id = ?`, j.Status, j.ContentHash, nanos(j.NextAttempt), nanos(j.FinishedAt), j.CostUSD, string(doc), j.ID)
	if err != nil {
		return fmt.Errorf("update judge job %q: %w", j.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("update judge job %q: %w", j.ID, store.ErrNotFound)
	}
	return nil
}

// JudgeJobs implements store.JudgeStore.
func (s *Store) JudgeJobs(ctx context.Context, q store.JudgeJobQuery) ([]store.JudgeJob, error) {
	query := `SELECT doc, status, next_attempt FROM judge_jobs WHERE project_id = ?`
	args := []any{q.ProjectID}
	if q.Status != "" {
		query += ` AND status = ?`
		args = append(args, q.Status)
	}
	if q.TraceID != "" {
		query += ` AND trace_id = ?`
		args = append(args, q.TraceID)
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, judgeLimit(q.Limit))
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list judge jobs: %w", err)
	}
	out, err := scanJudgeJobs(rows)
	if err != nil {
		return nil, fmt.Errorf("list judge jobs: %w", err)
	}
	return out, nil
}

func judgeLimit(n int) int {
	if n <= 0 {
		return 100
	}
	return min(n, 1000)
}

// JudgeJobCounts implements store.JudgeStore.
func (s *Store) JudgeJobCounts(ctx context.Context, projectID string) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT status, count(*) FROM judge_jobs WHERE project_id = ? GROUP BY status`, projectID)
	if err != nil {
		return nil, fmt.Errorf("count judge jobs: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count judge jobs: %w", err)
		}
		out[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count judge jobs: %w", err)
	}
	return out, nil
}

// DeleteJudgeJobs implements store.JudgeStore.
func (s *Store) DeleteJudgeJobs(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM judge_jobs WHERE finished_at > 0 AND finished_at < ?`, nanos(before))
	if err != nil {
		return 0, fmt.Errorf("delete finished judge jobs: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete finished judge jobs: %w", err)
	}
	return n, nil
}

// JudgeSpend implements store.JudgeStore.
func (s *Store) JudgeSpend(ctx context.Context, projectID string, since time.Time) (float64, error) {
	var sum float64
	if err := s.r.QueryRowContext(ctx, `SELECT coalesce(sum(cost_usd), 0) FROM judge_jobs WHERE project_id = ? AND finished_at >= ? AND finished_at > 0`,
		projectID, nanos(since)).Scan(&sum); err != nil {
		return 0, fmt.Errorf("sum judge spend of project %q: %w", projectID, err)
	}
	return sum, nil
}

// UpdateSpanQuality implements store.JudgeStore.
func (s *Store) UpdateSpanQuality(ctx context.Context, projectID, traceID, spanID string, q genai.Quality) error {
	doc, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("update quality of span %s/%s: encode: %w", traceID, spanID, err)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE spans SET genai = json_set(genai, '$.quality', json(?))
		WHERE project_id = ? AND trace_id = ? AND span_id = ? AND genai IS NOT NULL`, string(doc), projectID, traceID, spanID)
	if err != nil {
		return fmt.Errorf("update quality of span %s/%s: %w", traceID, spanID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("update quality of span %s/%s: %w", traceID, spanID, store.ErrNotFound)
	}
	return nil
}

// QualityPoints implements store.JudgeStore.
func (s *Store) QualityPoints(ctx context.Context, q store.QualityQuery) ([]store.QualityPoint, error) {
	const endpoint = `coalesce(json_extract(genai, '$.quality.endpoint'), service_name || ' / ' || name)`
	query := `SELECT start_time, ` + endpoint + `, coalesce(json_extract(genai, '$.quality.tier'), ''),
		coalesce(json_extract(genai, '$.quality.method'), ''), json_extract(genai, '$.quality.score'),
		coalesce(json_extract(genai, '$.quality.judge.status'), ''), json_extract(genai, '$.quality.judge.cost_usd')
		FROM spans WHERE project_id = ? AND genai_type = 'llm' AND start_time >= ? AND start_time < ?
		AND json_extract(genai, '$.quality') IS NOT NULL`
	args := []any{q.ProjectID, nanos(q.Since), nanos(q.Until)}
	if q.Endpoint != "" {
		query += ` AND ` + endpoint + ` = ?`
		args = append(args, q.Endpoint)
	}
	query += ` ORDER BY start_time, trace_id, span_id LIMIT ?`
	args = append(args, qualityLimit(q.Limit))
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list quality points: %w", err)
	}
	defer rows.Close()
	out := []store.QualityPoint{}
	for rows.Next() {
		var (
			p           store.QualityPoint
			start       int64
			score, cost sql.NullFloat64
		)
		if err := rows.Scan(&start, &p.Endpoint, &p.Tier, &p.Method, &score, &p.JudgeStatus, &cost); err != nil {
			return nil, fmt.Errorf("list quality points: %w", err)
		}
		p.StartTime = fromNanos(start)
		if score.Valid {
			p.Score = &score.Float64
		}
		if cost.Valid {
			p.JudgeCostUSD = &cost.Float64
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("list quality points: %w", err)
	}
	return out, nil
}

func qualityLimit(n int) int {
	if n <= 0 {
		return 100_000
	}
	return n
}
