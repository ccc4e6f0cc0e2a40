package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

var _ store.JudgeStore = (*Store)(nil)

// EnqueueJudgeJobs implements store.JudgeStore.
func (s *Store) EnqueueJudgeJobs(ctx context.Context, jobs []store.JudgeJob) ([]store.JudgeJob, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	var kept []store.JudgeJob
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		for _, j := range jobs {
			doc, err := docJSON(j)
			if err != nil {
				return fmt.Errorf("job %q: %w", j.ID, err)
			}
			tag, err := tx.Exec(ctx, `INSERT INTO judge_jobs (id, project_id, trace_id, status, content_hash, next_attempt_ns, created_ns, finished_ns, cost_usd, doc)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (id) DO UPDATE SET project_id = excluded.project_id, trace_id = excluded.trace_id, status = excluded.status,
					content_hash = excluded.content_hash, next_attempt_ns = excluded.next_attempt_ns, created_ns = excluded.created_ns,
					finished_ns = excluded.finished_ns, cost_usd = excluded.cost_usd, doc = excluded.doc
				WHERE judge_jobs.content_hash <> excluded.content_hash`,
				clean(j.ID), clean(j.ProjectID), clean(j.TraceID), clean(j.Status), clean(j.ContentHash),
				alertNS(j.NextAttempt), alertNS(j.CreatedAt), alertNS(j.FinishedAt), j.CostUSD, doc)
			if err != nil {
				return fmt.Errorf("job %q: %w", j.ID, err)
			}
			if tag.RowsAffected() > 0 {
				continue
			}
			rows, err := tx.Query(ctx, `SELECT doc, status, next_attempt_ns FROM judge_jobs WHERE id = $1`, clean(j.ID))
			if err != nil {
				return fmt.Errorf("job %q: %w", j.ID, err)
			}
			got, err := collectJudgeJobs(rows)
			if err != nil {
				return fmt.Errorf("job %q: %w", j.ID, err)
			}
			kept = append(kept, got...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("enqueue judge jobs: %w", err)
	}
	return kept, nil
}

// collectJudgeJobs decodes rows of (doc, status, next_attempt_ns), the columns winning
// over the document.
func collectJudgeJobs(rows pgx.Rows) ([]store.JudgeJob, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.JudgeJob, error) {
		var (
			doc    []byte
			status string
			next   int64
			j      store.JudgeJob
		)
		if err := r.Scan(&doc, &status, &next); err != nil {
			return j, err
		}
		if err := json.Unmarshal(doc, &j); err != nil {
			return j, fmt.Errorf("decode judge job: %w", err)
		}
		j.Status, j.NextAttempt = status, alertTime(next)
		return j, nil
	})
}

