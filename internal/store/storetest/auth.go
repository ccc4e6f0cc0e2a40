package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

func runAuthTests(t *testing.T, open Opener) {
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"AuthProjects", testAuthProjects},
		{"AuthAPIKeys", testAuthAPIKeys},
		{"AuthUsers", testAuthUsers},
		{"AuthSessions", testAuthSessions},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func testAuthProjects(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Every store starts with the default project, where AUTH_REQUIRED=false puts everything.
	got, err := s.Projects(ctx)
	if err != nil {
		t.Fatalf("Projects: %v", err)
	}
	diff(t, "Projects of a new store", got, []store.Project{{ID: "default", Name: "Default"}})
	a := store.Project{ID: projectA, Name: "Checkout", CreatedAt: at(time.Second)}
	if err := s.PutProject(ctx, a); err != nil {
		t.Fatalf("PutProject: %v", err)
	}
	renamed := a
	renamed.Name, renamed.CreatedAt = "Checkout v2", at(time.Hour) // creation time is kept
	if err := s.PutProject(ctx, renamed); err != nil {
		t.Fatalf("PutProject (rename): %v", err)
	}
	p, err := s.Project(ctx, projectA)
	if err != nil {
		t.Fatalf("Project: %v", err)
	}
	diff(t, "renamed project", p, store.Project{ID: projectA, Name: "Checkout v2", CreatedAt: at(time.Second)})
	if _, err := s.Project(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Project(missing): got %v, want ErrNotFound", err)
	}
	if err := s.PutProject(ctx, store.Project{Name: "no id"}); err == nil {
		t.Fatal("PutProject without an id: got nil error")
	}
}

func testAuthAPIKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	k1 := store.APIKey{ID: "key-1", ProjectID: projectA, Name: "ci", Prefix: "lum_abcd", Hash: []byte("hash-one-32-bytes-long-000000000"), CreatedAt: at(time.Second)}
	k2 := store.APIKey{ID: "key-2", ProjectID: projectA, Name: "prod", Prefix: "lum_efgh", Hash: []byte("hash-two-32-bytes-long-000000000"), CreatedAt: at(2 * time.Second)}
	kb := store.APIKey{ID: "key-b", ProjectID: projectB, Name: "b", Prefix: "lum_ijkl", Hash: []byte("hash-b-32-bytes-long-00000000000"), CreatedAt: at(3 * time.Second)}
	for _, k := range []store.APIKey{k1, k2, kb} {
		if err := s.PutAPIKey(ctx, k); err != nil {
			t.Fatalf("PutAPIKey(%s): %v", k.ID, err)
		}
	}
	dup := k1
	dup.ID = "key-dup"
	if err := s.PutAPIKey(ctx, dup); err == nil {
		t.Fatal("PutAPIKey with a hash already stored: got nil error, want a uniqueness error")
	}
	got, err := s.APIKeyByHash(ctx, k2.Hash)
	if err != nil {
		t.Fatalf("APIKeyByHash: %v", err)
	}
	diff(t, "key by hash", got, k2)
	if _, err := s.APIKeyByHash(ctx, []byte("unknown")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("APIKeyByHash(unknown): got %v, want ErrNotFound", err)
	}

	if err := s.TouchAPIKey(ctx, k1.ID, at(time.Minute)); err != nil {
		t.Fatalf("TouchAPIKey: %v", err)
	}
	if err := s.TouchAPIKey(ctx, k1.ID, at(30*time.Second)); err != nil { // older: ignored
		t.Fatalf("TouchAPIKey: %v", err)
	}
	// Revoking a key of another project is not found and changes nothing.
	if err := s.RevokeAPIKey(ctx, projectB, k1.ID, at(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RevokeAPIKey across projects: got %v, want ErrNotFound", err)
	}
	if err := s.RevokeAPIKey(ctx, projectA, k2.ID, at(time.Hour)); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	if err := s.RevokeAPIKey(ctx, projectA, k2.ID, at(2*time.Hour)); err != nil { // keeps the first time
		t.Fatalf("RevokeAPIKey again: %v", err)
	}
	list, err := s.APIKeys(ctx, projectA)
	if err != nil {
		t.Fatalf("APIKeys: %v", err)
	}
	used, revoked := at(time.Minute), at(time.Hour)
	w1, w2 := k1, k2
	w1.LastUsed, w2.RevokedAt = &used, &revoked
	diff(t, "keys of project A (newest first)", list, []store.APIKey{w2, w1})
	if list, _ := s.APIKeys(ctx, projectB); len(list) != 1 || list[0].ID != kb.ID {
		t.Fatalf("keys of project B: got %+v, want only %s", list, kb.ID)
	}
}

