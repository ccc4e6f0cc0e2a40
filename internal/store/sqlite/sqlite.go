// Package sqlite is Lumina's embedded storage backend: one SQLite file in the data directory,
// and beside it a second that holds only the full-text index (indexer.go), opened with the
// pure-Go modernc.org/sqlite driver, so the binary builds with CGO_ENABLED=0.
//
// The layout follows the measurements in reference/performance.md §2.7: spans are a rowid
// table with a unique index on (project_id, trace_id, span_id), never clustered on the random
// trace id; every filter the UI offers is a promoted column; free-form values are JSON text;
// every time is an INTEGER of Unix nanoseconds. Writes go through one connection (SQLite has
// one writer anyway) in WAL mode; reads use a separate pool, so they never wait behind a
// write.
//
// Durability: by default the WAL runs with synchronous=NORMAL, as the embedded queue runs
// without an fsync per write: a commit has reached the operating system when it returns,
// so it survives a crash or SIGKILL of the process, and the WAL is fsynced at each
// checkpoint (off the write path, see checkpoint.go). A power loss can lose the commits
// since the last checkpoint, as it can lose the queue's last writes. WithFullSync makes
// every commit fsync the WAL before it returns (synchronous=FULL), for deployments that
// fsync the queue too (--sync-always); that adds one fsync to every batch's commit, whose
// tail on this machine class is tens of milliseconds (BENCHMARKS.md).
//
// Free-form values (attributes, resources, log bodies) are stored as JSON and come back as
// JSON values: numbers as float64.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"

	"modernc.org/sqlite"

	"github.com/use-lumina/lumina/internal/store"
)

// busyTimeoutMS is how long a connection waits for a lock before failing with SQLITE_BUSY.
// Only other processes opening the same file (and checkpoints) contend here.
const busyTimeoutMS = 10_000

// readConns bounds the read pool; the machine class has two cores.
const readConns = 4

// Store is the SQLite backend of store.Store. It is safe for concurrent use: writes are
// serialized on one connection, reads run in parallel on their own pool, and a background
// goroutine, owned by the Store and stopped by Close, checkpoints the WAL.
type Store struct {
	path   string
	logger *slog.Logger
	w      *sql.DB // exactly one connection: every write transaction
	r      *sql.DB // read-only pool
	stmts  writeStmts
	ckpt   *checkpointer
	ix     *indexer // the full-text index's writer (indexer.go)
	// dequeued is the highest span_text_queue id a write has deleted up to.
	dequeued atomic.Int64
	// textCommon is how many index matches make a text search's terms common (see
	// textProbe); tests lower it to take the probe with little data.
	textCommon int
}

var _ store.Store = (*Store)(nil)

// Open opens (creating when missing) the database file at path, applies any pending
// migrations, prepares the write statements and starts the checkpointer. The caller owns
// the Store and must Close it.
func Open(ctx context.Context, path string, logger *slog.Logger, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open sqlite %q: path must be a non-empty file name without '?'", path)
	}
	s := &Store{path: path, logger: logger, textCommon: textCommonMatches}
	fail := func(err error) (*Store, error) {
		for _, db := range []*sql.DB{s.w, s.r} {
			if db != nil {
				db.Close()
			}
		}
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	var err error
	if s.w, err = openDB(path, roleWriter, o); err != nil {
		return fail(err)
	}
	if err := s.w.PingContext(ctx); err != nil { // sql.Open connects lazily
		return fail(err)
	}
	applied, err := migrate(ctx, s.w)
	if err != nil {
		return fail(err)
	}
	// Refresh planner statistics the way SQLite recommends for a long-lived connection.
	if _, err := s.w.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return fail(err)
	}
	if s.r, err = openDB(path, roleReader, o); err != nil {
		return fail(err)
	}
	// The indexer creates the search database before a reader attaches it.
	if s.ix, err = openIndexer(ctx, path, s.w, s.r, o, logger); err != nil {
		return fail(err)
	}
	if err := s.stmts.prepare(ctx, s.w); err != nil {
		s.stmts.close()
		s.ix.stop()
		return fail(err)
	}
	ckptDB, err := openDB(path, roleCheckpointer, o)
	if err != nil {
		s.stmts.close()
		s.ix.stop()
		return fail(err)
	}
	s.ckpt = startCheckpointer(ckptDB, logger)
	logger.Info("sqlite store opened", "path", path, "migrations_applied", applied, "synchronous", o.synchronous())
	return s, nil
}