// ClaimJudgeJobs implements store.JudgeStore; SKIP LOCKED lets runners in several
// processes claim at once without waiting for each other or taking the same job.
func (s *Store) ClaimJudgeJobs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.JudgeJob, error) {
	rows, err := s.pool.Query(ctx, `UPDATE judge_jobs j SET status = 'running', next_attempt_ns = $1
		FROM (SELECT id FROM judge_jobs WHERE status IN ('pending', 'running') AND next_attempt_ns <= $2
			ORDER BY next_attempt_ns, id LIMIT $3 FOR UPDATE SKIP LOCKED) c
		WHERE j.id = c.id RETURNING j.doc, j.status, j.next_attempt_ns`, alertNS(now.Add(lease)), alertNS(now), max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("claim judge jobs: %w", err)
	}
	out, err := collectJudgeJobs(rows)
	if err != nil {
		return nil, fmt.Errorf("claim judge jobs: %w", err)
	}
	slices.SortFunc(out, func(a, b store.JudgeJob) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// UpdateJudgeJob implements store.JudgeStore.
func (s *Store) UpdateJudgeJob(ctx context.Context, j store.JudgeJob) error {
	doc, err := docJSON(j)
	if err != nil {
		return fmt.Errorf("update judge job %q: %w", j.ID, err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE judge_jobs SET status = $1, content_hash = $2, next_attempt_ns = $3, finished_ns = $4, cost_usd = $5, doc = $6
		WHERE id = $7`, clean(j.Status), clean(j.ContentHash), alertNS(j.NextAttempt), alertNS(j.FinishedAt), j.CostUSD, doc, clean(j.ID))
	if err != nil {
		return fmt.Errorf("update judge job %q: %w", j.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("update judge job %q: %w", j.ID, store.ErrNotFound)
	}
	return nil
}

// JudgeJobs implements store.JudgeStore.
func (s *Store) JudgeJobs(ctx context.Context, q store.JudgeJobQuery) ([]store.JudgeJob, error) {
	query := `SELECT doc, status, next_attempt_ns FROM judge_jobs WHERE project_id = $1`
	args := []any{clean(q.ProjectID)}
	if q.Status != "" {
		args = append(args, clean(q.Status))
		query += ` AND status = $` + strconv.Itoa(len(args))
	}
	if q.TraceID != "" {
		args = append(args, clean(q.TraceID))
		query += ` AND trace_id = $` + strconv.Itoa(len(args))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, min(limit, 1000))
	query += ` ORDER BY created_ns DESC, id DESC LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list judge jobs: %w", err)
	}
	out, err := collectJudgeJobs(rows)
	if err != nil {
		return nil, fmt.Errorf("list judge jobs: %w", err)
	}
	return out, nil
}

// JudgeJobCounts implements store.JudgeStore.
func (s *Store) JudgeJobCounts(ctx context.Context, projectID string) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM judge_jobs WHERE project_id = $1 GROUP BY status`, clean(projectID))
	if err != nil {
		return nil, fmt.Errorf("count judge jobs: %w", err)
	}
	out := map[string]int64{}
	var (
		st string
		n  int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&st, &n}, func() error { out[st] = n; return nil }); err != nil {
		return nil, fmt.Errorf("count judge jobs: %w", err)
	}
	return out, nil
}

// DeleteJudgeJobs implements store.JudgeStore.
func (s *Store) DeleteJudgeJobs(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM judge_jobs WHERE finished_ns > 0 AND finished_ns < $1`, alertNS(before))
	if err != nil {
		return 0, fmt.Errorf("delete finished judge jobs: %w", err)
	}
	return tag.RowsAffected(), nil
}

// JudgeSpend implements store.JudgeStore.
func (s *Store) JudgeSpend(ctx context.Context, projectID string, since time.Time) (float64, error) {
	var sum float64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(cost_usd), 0) FROM judge_jobs WHERE project_id = $1 AND finished_ns >= $2 AND finished_ns > 0`,
		clean(projectID), alertNS(since)).Scan(&sum); err != nil {
		return 0, fmt.Errorf("sum judge spend of project %q: %w", projectID, err)
	}
	return sum, nil
}

// UpdateSpanQuality implements store.JudgeStore. The span's partition is not known, so
// every partition's primary key is probed; a verdict is written once per judged span.
func (s *Store) UpdateSpanQuality(ctx context.Context, projectID, traceID, spanID string, q genai.Quality) error {
	doc, err := docJSON(q)
	if err != nil {
		return fmt.Errorf("update quality of span %s/%s: %w", traceID, spanID, err)
	}
	tag, err := s.db(ctx).Exec(ctx, `UPDATE spans SET genai = jsonb_set(genai::jsonb, '{quality}', $4::jsonb)::json
		WHERE project_id = $1 AND trace_id = $2 AND span_id = $3 AND genai IS NOT NULL`, clean(projectID), clean(traceID), clean(spanID), doc)
	if err != nil {
		return fmt.Errorf("update quality of span %s/%s: %w", traceID, spanID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("update quality of span %s/%s: %w", traceID, spanID, store.ErrNotFound)
	}
	return nil
}

// QualityPoints implements store.JudgeStore.
func (s *Store) QualityPoints(ctx context.Context, q store.QualityQuery) ([]store.QualityPoint, error) {
	const endpoint = `coalesce(genai->'quality'->>'endpoint', service_name || ' / ' || name)`
	query := `SELECT start_ns, ` + endpoint + `, coalesce(genai->'quality'->>'tier', ''), coalesce(genai->'quality'->>'method', ''),
		(genai->'quality'->>'score')::float8, coalesce(genai->'quality'->'judge'->>'status', ''),
		(genai->'quality'->'judge'->>'cost_usd')::float8
		FROM spans WHERE project_id = $1 AND genai_type = 'llm' AND start_ns >= $2 AND start_ns < $3
		AND genai->'quality' IS NOT NULL`
	args := []any{clean(q.ProjectID), toNS(q.Since), toNS(q.Until)}
	if q.Endpoint != "" {
		args = append(args, clean(q.Endpoint))
		query += ` AND ` + endpoint + ` = $4`
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100_000
	}
	args = append(args, limit)
	query += ` ORDER BY start_ns, trace_id, span_id LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list quality points: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.QualityPoint, error) {
		var (
			p     store.QualityPoint
			start int64
		)
		err := r.Scan(&start, &p.Endpoint, &p.Tier, &p.Method, &p.Score, &p.JudgeStatus, &p.JudgeCostUSD)
		p.StartTime = fromNS(start)
		return p, err
	})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("list quality points: %w", err)
	}
	if out == nil {
		out = []store.QualityPoint{}
	}
	return out, nil
}
