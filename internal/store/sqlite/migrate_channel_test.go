package sqlite

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// TestMigrationFillsDeliveryChannel undoes migration 0800 on a fresh store, writes an
// outbox item as the schema before it did (no channel_id column), and migrates again: the
// item is found by its channel.
func TestMigrationFillsDeliveryChannel(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	for _, q := range []string{
		`DROP INDEX alert_deliveries_channel`,
		`ALTER TABLE alert_deliveries DROP COLUMN channel_id`,
		`DELETE FROM schema_migrations WHERE version = 800`,
	} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	d := store.Delivery{ID: "d-old", ProjectID: "p", AlertID: "a", ChannelID: "ch-1", Event: store.EventTrigger,
		Status: store.DeliveryPending, NextAttempt: at, CreatedAt: at, UpdatedAt: at}
	doc, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO alert_deliveries (id, project_id, alert_id, status, next_attempt, created_at, doc)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, d.ID, d.ProjectID, d.AlertID, d.Status, nanos(at), nanos(at), string(doc)); err != nil {
		t.Fatal(err)
	}
	if n, err := migrate(ctx, s.w); err != nil || n != 1 {
		t.Fatalf("migrate: applied %d, %v; want 0800 applied", n, err)
	}
	got, err := s.ChannelDeliveries(ctx, "p", "ch-1", 10)
	if err != nil || len(got) != 1 || got[0].ID != "d-old" {
		t.Errorf("ChannelDeliveries after the migration: got %+v, %v; want the old item", got, err)
	}
}
