package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/use-lumina/lumina/internal/store"
)

// db is the pool for a write on ctx: on a context marked by store.DeferSync, the one whose
// commits are asynchronous. Such a commit is visible at once and durable once the server's
// WAL writer has flushed it (Sync waits for that): it does not wait for the disk, nor hold
// the rows it locked (the rollup rows every batch updates) while the disk is slow.
func (s *Store) db(ctx context.Context) *pgxpool.Pool {
	if store.SyncDeferred(ctx) {
		return s.async
	}
	return s.pool
}

// flushPoll is how often Sync's waiters read how far the server has flushed its WAL.
const flushPoll = 5 * time.Millisecond

// flushWatch lets concurrent Sync calls share one reader of the server's flushed WAL
// position.
type flushWatch struct {
	mu      sync.Mutex
	flushed uint64 // the last flushed position read
	waiters []flushWaiter
	polling bool
}

type flushWaiter struct {
	target uint64
	done   chan error
}

// Sync makes every deferred write that returned before the call durable (store.Syncer):
// it reads the position where the server inserts WAL now, after those commits' records,
// and waits until the server has flushed its WAL past it. It adds no flush of its own: the
// server's WAL writer flushes asynchronous commits continuously under load and within
// wal_writer_delay (200 ms by default) when quiet, and every synchronous commit flushes
// what came before it.
func (s *Store) Sync(ctx context.Context) error {
	if s.async == s.pool { // nothing was deferred
		return nil
	}
	var lsn string
	if err := s.pool.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&lsn); err != nil {
		return fmt.Errorf("sync postgres commits: %w", err)
	}
	target, err := parseLSN(lsn)
	if err != nil {
		return fmt.Errorf("sync postgres commits: %w", err)
	}
	w := &s.flushWatch
	w.mu.Lock()
	if w.flushed >= target {
		w.mu.Unlock()
		return nil
	}
	done := make(chan error, 1)
	w.waiters = append(w.waiters, flushWaiter{target: target, done: done})
	if !w.polling {
		w.polling = true
		go s.pollFlushed()
	}
	w.mu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pollFlushed reads the flushed WAL position every flushPoll and releases the waiters it
// passed, until none is left; a failed read fails every waiter.
func (s *Store) pollFlushed() {
	w := &s.flushWatch
	t := time.NewTicker(flushPoll)
	defer t.Stop()
	for range t.C {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var lsn string
		err := s.pool.QueryRow(ctx, "SELECT pg_current_wal_flush_lsn()::text").Scan(&lsn)
		cancel()
		var flushed uint64
		if err == nil {
			flushed, err = parseLSN(lsn)
		}
		w.mu.Lock()
		if err == nil {
			w.flushed = max(w.flushed, flushed)
		}
		waiting := w.waiters[:0]
		for _, wt := range w.waiters {
			switch {
			case err != nil:
				wt.done <- fmt.Errorf("sync postgres commits: %w", err)
			case wt.target <= w.flushed:
				wt.done <- nil
			default:
				waiting = append(waiting, wt)
			}
		}
		w.waiters = waiting
		if len(waiting) == 0 {
			w.polling = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
	}
}

// parseLSN parses a pg_lsn's text form, two hexadecimal numbers "X/Y", as a position.
func parseLSN(s string) (uint64, error) {
	var hi, lo uint32
	if _, err := fmt.Sscanf(s, "%X/%X", &hi, &lo); err != nil {
		return 0, fmt.Errorf("parse WAL position %q: %w", s, err)
	}
	return uint64(hi)<<32 | uint64(lo), nil
}
