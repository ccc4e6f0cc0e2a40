package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// TestMigrationFillsDeliveryChannel undoes migration 0800 in a fresh schema, writes an
// outbox item as the schema before it did (no channel_id column), and migrates again: the
// item is found by its channel.
func TestMigrationFillsDeliveryChannel(t *testing.T) {
	ctx := context.Background()
	dsn := tempSchema(t)
	if err := Migrate(ctx, dsn, quietLogger()); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dsn, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, q := range []string{
		`DROP INDEX alert_deliveries_channel`,
		`ALTER TABLE alert_deliveries DROP COLUMN channel_id`,
		`DELETE FROM schema_migrations WHERE version = 800`,
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	d := store.Delivery{ID: "d-old", ProjectID: "p", AlertID: "a", ChannelID: "ch-1", Event: store.EventTrigger,
		Status: store.DeliveryPending, NextAttempt: at, CreatedAt: at, UpdatedAt: at}
	doc, err := docJSON(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO alert_deliveries (id, project_id, alert_id, status, next_attempt_ns, created_ns, doc)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, d.ID, d.ProjectID, d.AlertID, d.Status, alertNS(at), alertNS(at), doc); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, dsn, quietLogger()); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	got, err := s.ChannelDeliveries(ctx, "p", "ch-1", 10)
	if err != nil || len(got) != 1 || got[0].ID != "d-old" {
		t.Errorf("ChannelDeliveries after the migration: got %+v, %v; want the old item", got, err)
	}
}
