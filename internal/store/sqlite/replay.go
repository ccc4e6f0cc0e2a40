package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/use-lumina/lumina/internal/store"
)

var _ store.ReplayStore = (*Store)(nil)

// PutReplaySet implements store.ReplayStore.
func (s *Store) PutReplaySet(ctx context.Context, set store.ReplaySet, items []store.ReplayItem) error {
	if set.ID == "" || set.ProjectID == "" {
		return fmt.Errorf("put replay set %q: a set needs an id and a project", set.ID)
	}
	return s.replayTx(ctx, "put replay set "+set.ID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO replay_sets (project_id, id, created_at, doc) VALUES (?, ?, ?, ?)
			ON CONFLICT (project_id, id) DO UPDATE SET created_at = excluded.created_at, doc = excluded.doc`,
			set.ProjectID, set.ID, nanos(set.CreatedAt), set.Doc); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM replay_items WHERE project_id = ? AND set_id = ?`, set.ProjectID, set.ID); err != nil {
			return err
		}
		for _, it := range items {
			if _, err := tx.ExecContext(ctx, `INSERT INTO replay_items (project_id, set_id, idx, doc) VALUES (?, ?, ?, ?)
				ON CONFLICT (project_id, set_id, idx) DO UPDATE SET doc = excluded.doc`,
				set.ProjectID, set.ID, it.Index, it.Doc); err != nil {
				return err
			}
		}
		return nil
	})
}

// replayTx runs fn in one write transaction, naming op in its errors.
func (s *Store) replayTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// ReplaySet implements store.ReplayStore.
func (s *Store) ReplaySet(ctx context.Context, projectID, id string) (store.ReplaySet, error) {
	set := store.ReplaySet{ProjectID: projectID, ID: id}
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT created_at, doc FROM replay_sets WHERE project_id = ? AND id = ?`,
		projectID, id).Scan(&created, &set.Doc)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ReplaySet{}, fmt.Errorf("replay set %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.ReplaySet{}, fmt.Errorf("read replay set %q: %w", id, err)
	}
	set.CreatedAt = fromNanos(created)
	return set, nil
}

// ReplaySets implements store.ReplayStore.
func (s *Store) ReplaySets(ctx context.Context, projectID string) ([]store.ReplaySet, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, created_at, doc FROM replay_sets WHERE project_id = ?
		ORDER BY created_at DESC, id DESC`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list replay sets of %q: %w", projectID, err)
	}
	defer rows.Close()
	var out []store.ReplaySet
	for rows.Next() {
		set := store.ReplaySet{ProjectID: projectID}
		var created int64
		if err := rows.Scan(&set.ID, &created, &set.Doc); err != nil {
			return nil, fmt.Errorf("list replay sets of %q: %w", projectID, err)
		}
		set.CreatedAt = fromNanos(created)
		out = append(out, set)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list replay sets of %q: %w", projectID, err)
	}
	return out, nil
}

