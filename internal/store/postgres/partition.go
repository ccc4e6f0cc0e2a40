package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// dayNS is one day in nanoseconds, the width of a span partition.
const dayNS = int64(24 * time.Hour)

// partitionRetry is how long a day whose partition could not be created waits before the
// next attempt; its spans meanwhile land in the DEFAULT partition.
const partitionRetry = time.Minute

// dayOf is the day number (days since the Unix epoch, floored) of a Unix-nanosecond time.
func dayOf(ns int64) int64 {
	d := ns / dayNS
	if ns%dayNS < 0 {
		d--
	}
	return d
}

// partitionName names the partition of day d: spans_pYYYYMMDD.
func partitionName(d int64) string {
	return "spans_p" + time.Unix(d*86400, 0).UTC().Format("20060102")
}

// partitions creates the daily span partitions, once per day and process; across processes
// an advisory lock and an existence check make creation idempotent.
type partitions struct {
	schema string
	cfg    config
	logger *slog.Logger

	mu     sync.Mutex // held while creating, so one goroutine per process creates
	exists map[int64]bool
	failed map[int64]time.Time // day → when creation may be tried again
}

func newPartitions(schema string, cfg config, logger *slog.Logger) *partitions {
	return &partitions{
		schema: schema, cfg: cfg, logger: logger,
		exists: map[int64]bool{}, failed: map[int64]time.Time{},
	}
}

// ensure creates the partitions of days that fall inside the managed window and do not
// exist yet, and those of yesterday to three days ahead, so a long-running process keeps
// creating them ahead of time. A partition that cannot be created is logged and retried
// later, not returned: its spans go to the DEFAULT partition meanwhile. Only a done ctx is
// an error.
func (p *partitions) ensure(ctx context.Context, pool *pgxpool.Pool, days []int64) error {
	now := p.cfg.now()
	today := dayOf(now.UnixNano())
	days = append(days, today-1, today, today+1, today+2, today+3)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, d := range days {
		if p.exists[d] || d < today-int64(p.cfg.pastDays) || d > today+int64(p.cfg.futureDays) {
			continue
		}
		if retry, ok := p.failed[d]; ok && now.Before(retry) {
			continue
		}
		err := p.create(ctx, pool, d)
		if err == nil {
			p.exists[d] = true
			delete(p.failed, d)
			continue
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("create span partition %s: %w", partitionName(d), ctxErr)
		}
		p.failed[d] = now.Add(partitionRetry)
		p.logger.Warn("cannot create span partition; its spans go to the default partition",
			"partition", partitionName(d), "schema", p.schema, "err", err)
	}
	return nil
}

// create makes the partition of day d if no process has: a plain table attached to spans
// (ATTACH takes a weaker lock on spans than CREATE TABLE … PARTITION OF), after moving in
// any rows of that day that the DEFAULT partition caught before it existed.
func (p *partitions) create(ctx context.Context, pool *pgxpool.Pool, d int64) error {
	name := partitionName(d)
	ident := pgx.Identifier{name}.Sanitize()
	lo, hi := d*dayNS, (d+1)*dayNS
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '5s'"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, $2)", lockClass, lockKey(p.schema, lockPartitions)); err != nil {
			return err
		}
		var found bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_inherits i
			JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = 'spans'::regclass AND c.relname = $1)`, name).Scan(&found)
		if err != nil || found {
			return err
		}
		for _, q := range []string{
			// Parent first, then the default partition: the order ATTACH locks them in.
			"LOCK TABLE spans IN SHARE UPDATE EXCLUSIVE MODE",
			"LOCK TABLE spans_default IN ACCESS EXCLUSIVE MODE",
			"CREATE TABLE " + ident + " (LIKE spans INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)",
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		moved, err := tx.Exec(ctx, `WITH moved AS (
			DELETE FROM spans_default WHERE start_ns >= $1 AND start_ns < $2 RETURNING *)
			INSERT INTO `+ident+` SELECT * FROM moved`, lo, hi)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE spans ATTACH PARTITION %s FOR VALUES FROM (%d) TO (%d)", ident, lo, hi)); err != nil {
			return err
		}
		p.logger.Info("created span partition", "partition", name, "schema", p.schema, "moved_from_default", moved.RowsAffected())
		return nil
	})
}

// spanDays lists the distinct days of the given start times, in order.
func spanDays(starts []int64) []int64 {
	var days []int64
	for _, ns := range starts {
		if d := dayOf(ns); !slices.Contains(days, d) {
			days = append(days, d)
		}
	}
	slices.Sort(days)
	return days
}
