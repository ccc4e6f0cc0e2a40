package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/use-lumina/lumina/internal/store/postgres"
	"github.com/use-lumina/lumina/internal/store/sqlite"
)

// TestAlertOwnerSlots takes worker slots on one PostgreSQL schema as three worker
// processes would: each gets its own, and a slot given back is the next one taken.
func TestAlertOwnerSlots(t *testing.T) {
	ctx := context.Background()
	var stores []*postgres.Store
	dsn := pgSchema(t, "")
	for range 3 { // one pool per process
		st, err := postgres.Open(ctx, dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	var releases []func()
	for i, st := range stores[:2] {
		owner, release, err := alertOwner(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"worker-0", "worker-1"}[i]; owner != want {
			t.Fatalf("process %d: got owner %q, want %q", i, owner, want)
		}
		releases = append(releases, release)
	}
	releases[0]()
	owner, release, err := alertOwner(ctx, stores[2])
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	defer releases[1]()
	if owner != "worker-0" {
		t.Errorf("after worker-0 stopped: got owner %q, want the freed worker-0", owner)
	}

	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lumina.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if owner, release, err := alertOwner(ctx, db); err != nil || owner != "" {
		t.Errorf("embedded SQLite: got owner %q, %v; want none", owner, err)
	} else {
		release()
	}
}
