package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/use-lumina/lumina/internal/store"
)

// Retention statements. Each batch selects up to n expired traces by start time (the
// traces_start index) and deletes everything keyed by them; the trace ids travel as one
// JSON array, as the writer's lookups do.
const (
	expiredTraces = `SELECT trace_id FROM traces WHERE project_id = ? AND start_time < ?
		ORDER BY start_time, trace_id LIMIT ?`
	deleteServiceRows = `DELETE FROM trace_services WHERE (project_id, service_name, start_time, trace_id) IN (
		SELECT t.project_id, j.value, t.start_time, t.trace_id FROM traces t, json_each(t.services) j
		WHERE t.project_id = ? AND t.trace_id IN (SELECT value FROM json_each(?)))`
	deleteModelRows = `DELETE FROM trace_models WHERE (project_id, model, start_time, trace_id) IN (
		SELECT t.project_id, j.value, t.start_time, t.trace_id FROM traces t, json_each(t.models) j
		WHERE t.project_id = ? AND t.trace_id IN (SELECT value FROM json_each(?)))`
	deleteTraceSpans = `DELETE FROM spans WHERE project_id = ? AND trace_id IN (SELECT value FROM json_each(?))`
	deleteTraceLogs  = `DELETE FROM logs WHERE project_id = ? AND trace_id IN (SELECT value FROM json_each(?))`
	deleteTraceRows  = `DELETE FROM traces WHERE project_id = ? AND trace_id IN (SELECT value FROM json_each(?))`
	// Old log records that name no stored trace (no trace id, or a trace never stored).
	deleteOrphanLogs = `DELETE FROM logs WHERE rowid IN (
		SELECT l.rowid FROM logs l WHERE l.project_id = ? AND l.time < ? AND NOT EXISTS (
			SELECT 1 FROM traces t WHERE t.project_id = l.project_id AND t.trace_id = l.trace_id)
		LIMIT ?)`
)

// vacuumChunk is how many free pages one incremental_vacuum step returns to the operating
// system (4 MB of 4 KB pages): each step holds the write lock, so writers wait at most
// one step.
const vacuumChunk = 1024

// DeleteBefore implements store.Retainer: per project, batches of expired traces are deleted
// with their spans, log records and index rows, one write transaction per batch on the
// single writer connection (so ingest writes interleave between batches), then old orphan
// log records. Afterwards, when the file uses incremental auto-vacuum (see Vacuum), the
// freed pages are returned to the operating system in steps; otherwise SQLite reuses them
// for new rows and the file stops growing.
func (s *Store) DeleteBefore(ctx context.Context, p store.RetentionPolicy) (store.DeleteStats, error) {
	var total store.DeleteStats
	projects, err := s.projects(ctx)
	if err != nil {
		return total, err
	}
	batch := p.Batch()
	for _, project := range projects {
		cutoff := p.CutoffFor(project)
		if cutoff.IsZero() {
			continue
		}
		for {
			st, n, err := s.deleteTraces(ctx, project, nanos(cutoff), batch)
			total = total.Add(st)
			if err != nil {
				return total, fmt.Errorf("delete expired traces of project %q: %w", project, err)
			}
			if n < batch {
				break
			}
		}
		for {
			res, err := s.w.ExecContext(ctx, deleteOrphanLogs, project, nanos(cutoff), batch)
			if err != nil {
				return total, fmt.Errorf("delete expired log records of project %q: %w", project, err)
			}
			n, _ := res.RowsAffected()
			total.Logs += n
			if n > 0 {
				total.Batches++
				s.ckpt.wrote(n * 1024)
			}
			if n < int64(batch) {
				break
			}
		}
	}
	freed, err := s.incrementalVacuum(ctx)
	total.ReclaimedBytes = freed
	if err != nil {
		return total, err
	}
	return total, nil
}

