package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// lockClass is the first key of every advisory lock Lumina takes in PostgreSQL (the
// two-int4 key space, which never overlaps the single-bigint one); the second key says what
// is locked, hashed with the schema so isolated schemas do not wait for each other.
const lockClass = 0x4c756d /* "Lum" */

// Advisory lock purposes, hashed into the second key.
const (
	lockMigrate    = "migrate"
	lockPartitions = "partitions"
)

// migration is one embedded, numbered SQL file.
type migration struct {
	version int
	name    string
	sql     string
}

// Migrate applies every embedded migration that the database at url has not applied yet,
// each in its own transaction, recorded in schema_migrations. It holds a PostgreSQL
// advisory lock for the schema while it runs, so several processes may start at once:
// one applies, the others wait and then find nothing to do. The schema is the first one on
// the connection's search_path (for example ?search_path=lumina in the url).
func Migrate(ctx context.Context, url string, logger *slog.Logger) error {
	// Parsed as the pool parses it, so a url written for Open (pool_max_conns…) works here.
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("parse postgres url: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return fmt.Errorf("connect to postgres for migrations: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return migrate(ctx, conn, orDiscard(logger))
}

// migrate runs the migrations on one connection (advisory locks belong to a session).
func migrate(ctx context.Context, conn *pgx.Conn, logger *slog.Logger) error {
	migrations, err := loadMigrations()
	if err != nil {
		return err
	}
	var schema *string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("read current schema: %w", err)
	}
	if schema == nil {
		return fmt.Errorf("migrate postgres: no schema on the search_path exists")
	}
	key := lockKey(*schema, lockMigrate)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1, $2)", lockClass, key); err != nil {
		return fmt.Errorf("lock schema %q for migrations: %w", *schema, err)
	}
	defer func() {
		// Unlock even when ctx is done; closing the session would release it too.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1, $2)", lockClass, key)
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("create schema_migrations in %q: %w", *schema, err)
	}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("read applied migrations: %w", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return fmt.Errorf("read applied migrations: %w", err)
	}
	for _, m := range migrations {
		if slices.Contains(applied, int32(m.version)) {
			continue
		}
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name)
			return err
		}); err != nil {
			return fmt.Errorf("apply migration %04d_%s to %q: %w", m.version, m.name, *schema, err)
		}
		logger.Info("applied postgres migration", "version", m.version, "name", m.name, "schema", *schema)
	}
	if len(applied) > 0 && int(slices.Max(applied)) > migrations[len(migrations)-1].version {
		logger.Warn("postgres schema is newer than this binary",
			"schema", *schema, "database_version", slices.Max(applied), "binary_version", migrations[len(migrations)-1].version)
	}
	return nil
}

// loadMigrations reads the embedded migrations in version order.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration file %q: name must be NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, "migrations/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", e.Name(), err)
		}
		out = append(out, migration{version: version, name: name, sql: string(body)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("two migrations with version %d", out[i].version)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no embedded migrations")
	}
	return out, nil
}

// lockKey is the second advisory-lock key for purpose in schema.
func lockKey(schema, purpose string) int32 {
	// FNV-1a, 32 bits: stable across processes and versions.
	h := uint32(2166136261)
	for _, b := range []byte(schema + "\x00" + purpose) {
		h ^= uint32(b)
		h *= 16777619
	}
	return int32(h)
}
