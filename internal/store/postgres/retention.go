package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/use-lumina/lumina/internal/store"
)

// lockJobs is the advisory-lock purpose of periodic jobs; the job's name is hashed in.
const lockJobs = "job:"

// DeleteBefore implements store.Retainer. First, daily span partitions that end at or
// before the oldest cutoff of every project are dropped whole (a catalog change, not a row
// scan); then, per project, batches of expired traces are deleted with their remaining
// spans (in later partitions or the DEFAULT one) and log records, one short transaction per
// batch that skips traces a writer holds locked; then old orphan log records.
func (s *Store) DeleteBefore(ctx context.Context, p store.RetentionPolicy) (store.DeleteStats, error) {
	var total store.DeleteStats
	if oldest, ok := p.OldestCutoff(); ok {
		st, err := s.dropPartitions(ctx, toNS(oldest))
		total = total.Add(st)
		if err != nil {
			return total, err
		}
	}
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
			st, n, err := s.deleteTraces(ctx, project, toNS(cutoff), batch)
			total = total.Add(st)
			if err != nil {
				return total, fmt.Errorf("delete expired traces of project %q: %w", project, err)
			}
			if n < batch {
				break
			}
		}
		for {
			tag, err := s.pool.Exec(ctx, `DELETE FROM logs WHERE (project_id, id) IN (
				SELECT l.project_id, l.id FROM logs l WHERE l.project_id = $1 AND l.time_ns < $2 AND NOT EXISTS (
					SELECT 1 FROM traces t WHERE t.project_id = l.project_id AND t.trace_id = l.trace_id)
				LIMIT $3)`, project, toNS(cutoff), batch)
			if err != nil {
				return total, fmt.Errorf("delete expired log records of project %q: %w", project, err)
			}
			total.Logs += tag.RowsAffected()
			if tag.RowsAffected() > 0 {
				total.Batches++
			}
			if tag.RowsAffected() < int64(batch) {
				break
			}
		}
	}
	return total, nil
}

