// Package pgtest gives integration tests outside the store a PostgreSQL schema of their
// own on the test server (the store's driver stays inside internal/store).
package pgtest

import (
	"context"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/testenv"
)

// Schema creates a schema of the test's own (named with prefix) on the test
// PostgreSQL server and returns a URL that uses it, through addr instead of the server's
// own host and port when addr is not empty (a Proxy's); the schema is dropped when the
// test ends.
func Schema(t testing.TB, prefix, addr string) string {
	t.Helper()
	raw := testenv.URL(t, testenv.PostgresURL)
	schema := testenv.Name(prefix)
	exec := func(sql string) error {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, raw)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if err := exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %s: %v", testenv.PostgresURL, err)
	}
	if addr != "" {
		u.Host = addr
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