func testAuthUsers(t *testing.T, s store.Store) {
	ctx := context.Background()
	if list, err := s.Users(ctx); err != nil || len(list) != 0 {
		t.Fatalf("Users of a new store: got %v, %v; want none", list, err)
	}
	admin := store.User{ID: "u-1", Email: "admin@example.com", PasswordHash: []byte("$2a$10$hash"), Admin: true, Projects: []string{}, CreatedAt: at(time.Second)}
	dev := store.User{ID: "u-2", Email: "Dev@Example.com", PasswordHash: []byte("$2a$10$other"), Projects: []string{projectA, projectB}, CreatedAt: at(2 * time.Second)}
	for _, u := range []store.User{admin, dev} {
		if err := s.PutUser(ctx, u); err != nil {
			t.Fatalf("PutUser(%s): %v", u.Email, err)
		}
	}
	clash := store.User{ID: "u-3", Email: "ADMIN@example.com", PasswordHash: []byte("x"), CreatedAt: at(3 * time.Second)}
	if err := s.PutUser(ctx, clash); err == nil {
		t.Fatal("PutUser with an email already taken (other case): got nil error")
	}
	got, err := s.UserByEmail(ctx, "DEV@example.COM")
	if err != nil {
		t.Fatalf("UserByEmail: %v", err)
	}
	wantDev := dev
	wantDev.Email = "dev@example.com" // stored in lower case
	diff(t, "user by email", got, wantDev)
	if got, err := s.User(ctx, "u-1"); err != nil || got.Email != admin.Email || !got.Admin {
		t.Fatalf("User(u-1): got %+v, %v", got, err)
	}
	if _, err := s.UserByEmail(ctx, "who@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UserByEmail(unknown): got %v, want ErrNotFound", err)
	}
	dev.PasswordHash, dev.Projects = []byte("$2a$10$changed"), []string{projectB}
	if err := s.PutUser(ctx, dev); err != nil {
		t.Fatalf("PutUser (update): %v", err)
	}
	list, err := s.Users(ctx)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	wantDev.PasswordHash, wantDev.Projects = dev.PasswordHash, dev.Projects
	diff(t, "users by email", list, []store.User{admin, wantDev})
}

func testAuthSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	live := store.Session{Hash: []byte("live-session-hash"), UserID: "u-1", ProjectID: projectA, CreatedAt: at(0), ExpiresAt: at(time.Hour)}
	old := store.Session{Hash: []byte("old-session-hash"), UserID: "u-1", ProjectID: projectA, CreatedAt: at(0), ExpiresAt: at(time.Minute)}
	for _, se := range []store.Session{live, old} {
		if err := s.PutSession(ctx, se); err != nil {
			t.Fatalf("PutSession: %v", err)
		}
	}
	live.ProjectID = projectB // switching project rewrites the session
	if err := s.PutSession(ctx, live); err != nil {
		t.Fatalf("PutSession (switch project): %v", err)
	}
	got, err := s.SessionByHash(ctx, live.Hash)
	if err != nil {
		t.Fatalf("SessionByHash: %v", err)
	}
	diff(t, "session", got, live)
	n, err := s.DeleteExpiredSessions(ctx, at(30*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions: got %d, %v; want 1", n, err)
	}
	if _, err := s.SessionByHash(ctx, old.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired session after cleanup: got %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, live.Hash); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	if _, err := s.SessionByHash(ctx, live.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted session: got %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, live.Hash); err != nil {
		t.Fatalf("DeleteSession of a missing session: got %v, want nil", err)
	}
}
