package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/store"
)

var _ store.ReplayStore = (*Store)(nil)

// PutReplaySet implements store.ReplayStore.
func (s *Store) PutReplaySet(ctx context.Context, set store.ReplaySet, items []store.ReplayItem) error {
	if set.ID == "" || set.ProjectID == "" {
		return fmt.Errorf("put replay set %q: a set needs an id and a project", set.ID)
	}
	project, id := clean(set.ProjectID), clean(set.ID)
	return s.replayTx(ctx, "put replay set "+id, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO replay_sets (project_id, id, created_ns, doc) VALUES ($1, $2, $3, $4)
			ON CONFLICT (project_id, id) DO UPDATE SET created_ns = EXCLUDED.created_ns, doc = EXCLUDED.doc`,
			project, id, toNS(set.CreatedAt), set.Doc); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM replay_items WHERE project_id = $1 AND set_id = $2`, project, id); err != nil {
			return err
		}
		if len(items) == 0 {
			return nil
		}
		idx := make([]int32, len(items))
		docs := make([][]byte, len(items))
		for i, it := range items {
			idx[i], docs[i] = int32(it.Index), it.Doc
		}
		_, err := tx.Exec(ctx, `INSERT INTO replay_items (project_id, set_id, idx, doc)
			SELECT $1, $2, i, d FROM unnest($3::integer[], $4::bytea[]) AS u(i, d)
			ON CONFLICT (project_id, set_id, idx) DO UPDATE SET doc = EXCLUDED.doc`, project, id, idx, docs)
		return err
	})
}

