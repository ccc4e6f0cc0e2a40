// Package sqlite is Lumina's embedded storage backend: one SQLite file in the data directory,
// opened with the pure-Go modernc.org/sqlite driver, so the binary builds with CGO_ENABLED=0.
//
// The layout follows the measurements in reference/performance.md §2.7: spans are a rowid
// table with a unique index on (project_id, trace_id, span_id), never clustered on the random
// trace id; every filter the UI offers is a promoted column; free-form values are JSON text;
// every time is an INTEGER of Unix nanoseconds. Writes go through one connection (SQLite has
// one writer anyway) in WAL mode with synchronous=NORMAL; reads use a separate pool, so they
// never wait behind a write.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	// The pure-Go driver registers itself as "sqlite".
	_ "modernc.org/sqlite"

	"github.com/use-lumina/lumina/internal/store"
)

// busyTimeoutMS is how long a connection waits for a lock before failing with SQLITE_BUSY.
// Only other processes opening the same file (and checkpoints) contend here.
const busyTimeoutMS = 10_000

// readConns bounds the read pool; the machine class has two cores.
const readConns = 4

// Store is the SQLite backend of store.Store. It is safe for concurrent use: writes are
// serialized on one connection, reads run in parallel on their own pool.
type Store struct {
	path   string
	logger *slog.Logger
	w      *sql.DB // exactly one connection: every write transaction
	r      *sql.DB // read-only pool
	stmts  writeStmts
}

var _ store.Store = (*Store)(nil)

// Open opens (creating when missing) the database file at path, applies any pending
// migrations and prepares the write statements. The caller owns the Store and must Close it.
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open sqlite %q: path must be a non-empty file name without '?'", path)
	}
	w, err := openDB(path, true)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	s := &Store{path: path, logger: logger, w: w}
	applied, err := migrate(ctx, w)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	if s.r, err = openDB(path, false); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	if err := s.stmts.prepare(ctx, w); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	logger.Info("sqlite store opened", "path", path, "migrations_applied", applied)
	return s, nil
}

// openDB opens the writer (one connection, immediate transactions so a write never fails
// upgrading a read lock) or the read pool (query_only connections).
func openDB(path string, writer bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(OFF)")
	q.Add("_pragma", "temp_store(MEMORY)")
	if writer {
		q.Add("_pragma", "cache_size(-32000)") // 32 MB: the hot index pages of recent traces
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(ON)")
	}
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	if writer {
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
	} else {
		db.SetMaxOpenConns(readConns)
		db.SetMaxIdleConns(readConns)
	}
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
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

// Close closes the statements and both pools. Calls in flight may fail afterwards.
func (s *Store) Close() error {
	errs := []error{s.stmts.close()}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
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
