package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync/atomic"
	"time"
)

// WAL sizing. A checkpoint copies the WAL's pages into the database file and fsyncs it;
// done inside a commit it was a tenth of a write's CPU time. The checkpointer does it on
// its own connection instead, passively (it never waits for, or blocks, the writer or the
// readers), about every checkpointBytes written: about one batch of LLM spans, because a
// checkpoint that overlaps a write cannot let the WAL restart from its beginning, and rare
// ones always overlap. The writer's own automatic checkpoint stays as a backstop that
// bounds the WAL; by the time it fires the checkpointer has copied nearly every page, so
// it is cheap.
//
// With synchronous=NORMAL (the default) a commit reaches the disk at the next checkpoint,
// which fsyncs the WAL first, so the checkpointer also runs at least every syncInterval:
// that bounds what a power loss can take from a quiet store to about a second of commits.
// A passive checkpoint with no new WAL frames returns without touching the disk.
const (
	syncInterval     = time.Second
	checkpointBytes  = 4 << 20
	backstopPages    = 16384    // × 4 KB pages = 64 MB of WAL
	journalSizeLimit = 64 << 20 // truncate a WAL that grew past this after a checkpoint
)

// checkpointer runs passive WAL checkpoints in the background.
type checkpointer struct {
	db      *sql.DB
	logger  *slog.Logger
	pending atomic.Int64  // bytes written since the last wake-up
	wake    chan struct{} // capacity 1: wake-ups coalesce
	cancel  context.CancelFunc
	done    chan struct{}
}

func startCheckpointer(db *sql.DB, logger *slog.Logger) *checkpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, logger: logger, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c
}

// wrote records n committed bytes and wakes the checkpointer once enough have piled up.
func (c *checkpointer) wrote(n int64) {
	if c.pending.Add(n) < checkpointBytes {
		return
	}
	c.pending.Store(0)
	select {
	case c.wake <- struct{}{}:
	default: // a checkpoint is already due
	}
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	tick := time.NewTicker(syncInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		case <-tick.C:
		}
		if _, err := c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil && ctx.Err() == nil {
			// The next wake-up or the writer's backstop retries; nothing is lost.
			c.logger.Warn("sqlite checkpoint failed", "err", err)
		}
	}
}

// stop ends the goroutine, waits for it and closes its connection.
func (c *checkpointer) stop() error {
	if c == nil {
		return nil
	}
	c.cancel()
	<-c.done
	return c.db.Close()
}