// dropPartitions drops the daily span partitions whose range ends at or before cutoff.
// Each drop is its own transaction under the partition lock (so it never races a
// partition being created) with a lock timeout: DROP briefly takes an exclusive lock on
// spans, and a drop that cannot get it within the timeout is left for the next run, its
// rows meanwhile deleted with their traces.
func (s *Store) dropPartitions(ctx context.Context, cutoff int64) (store.DeleteStats, error) {
	var st store.DeleteStats
	rows, err := s.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'spans'::regclass AND c.relname LIKE 'spans\_p%' ORDER BY c.relname`)
	if err != nil {
		return st, fmt.Errorf("list span partitions: %w", err)
	}
	type part struct {
		name string
		day  int64
		rows int64
	}
	var expired []part
	for rows.Next() {
		var pt part
		if err := rows.Scan(&pt.name); err != nil {
			rows.Close()
			return st, fmt.Errorf("list span partitions: %w", err)
		}
		day, err := time.Parse("20060102", strings.TrimPrefix(pt.name, "spans_p"))
		if err != nil {
			continue // not one of ours
		}
		pt.day = dayOf(day.UnixNano())
		if (pt.day+1)*dayNS <= cutoff {
			expired = append(expired, pt)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("list span partitions: %w", err)
	}
	for _, pt := range expired {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '5s'"); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, $2)", lockClass, lockKey(s.parts.schema, lockPartitions)); err != nil {
				return err
			}
			ident := pgx.Identifier{pt.name}.Sanitize()
			// Counted for the job's report: one day's rows, once a day.
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+ident).Scan(&pt.rows); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "DROP TABLE "+ident); err != nil {
				return err
			}
			// The day's slots go with its spans, in this transaction: DROP waited for every
			// writer of the partition and blocks new ones until the commit, so none holds or
			// takes these rollup rows meanwhile.
			if _, err := tx.Exec(ctx, "DELETE FROM model_rollup WHERE slot >= $1 AND slot < $2",
				slotOf(pt.day*dayNS), slotOf((pt.day+1)*dayNS)); err != nil {
				return fmt.Errorf("delete model rollup: %w", err)
			}
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return st, fmt.Errorf("drop span partition %s: %w", pt.name, ctx.Err())
			}
			s.logger.Warn("cannot drop expired span partition; its rows are deleted with their traces, the drop is retried next run",
				"partition", pt.name, "err", err)
			continue
		}
		s.parts.forget(pt.day)
		st.Partitions++
		st.Spans += pt.rows
		s.logger.Info("dropped expired span partition", "partition", pt.name, "spans", pt.rows)
	}
	return st, nil
}

// forget drops day from the cache of existing partitions, so a late span of that day
// creates the partition again (to be dropped by the next run) rather than assuming it.
func (p *partitions) forget(day int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.exists, day)
}

// deleteTraces deletes up to batch expired traces of project, with their spans and log
// records, in one transaction, and returns how many traces it selected.
func (s *Store) deleteTraces(ctx context.Context, project string, cutoff int64, batch int) (store.DeleteStats, int, error) {
	var st store.DeleteStats
	n := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		st = store.DeleteStats{}
		rows, err := tx.Query(ctx, `SELECT trace_id, start_ns FROM traces
			WHERE project_id = $1 AND start_ns < $2 ORDER BY start_ns, trace_id LIMIT $3
			FOR UPDATE SKIP LOCKED`, project, cutoff, batch)
		if err != nil {
			return fmt.Errorf("select expired traces: %w", err)
		}
		var ids []string
		minStart := cutoff
		for rows.Next() {
			var (
				id    string
				start int64
			)
			if err := rows.Scan(&id, &start); err != nil {
				rows.Close()
				return fmt.Errorf("select expired traces: %w", err)
			}
			ids = append(ids, id)
			minStart = min(minStart, start)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("select expired traces: %w", err)
		}
		n = len(ids)
		if n == 0 {
			return nil
		}
		tag, err := tx.Exec(ctx, `DELETE FROM logs WHERE project_id = $1 AND trace_id <> '' AND trace_id = ANY($2)`, project, ids)
		if err != nil {
			return fmt.Errorf("delete log records: %w", err)
		}
		st.Logs = tag.RowsAffected()
		// A trace's spans start at or after the trace: the bound prunes older partitions.
		// The rollups lose what is deleted (deleteSpansSQL, deleteTracesSQL), last and in the
		// writers' order, model rollup first: their rows are locked in key order and
		// nothing else is waited for after them.
		if _, err := tx.Exec(ctx, "SET LOCAL extra_float_digits = 1"); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, deleteSpansSQL, project, ids, minStart).Scan(&st.Spans); err != nil {
			return fmt.Errorf("delete spans: %w", err)
		}
		if err := tx.QueryRow(ctx, deleteTracesSQL, project, ids).Scan(&st.Traces); err != nil {
			return fmt.Errorf("delete traces: %w", err)
		}
		st.Batches = 1
		return nil
	})
	if err != nil {
		return store.DeleteStats{}, 0, err
	}
	return st, n, nil
}

// deleteSpansSQL deletes spans of project $1, traces $2, starting at or after $3, subtracts
// the usage of the counted ones from the model rollup (in key order, like every writer; costs
// as float8 text, the decimal rollupDeltas added) and returns how many spans it deleted.
const deleteSpansSQL = `WITH gone AS (
	DELETE FROM spans WHERE project_id = $1 AND trace_id = ANY($2) AND start_ns >= $3
	RETURNING project_id, start_ns, provider, model, counted, input_tokens, output_tokens, total_tokens, cost_usd
), rolled AS (` + rollupInsertSQL + `
	SELECT project_id, ` + slotSQL + `, provider, model, -count(*), -sum(input_tokens), -sum(output_tokens),
		-sum(total_tokens), -coalesce(sum(cost_usd::text::numeric), 0), -count(*) FILTER (WHERE cost_usd IS NULL)
	FROM gone WHERE counted
	GROUP BY 1, 2, 3, 4
	ORDER BY 1, 2, 3, 4` + rollupUpsertSQL + `
	RETURNING 1
)
SELECT count(*) FROM gone`

// deleteTracesSQL deletes traces $2 of project $1, subtracts them from the trace rollup
// and returns how many it deleted.
const deleteTracesSQL = `WITH gone AS (
	DELETE FROM traces WHERE project_id = $1 AND trace_id = ANY($2)
	RETURNING project_id, start_ns, service_name, name, status, total_tokens, cost_usd, unpriced_calls, duration_ns
), rolled AS (
	INSERT INTO trace_rollup AS m (project_id, slot, service_name, name, traces, errors, total_tokens,
		cost_usd, unpriced_calls, duration_ns)
	SELECT project_id, ` + slotSQL + `, service_name, name, -count(*), -count(*) FILTER (WHERE status = 'error'),
		-sum(total_tokens), -coalesce(sum(cost_usd::text::numeric), 0), -sum(unpriced_calls), -sum(duration_ns)
	FROM gone
	GROUP BY 1, 2, 3, 4
	ORDER BY 1, 2, 3, 4` + traceRollupUpsertSQL + `
	RETURNING 1
)
SELECT count(*) FROM gone`

// projects lists every project with traces or log records, one index seek per project.
func (s *Store) projects(ctx context.Context) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, table := range []string{"traces", "logs"} {
		last := ""
		for {
			var p string
			err := s.pool.QueryRow(ctx, "SELECT project_id FROM "+table+
				" WHERE project_id > $1 ORDER BY project_id LIMIT 1", last).Scan(&p)
			if errors.Is(err, pgx.ErrNoRows) {
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

// TryLock takes the PostgreSQL advisory lock of the periodic job name in this schema, on
// a connection of its own that it keeps until release is called, so exactly one process
// (of all those sharing the database) runs the job at a time. It does not wait: ok is false
// when another session holds the lock. If the connection breaks, PostgreSQL releases the
// lock with it.
func (s *Store) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lock job %q: %w", name, err)
	}
	key := lockKey(s.parts.schema, lockJobs+name)
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", lockClass, key).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("lock job %q: %w", name, err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return func() { unlock(conn, key) }, true, nil
}

// unlock releases a job lock and returns its connection; a connection that cannot unlock
// is closed, which releases the lock too.
func unlock(conn *pgxpool.Conn, key int32) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1, $2)", lockClass, key); err != nil {
		_ = conn.Conn().Close(ctx)
	}
	conn.Release()
}
