// Package postgres is Lumina's production store: store.Store on PostgreSQL (15+) through a
// pgx connection pool.
//
// Spans live in a table range-partitioned by day on their start time (Unix nanoseconds),
// with daily partitions created ahead of time and on demand, and a DEFAULT partition for
// timestamps outside the managed window. Trace rollups live in their own table, recomputed
// under a row lock on every write that touches the trace, so several worker processes can
// write at once. The schema is created and upgraded by embedded, versioned migrations
// (Migrate), which Open also runs.
package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/use-lumina/lumina/internal/store"
)

// Store is a store.Store on PostgreSQL. It is safe for concurrent use, also by several
// processes on one database.
type Store struct {
	pool *pgxpool.Pool
	// async has pool's settings and synchronous_commit off, for the writes on a context
	// marked by store.DeferSync; Sync makes them durable.
	async  *pgxpool.Pool
	logger *slog.Logger
	parts  *partitions
	// resolveTraces: an attribute filter with at most this many traces is resolved to
	// them before the listing (see traceLister.search).
	resolveTraces int
	flushWatch    flushWatch // Sync's
}

var _ store.Store = (*Store)(nil)

// config is what Open fixes and tests vary.
type config struct {
	now func() time.Time
	// pastDays and futureDays bound the days, relative to today, whose partitions a write
	// creates on demand; spans outside land in the DEFAULT partition.
	pastDays, futureDays int
	resolveTraces        int // Store.resolveTraces
}

func defaultConfig() config {
	return config{now: time.Now, pastDays: 31, futureDays: 7, resolveTraces: 10_000}
}

// Open connects to the PostgreSQL database at url (a postgres:// URL or key=value DSN;
// pool settings such as pool_max_conns and runtime parameters such as search_path may be
// given in it), applies pending migrations and creates the span partitions from yesterday to
// three days ahead. Close releases the pool.
func Open(ctx context.Context, url string, logger *slog.Logger) (*Store, error) {
	return open(ctx, url, logger, defaultConfig())
}

func open(ctx context.Context, url string, logger *slog.Logger, cfg config) (*Store, error) {
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse postgres url: %w", err)
	}
	// JIT compilation is for long analytic queries; for the dashboard's it cost more than
	// the query (1 s of compiling for a 50 ms trace list whose rows the planner had
	// overestimated). A jit parameter in the URL wins.
	if _, set := pcfg.ConnConfig.RuntimeParams["jit"]; !set {
		pcfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	acfg := pcfg.Copy()
	acfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("create postgres pool: %w", err)
	}
	async, err := pgxpool.NewWithConfig(ctx, acfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("create postgres pool: %w", err)
	}
	s := &Store{pool: pool, async: async, logger: orDiscard(logger), resolveTraces: cfg.resolveTraces}
	if err := s.start(ctx, cfg); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) start(ctx context.Context, cfg config) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	err = migrate(ctx, conn.Conn(), s.logger)
	conn.Release()
	if err != nil {
		return err
	}
	var schema string
	if err := s.pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("read current schema: %w", err)
	}
	// With synchronous replication configured, a commit the server acknowledges is on the
	// standbys too; the WAL flush Sync waits for is only local, so nothing is deferred.
	var replicated bool
	if err := s.pool.QueryRow(ctx, "SELECT current_setting('synchronous_standby_names') <> ''").Scan(&replicated); err != nil {
		return fmt.Errorf("read synchronous_standby_names: %w", err)
	}
	if replicated {
		s.async.Close()
		s.async = s.pool
	}
	s.parts = newPartitions(schema, cfg, s.logger)
	return s.parts.ensure(ctx, s.pool, nil) // yesterday to three days ahead
}

// orDiscard is logger, or a logger that discards when there is none.
func orDiscard(logger *slog.Logger) *slog.Logger {
	if logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return logger
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close closes the pools, waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	if s.async != s.pool {
		s.async.Close()
	}
	return nil
}