// ReplayItems implements store.ReplayStore.
func (s *Store) ReplayItems(ctx context.Context, projectID, setID string) ([]store.ReplayItem, error) {
	if _, err := s.ReplaySet(ctx, projectID, setID); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT idx, doc FROM replay_items WHERE project_id = ? AND set_id = ? ORDER BY idx`,
		projectID, setID)
	if err != nil {
		return nil, fmt.Errorf("list items of replay set %q: %w", setID, err)
	}
	defer rows.Close()
	var out []store.ReplayItem
	for rows.Next() {
		it := store.ReplayItem{ProjectID: projectID, SetID: setID}
		if err := rows.Scan(&it.Index, &it.Doc); err != nil {
			return nil, fmt.Errorf("list items of replay set %q: %w", setID, err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list items of replay set %q: %w", setID, err)
	}
	return out, nil
}

// DeleteReplaySet implements store.ReplayStore.
func (s *Store) DeleteReplaySet(ctx context.Context, projectID, id string) error {
	return s.replayTx(ctx, "delete replay set "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM replay_sets WHERE project_id = ? AND id = ?`, projectID, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		for _, d := range []struct {
			q    string
			args []any
		}{
			{`DELETE FROM replay_items WHERE project_id = ? AND set_id = ?`, []any{projectID, id}},
			{`DELETE FROM replay_results WHERE project_id = ? AND run_id IN
				(SELECT id FROM replay_runs WHERE project_id = ? AND set_id = ?)`, []any{projectID, projectID, id}},
			{`DELETE FROM replay_runs WHERE project_id = ? AND set_id = ?`, []any{projectID, id}},
		} {
			if _, err := tx.ExecContext(ctx, d.q, d.args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutReplayRun implements store.ReplayStore.
func (s *Store) PutReplayRun(ctx context.Context, r store.ReplayRun) error {
	if r.ID == "" || r.ProjectID == "" || r.SetID == "" {
		return fmt.Errorf("put replay run %q: a run needs an id, a project and a set", r.ID)
	}
	return s.replayTx(ctx, "put replay run "+r.ID, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM replay_sets WHERE project_id = ? AND id = ?`,
			r.ProjectID, r.SetID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("replay set %q: %w", r.SetID, store.ErrNotFound)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO replay_runs (project_id, id, set_id, status, created_at, doc)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, id) DO UPDATE SET
			set_id = excluded.set_id, status = excluded.status, created_at = excluded.created_at, doc = excluded.doc`,
			r.ProjectID, r.ID, r.SetID, r.Status, nanos(r.CreatedAt), r.Doc)
		return err
	})
}

const replayRunColumns = `project_id, id, set_id, status, created_at, doc`

func scanReplayRuns(rows *sql.Rows) ([]store.ReplayRun, error) {
	defer rows.Close()
	var out []store.ReplayRun
	for rows.Next() {
		var r store.ReplayRun
		var created int64
		if err := rows.Scan(&r.ProjectID, &r.ID, &r.SetID, &r.Status, &created, &r.Doc); err != nil {
			return nil, err
		}
		r.CreatedAt = fromNanos(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReplayRun implements store.ReplayStore.
func (s *Store) ReplayRun(ctx context.Context, projectID, id string) (store.ReplayRun, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+replayRunColumns+` FROM replay_runs WHERE project_id = ? AND id = ?`, projectID, id)
	if err != nil {
		return store.ReplayRun{}, fmt.Errorf("read replay run %q: %w", id, err)
	}
	runs, err := scanReplayRuns(rows)
	if err != nil {
		return store.ReplayRun{}, fmt.Errorf("read replay run %q: %w", id, err)
	}
	if len(runs) == 0 {
		return store.ReplayRun{}, fmt.Errorf("replay run %q: %w", id, store.ErrNotFound)
	}
	return runs[0], nil
}

// ReplayRuns implements store.ReplayStore.
func (s *Store) ReplayRuns(ctx context.Context, projectID, setID string) ([]store.ReplayRun, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+replayRunColumns+` FROM replay_runs
		WHERE project_id = ? AND (? = '' OR set_id = ?) ORDER BY created_at DESC, id DESC`, projectID, setID, setID)
	if err != nil {
		return nil, fmt.Errorf("list replay runs of %q: %w", projectID, err)
	}
	runs, err := scanReplayRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("list replay runs of %q: %w", projectID, err)
	}
	return runs, nil
}

// ReplayRunsByStatus implements store.ReplayStore.
func (s *Store) ReplayRunsByStatus(ctx context.Context, statuses ...string) ([]store.ReplayRun, error) {
	if len(statuses) == 0 {
		return nil, nil
	}
	args := make([]any, len(statuses))
	for i, st := range statuses {
		args[i] = st
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+replayRunColumns+` FROM replay_runs
		WHERE status IN (?`+strings.Repeat(", ?", len(statuses)-1)+`) ORDER BY created_at, project_id, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list replay runs by status: %w", err)
	}
	runs, err := scanReplayRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("list replay runs by status: %w", err)
	}
	return runs, nil
}

// PutReplayResult implements store.ReplayStore.
func (s *Store) PutReplayResult(ctx context.Context, r store.ReplayResult) error {
	return s.replayTx(ctx, fmt.Sprintf("put result %d of replay run %s", r.Index, r.RunID), func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM replay_runs WHERE project_id = ? AND id = ?`,
			r.ProjectID, r.RunID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("replay run %q: %w", r.RunID, store.ErrNotFound)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO replay_results (project_id, run_id, idx, doc) VALUES (?, ?, ?, ?)
			ON CONFLICT (project_id, run_id, idx) DO UPDATE SET doc = excluded.doc`, r.ProjectID, r.RunID, r.Index, r.Doc)
		return err
	})
}

// ReplayResults implements store.ReplayStore.
func (s *Store) ReplayResults(ctx context.Context, projectID, runID string) ([]store.ReplayResult, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT idx, doc FROM replay_results WHERE project_id = ? AND run_id = ? ORDER BY idx`,
		projectID, runID)
	if err != nil {
		return nil, fmt.Errorf("list results of replay run %q: %w", runID, err)
	}
	defer rows.Close()
	var out []store.ReplayResult
	for rows.Next() {
		r := store.ReplayResult{ProjectID: projectID, RunID: runID}
		if err := rows.Scan(&r.Index, &r.Doc); err != nil {
			return nil, fmt.Errorf("list results of replay run %q: %w", runID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list results of replay run %q: %w", runID, err)
	}
	return out, nil
}
