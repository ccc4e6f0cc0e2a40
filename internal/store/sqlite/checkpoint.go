package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// WAL sizing. A checkpoint copies the WAL's pages into the database file and fsyncs it;
// done inside a commit it was a tenth of a write's CPU time. The checkpointer does it on
// its own connection instead, passively (it never waits for, or blocks, the writer or the
// readers), about every checkpointBytes written.
//
// The WAL restarts from its beginning only after a checkpoint that copied all of it with
// no commit since, and a pass that overlaps commits cannot be that one. So after a pass
// that met a commit, the checkpointer runs up to checkpointPasses more, each once the
// writer is idle: each has only the frames of the commits since the previous one to copy,
// and one that meets no commit lets the next write restart the WAL. With a single pass,
// steady writes grew the WAL to the writer's own automatic checkpoint (the backstop that
// bounds the WAL), which then ran inside a commit and fsynced all the checkpointer had not:
// up to one commit in sixty took 8–68 ms longer (TestAlertLatency at 3,450 spans/s).
//
// Passes wait for an idle writer only so long, and on a machine whose cores are busy elsewhere
// all of them can still meet commits. When that leaves a WAL of forcePages or more, a last
// pass runs with writes held off (TestSteadyWritesRestartTheWAL, under load, reached the
// backstop without it): it copies only what the earlier passes left, well before the
// backstop would copy it all inside a commit.
//
// With synchronous=NORMAL (the default) a commit reaches the disk at the next checkpoint,
// which fsyncs the WAL first, so the checkpointer also runs at least every syncInterval:
// that bounds what a power loss can take from a quiet store to about a second of commits.
// A passive checkpoint with no new WAL frames returns without touching the disk.
const (
	checkpointPasses = 4
	forcePages       = backstopPages / 2
	syncInterval     = time.Second
	checkpointBytes  = 4 << 20
	backstopPages    = 16384    // × 4 KB pages = 64 MB of WAL
	journalSizeLimit = 64 << 20 // truncate a WAL that grew past this after a checkpoint
)

// checkpointer runs passive WAL checkpoints in the background.
type checkpointer struct {
	db      *sql.DB
	gate    sync.RWMutex // Writes hold it shared, a forced pass alone
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
		if err := c.checkpoint(ctx); err != nil && ctx.Err() == nil {
			// The next wake-up or the writer's backstop retries; nothing is lost.
			c.logger.Warn("sqlite checkpoint failed", "err", err)
		}
	}
}

// checkpoint runs passive checkpoints until one has found the WAL fully copied with no
// commit since the previous, or checkpointPasses after the first; then, if the WAL has
// forcePages or more, one more with writes held off.
func (c *checkpointer) checkpoint(ctx context.Context) error {
	last := -1 // the WAL's frames at the previous pass
	for pass := 0; pass <= checkpointPasses; pass++ {
		if pass > 0 && !c.waitIdle(ctx) {
			return nil
		}
		frames, copied, err := c.pass(ctx)
		if err != nil {
			return err
		}
		if copied >= frames && frames == last {
			return nil // no commit since the previous pass, whose copy was complete
		}
		last = frames
	}
	if last < forcePages {
		return nil
	}
	c.gate.Lock()
	defer c.gate.Unlock()
	_, _, err := c.pass(ctx)
	return err
}

// pass runs one passive checkpoint and returns the WAL's frames and how many are copied.
func (c *checkpointer) pass(ctx context.Context) (frames, copied int, err error) {
	var busy int
	err = c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	return frames, copied, err
}

// writing marks a Write in progress until the returned function is called.
func (c *checkpointer) writing() (done func()) {
	c.gate.RLock()
	return c.gate.RUnlock
}

// idle reports whether no Write is in progress.
func (c *checkpointer) idle() bool {
	if !c.gate.TryLock() {
		return false
	}
	c.gate.Unlock()
	return true
}

// Waiting for an idle writer: polled every idlePoll, for at most idleWait, after which the
// pass runs anyway, as the first one does.
const (
	idlePoll = time.Millisecond
	idleWait = 50 * time.Millisecond
)

// waitIdle waits until no Write is in progress, or idleWait has passed; it reports false
// only when ctx ended.
func (c *checkpointer) waitIdle(ctx context.Context) bool {
	t := time.NewTicker(idlePoll)
	defer t.Stop()
	for deadline := time.Now().Add(idleWait); !c.idle() && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return ctx.Err() == nil
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