// Option changes how Open opens the database.
type Option func(*options)

type options struct {
	fullSync bool
}

// WithFullSync makes every commit fsync the WAL before it returns (synchronous=FULL), so a
// commit survives a power loss; by default it survives a crash of the process.
func WithFullSync() Option { return func(o *options) { o.fullSync = true } }

func (o options) synchronous() string {
	if o.fullSync {
		return "FULL"
	}
	return "NORMAL"
}

// Connection roles.
const (
	roleWriter       = iota // the one write connection
	roleReader              // the read pool
	roleCheckpointer        // the background checkpoint connection
	roleIndexer             // the search database's one connection (indexer.go)
)

// openDB opens a pool for one role. Every connection runs WAL with the synchronous level
// of o (NORMAL by default; see the package comment).
func openDB(path string, role int, o options) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	// 4 KB pages, SQLite's default, measured against 16 KB: bigger pages hold a whole LLM
	// span without an overflow page, but every insert into a key on the random trace id
	// dirties one leaf page, and past a few hundred thousand spans that page is the
	// insert's own. WAL bytes per span at 400k spans: 9 KB with 4 KB pages, 15 KB and
	// rising with 16 KB. page_size only takes effect on a new file, before the switch to
	// WAL; the driver applies _pragma values before the _journal_mode key.
	q.Add("_pragma", "page_size(4096)")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", o.synchronous())
	q.Add("_pragma", "foreign_keys(OFF)")
	q.Add("_pragma", "temp_store(MEMORY)")
	conns := 1
	switch role {
	case roleWriter:
		q.Add("_pragma", "cache_size(-32000)") // 32 MB: the hot index pages of recent traces
		// The writer checkpoints itself only as a backstop, when the WAL reaches 64 MB; the
		// checkpointer normally keeps it far below that, off the write path.
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", backstopPages))
		q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", journalSizeLimit))
		// IMMEDIATE: a write transaction takes the write lock up front, so it never fails
		// upgrading a read lock when another process writes.
		q.Set("_txlock", "immediate")
	case roleReader:
		q.Add("_pragma", "query_only(ON)")
		conns = readConns
	case roleCheckpointer:
		q.Add("_pragma", "wal_autocheckpoint(0)")
	case roleIndexer:
		// The indexer checkpoints its own WAL (SQLite's default, every 1,000 pages): its
		// commits are off the span writes' path.
		q.Add("_pragma", "cache_size(-16000)")
		q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", journalSizeLimit))
		q.Set("_txlock", "immediate")
	}
	c, err := sqlite.NewConnector(path + "?" + q.Encode())
	if err != nil {
		return nil, err
	}
	if role == roleReader {
		c = attachSearch{c, searchPath(path)}
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// attachSearch attaches the search database (indexer.go) as "search" to every connection
// it opens, so the read queries join the index with the spans.
type attachSearch struct {
	driver.Connector
	path string
}

func (a attachSearch) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := a.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.(driver.ExecerContext).ExecContext(ctx, "ATTACH DATABASE ? AS search",
		[]driver.NamedValue{{Ordinal: 1, Value: a.path}}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("attach %q: %w", a.path, err)
	}
	return conn, nil
}

// Ping checks that both the writer and the read pool can reach the file.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite %q: %w", s.path, err)
	}
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite %q: %w", s.path, err)
	}
	return nil
}

// Close stops the indexer and the checkpointer and closes the statements and the pools.
// Calls in flight may fail afterwards.
func (s *Store) Close() error {
	errs := []error{s.ix.stop()}
	if applied := s.ix.appliedID(); applied > s.dequeued.Load() {
		if _, err := s.stmts.dequeueText.Exec(applied); err != nil {
			errs = append(errs, fmt.Errorf("dequeue search text: %w", err))
		}
	}
	errs = append(errs, s.ckpt.stop(), s.stmts.close(), s.r.Close())
	// optimize keeps the planner's statistics fresh for the indexes the queries use.
	if _, err := s.w.Exec("PRAGMA optimize"); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close sqlite %q: %w", s.path, err)
	}
	return nil
}
