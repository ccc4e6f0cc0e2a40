package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/store"
)

// TestMigrateSharedAlerts upgrades a database written before 0810 in which two worker
// processes had opened one dedup key: the oldest alert stays open, the other is resolved
// as a duplicate, counts come over from the documents, and the day's spend saved in
// baseline rows becomes the shared accumulator.
func TestMigrateSharedAlerts(t *testing.T) {
	dsn, conn := migratedBefore(t, 810)
	ctx := context.Background()
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, row := range [][]any{
		{"a1", day.Add(time.Hour).UnixNano(), 0, `{"id":"a1","project_id":"p","dedup_key":"k1","count":3}`},
		{"a2", day.Add(2 * time.Hour).UnixNano(), 1, `{"id":"a2","project_id":"p","dedup_key":"k1","count":2}`},
		{"a3", day.Add(3 * time.Hour).UnixNano(), 0, `{"id":"a3","project_id":"p","dedup_key":"k2","count":1}`},
	} {
		if _, err := conn.Exec(ctx, `INSERT INTO alerts (project_id, id, fired_ns, status_rank, type, severity, service, doc)
			VALUES ('p', $1, $2, $3, 'cost_spike', 'warning', 'svc', $4)`, row...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO alert_baselines (project_id, service, endpoint, model, metric, doc)
		VALUES ('p', 'svc', 'user:u1', 'gpt-4o', 'spend_day', '{"window_start":"2026-06-01T00:00:00Z","count":4,"sum":2.5}')`); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, dsn, quietLogger()) // applies 0810
	if err != nil {
		t.Fatalf("open (migrate to 0810): %v", err)
	}
	defer s.Close()
	open, err := s.OpenAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 2 || open[0].ID != "a1" || open[0].Count != 3 || open[1].ID != "a3" {
		t.Errorf("open alerts after the upgrade: got %+v, want a1 (count 3) and a3", open)
	}
	dup, err := s.Alert(ctx, "p", "a2")
	if err != nil {
		t.Fatal(err)
	}
	if dup.Status != store.AlertResolved || dup.ResolvedBy != "duplicate" || dup.ResolvedAt.IsZero() || dup.Count != 2 {
		t.Errorf("the younger duplicate: got %s by %q at %v count %d, want resolved by duplicate, count 2", dup.Status, dup.ResolvedBy, dup.ResolvedAt, dup.Count)
	}
	got, err := s.RecordAlert(ctx, store.Alert{ID: "a4", ProjectID: "p", DedupKey: "k1", Status: store.AlertFiring, Count: 1}, 1)
	if err != nil || got.ID != "a1" || got.Count != 4 {
		t.Errorf("a new open of k1: got %q count %d, %v; want a repeat of a1 (count 4)", got.ID, got.Count, err)
	}
	spend, err := s.Spends(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Spend{{ProjectID: "p", Period: "day", Start: day, Service: "svc", Model: "gpt-4o", User: "u1", Requests: 4, USD: 2.5}}
	if len(spend) != 1 || spend[0] != want[0] {
		t.Errorf("spend after the upgrade: got %+v, want %+v", spend, want)
	}
}

// migratedBefore creates a schema of its own with the migrations before version applied,
// as an older Lumina left it, and returns its URL and a connection to it (closed when the
// test ends).
func migratedBefore(t *testing.T, version int) (string, *pgx.Conn) {
	t.Helper()
	dsn := tempSchema(t)
	ctx := context.Background()
	migrations, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations {
		if m.version >= version {
			break
		}
		if _, err := conn.Exec(ctx, m.sql); err != nil {
			t.Fatalf("migration %d: %v", m.version, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	return dsn, conn
}
