package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/store/storetest"
)

// testURL is the PostgreSQL server the tests use, from LUMINA_TEST_POSTGRES_URL. Without
// it the test skips, unless LUMINA_TEST_REQUIRE_SERVICES=1 makes a missing server a failure.
func testURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("LUMINA_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("LUMINA_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("LUMINA_TEST_POSTGRES_URL is not set, and LUMINA_TEST_REQUIRE_SERVICES=1 requires PostgreSQL " +
				"(for example postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
		}
		t.Skip("LUMINA_TEST_POSTGRES_URL is not set; skipping PostgreSQL tests")
	}
	return u
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// tempSchema creates a schema of its own on the test server, dropped when the test ends,
// and returns a connection URL whose search_path selects it.
func tempSchema(t testing.TB) string {
	t.Helper()
	base := testURL(t)
	ctx := context.Background()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "lumina_test_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", redact(base), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("connect to drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, base, schema)
}

// withSearchPath adds search_path=schema to a URL or key=value connection string.
func withSearchPath(t testing.TB, base, schema string) string {
	t.Helper()
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + schema
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse LUMINA_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return "the test server"
}

// openTemp opens a store in a fresh schema, closed and dropped when the test ends.
func openTemp(t testing.TB, cfg config) *Store {
	t.Helper()
	dsn := tempSchema(t)
	s, err := open(context.Background(), dsn, quietLogger(), cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() }) // runs before the schema is dropped
	return s
}

func TestConformance(t *testing.T) {
	testURL(t) // skip (or fail) once rather than in every subtest
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t, defaultConfig()) })
}