// replayTx runs fn in one transaction, naming op in its errors.
func (s *Store) replayTx(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	if err := pgx.BeginFunc(ctx, s.pool, fn); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// ReplaySet implements store.ReplayStore.
func (s *Store) ReplaySet(ctx context.Context, projectID, id string) (store.ReplaySet, error) {
	set := store.ReplaySet{ProjectID: projectID, ID: id}
	var created int64
	err := s.pool.QueryRow(ctx, `SELECT created_ns, doc FROM replay_sets WHERE project_id = $1 AND id = $2`,
		clean(projectID), clean(id)).Scan(&created, &set.Doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ReplaySet{}, fmt.Errorf("replay set %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.ReplaySet{}, fmt.Errorf("read replay set %q: %w", id, err)
	}
	set.CreatedAt = fromNS(created)
	return set, nil
}

// ReplaySets implements store.ReplayStore.
func (s *Store) ReplaySets(ctx context.Context, projectID string) ([]store.ReplaySet, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, created_ns, doc FROM replay_sets WHERE project_id = $1
		ORDER BY created_ns DESC, id DESC`, clean(projectID))
	if err != nil {
		return nil, fmt.Errorf("list replay sets of %q: %w", projectID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ReplaySet, error) {
		set := store.ReplaySet{ProjectID: projectID}
		var created int64
		err := r.Scan(&set.ID, &created, &set.Doc)
		set.CreatedAt = fromNS(created)
		return set, err
	})
	if err != nil {
		return nil, fmt.Errorf("list replay sets of %q: %w", projectID, err)
	}
	return out, nil
}

// ReplayItems implements store.ReplayStore.
func (s *Store) ReplayItems(ctx context.Context, projectID, setID string) ([]store.ReplayItem, error) {
	if _, err := s.ReplaySet(ctx, projectID, setID); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT idx, doc FROM replay_items WHERE project_id = $1 AND set_id = $2 ORDER BY idx`,
		clean(projectID), clean(setID))
	if err != nil {
		return nil, fmt.Errorf("list items of replay set %q: %w", setID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ReplayItem, error) {
		it := store.ReplayItem{ProjectID: projectID, SetID: setID}
		var idx int32
		err := r.Scan(&idx, &it.Doc)
		it.Index = int(idx)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("list items of replay set %q: %w", setID, err)
	}
	return out, nil
}

// DeleteReplaySet implements store.ReplayStore.
func (s *Store) DeleteReplaySet(ctx context.Context, projectID, id string) error {
	project, id := clean(projectID), clean(id)
	return s.replayTx(ctx, "delete replay set "+id, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM replay_sets WHERE project_id = $1 AND id = $2`, project, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		for _, q := range []string{
			`DELETE FROM replay_items WHERE project_id = $1 AND set_id = $2`,
			`DELETE FROM replay_results WHERE project_id = $1 AND run_id IN
				(SELECT id FROM replay_runs WHERE project_id = $1 AND set_id = $2)`,
			`DELETE FROM replay_runs WHERE project_id = $1 AND set_id = $2`,
		} {
			if _, err := tx.Exec(ctx, q, project, id); err != nil {
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
	project, id, setID := clean(r.ProjectID), clean(r.ID), clean(r.SetID)
	return s.replayTx(ctx, "put replay run "+id, func(tx pgx.Tx) error {
		// The set row is locked so a concurrent delete of the set cannot orphan the run.
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM replay_sets WHERE project_id = $1 AND id = $2 FOR SHARE`, project, setID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("replay set %q: %w", setID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO replay_runs (project_id, id, set_id, status, created_ns, doc)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, id) DO UPDATE SET
			set_id = EXCLUDED.set_id, status = EXCLUDED.status, created_ns = EXCLUDED.created_ns, doc = EXCLUDED.doc`,
			project, id, setID, clean(r.Status), toNS(r.CreatedAt), r.Doc)
		return err
	})
}

const replayRunColumns = `project_id, id, set_id, status, created_ns, doc`

func collectReplayRuns(rows pgx.Rows) ([]store.ReplayRun, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ReplayRun, error) {
		var r store.ReplayRun
		var created int64
		err := row.Scan(&r.ProjectID, &r.ID, &r.SetID, &r.Status, &created, &r.Doc)
		r.CreatedAt = fromNS(created)
		return r, err
	})
}

// ReplayRun implements store.ReplayStore.
func (s *Store) ReplayRun(ctx context.Context, projectID, id string) (store.ReplayRun, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+replayRunColumns+` FROM replay_runs WHERE project_id = $1 AND id = $2`,
		clean(projectID), clean(id))
	if err != nil {
		return store.ReplayRun{}, fmt.Errorf("read replay run %q: %w", id, err)
	}
	runs, err := collectReplayRuns(rows)
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
	rows, err := s.pool.Query(ctx, `SELECT `+replayRunColumns+` FROM replay_runs
		WHERE project_id = $1 AND ($2 = '' OR set_id = $2) ORDER BY created_ns DESC, id DESC`, clean(projectID), clean(setID))
	if err != nil {
		return nil, fmt.Errorf("list replay runs of %q: %w", projectID, err)
	}
	runs, err := collectReplayRuns(rows)
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
	rows, err := s.pool.Query(ctx, `SELECT `+replayRunColumns+` FROM replay_runs
		WHERE status = ANY($1) ORDER BY created_ns, project_id, id`, statuses)
	if err != nil {
		return nil, fmt.Errorf("list replay runs by status: %w", err)
	}
	runs, err := collectReplayRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("list replay runs by status: %w", err)
	}
	return runs, nil
}

// PutReplayResult implements store.ReplayStore.
func (s *Store) PutReplayResult(ctx context.Context, r store.ReplayResult) error {
	project, runID := clean(r.ProjectID), clean(r.RunID)
	return s.replayTx(ctx, fmt.Sprintf("put result %d of replay run %s", r.Index, runID), func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM replay_runs WHERE project_id = $1 AND id = $2 FOR SHARE`, project, runID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("replay run %q: %w", runID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO replay_results (project_id, run_id, idx, doc) VALUES ($1, $2, $3, $4)
			ON CONFLICT (project_id, run_id, idx) DO UPDATE SET doc = EXCLUDED.doc`, project, runID, r.Index, r.Doc)
		return err
	})
}

// ReplayResults implements store.ReplayStore.
func (s *Store) ReplayResults(ctx context.Context, projectID, runID string) ([]store.ReplayResult, error) {
	rows, err := s.pool.Query(ctx, `SELECT idx, doc FROM replay_results WHERE project_id = $1 AND run_id = $2 ORDER BY idx`,
		clean(projectID), clean(runID))
	if err != nil {
		return nil, fmt.Errorf("list results of replay run %q: %w", runID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ReplayResult, error) {
		r := store.ReplayResult{ProjectID: projectID, RunID: runID}
		var idx int32
		err := row.Scan(&idx, &r.Doc)
		r.Index = int(idx)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list results of replay run %q: %w", runID, err)
	}
	return out, nil
}