// deleteTraces deletes up to batch expired traces of project in one transaction and
// returns how many traces it found.
func (s *Store) deleteTraces(ctx context.Context, project string, cutoff int64, batch int) (store.DeleteStats, int, error) {
	var st store.DeleteStats
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return st, 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, expiredTraces, project, cutoff, batch)
	if err != nil {
		return st, 0, fmt.Errorf("select expired traces: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return st, 0, fmt.Errorf("select expired traces: %w", err)
		}
		ids = append(ids, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return st, 0, fmt.Errorf("select expired traces: %w", err)
	}
	if len(ids) == 0 {
		return st, 0, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return st, 0, fmt.Errorf("encode trace ids: %w", err)
	}
	exec := func(query string) (int64, error) {
		res, err := tx.ExecContext(ctx, query, project, string(list))
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	// Index rows first: they are found through the traces rows.
	for _, q := range []string{deleteServiceRows, deleteModelRows} {
		if _, err := exec(q); err != nil {
			return st, 0, fmt.Errorf("delete index rows: %w", err)
		}
	}
	if st.Spans, err = exec(deleteTraceSpans); err != nil {
		return st, 0, fmt.Errorf("delete spans: %w", err)
	}
	if st.Logs, err = exec(deleteTraceLogs); err != nil {
		return st, 0, fmt.Errorf("delete log records: %w", err)
	}
	if st.Traces, err = exec(deleteTraceRows); err != nil {
		return st, 0, fmt.Errorf("delete traces: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return store.DeleteStats{}, 0, fmt.Errorf("commit: %w", err)
	}
	st.Batches = 1
	s.ckpt.wrote((st.Spans + st.Logs + st.Traces) * 1024)
	return st, len(ids), nil
}

// projects lists every project with traces or log records, seeking the indexes once per
// project rather than scanning them.
func (s *Store) projects(ctx context.Context) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, table := range []string{"traces", "logs"} {
		last := ""
		for {
			var p string
			err := s.r.QueryRowContext(ctx, "SELECT project_id FROM "+table+
				" WHERE project_id > ? ORDER BY project_id LIMIT 1", last).Scan(&p)
			if errors.Is(err, sql.ErrNoRows) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("list projects in %s: %w", table, err)
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
			last = p
		}
	}
	return out, nil
}

// incrementalVacuum returns the free pages to the operating system when the file uses
// incremental auto-vacuum, and reports how many bytes it gave back.
func (s *Store) incrementalVacuum(ctx context.Context) (int64, error) {
	var mode int
	if err := s.w.QueryRowContext(ctx, "PRAGMA auto_vacuum").Scan(&mode); err != nil {
		return 0, fmt.Errorf("read auto_vacuum: %w", err)
	}
	if mode != 2 { // 2 is INCREMENTAL
		return 0, nil
	}
	pageSize, err := s.pragmaInt(ctx, "page_size")
	if err != nil {
		return 0, err
	}
	var freed int64
	for {
		before, err := s.pragmaInt(ctx, "freelist_count")
		if err != nil || before == 0 {
			return freed, err
		}
		if _, err := s.w.ExecContext(ctx, fmt.Sprintf("PRAGMA incremental_vacuum(%d)", vacuumChunk)); err != nil {
			return freed, fmt.Errorf("incremental vacuum: %w", err)
		}
		after, err := s.pragmaInt(ctx, "freelist_count")
		if err != nil {
			return freed, err
		}
		freed += (before - after) * pageSize
		if after >= before {
			return freed, nil
		}
	}
}

func (s *Store) pragmaInt(ctx context.Context, name string) (int64, error) {
	var n int64
	if err := s.w.QueryRowContext(ctx, "PRAGMA "+name).Scan(&n); err != nil {
		return 0, fmt.Errorf("read %s: %w", name, err)
	}
	return n, nil
}

// FreeBytes is the space inside the file that deleted rows left free: SQLite reuses it for
// new rows; Vacuum or incremental vacuum gives it back to the operating system.
func (s *Store) FreeBytes(ctx context.Context) (int64, error) {
	free, err := s.pragmaInt(ctx, "freelist_count")
	if err != nil {
		return 0, err
	}
	pageSize, err := s.pragmaInt(ctx, "page_size")
	if err != nil {
		return 0, err
	}
	return free * pageSize, nil
}

// Vacuum rewrites the whole file without its free pages and switches it to incremental
// auto-vacuum, so that later DeleteBefore calls give freed space back in small steps; then
// it rewrites the search database (indexer.go) the same way, without the switch. It
// holds the write lock for the whole rewrite (measured in docs/limits.md) and needs free
// disk space about the size of the file: run it rarely, e.g. `lumina retention run --vacuum`.
func (s *Store) Vacuum(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, "PRAGMA auto_vacuum = INCREMENTAL"); err != nil {
		return fmt.Errorf("vacuum sqlite %q: set auto_vacuum: %w", s.path, err)
	}
	if _, err := s.w.ExecContext(ctx, "VACUUM"); err != nil {
		return fmt.Errorf("vacuum sqlite %q: %w", s.path, err)
	}
	// The search database's rewrite holds only its own lock: span writes go on.
	if _, err := s.ix.db.ExecContext(ctx, "VACUUM"); err != nil {
		return fmt.Errorf("vacuum sqlite %q: %w", searchPath(s.path), err)
	}
	return nil
}
