package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/auth"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/store/sqlite"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func open(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lumina.db"), nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newAuth(t *testing.T) (*auth.Auth, *sqlite.Store, *clock) {
	t.Helper()
	st := open(t)
	clk := &clock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	a := auth.New(auth.Config{Required: true, CacheTTL: 10 * time.Second, SessionTTL: time.Hour, Now: clk.Now}, st)
	if _, err := a.CreateProject(context.Background(), "shop", "Shop"); err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	return a, st, clk
}

func TestAuthOffIsDefaultProject(t *testing.T) {
	a := auth.New(auth.Config{}, open(t))
	if p, err := a.Ingest(context.Background(), http.Header{}); err != nil || p != "default" {
		t.Fatalf("Ingest with auth off: got %q, %v; want default", p, err)
	}
	r := httptest.NewRequest("GET", "/api/v1/traces", nil)
	r.Header.Set("Authorization", "Bearer lum_whatever")
	if p, err := a.Request(r); err != nil || p.ProjectID != "default" || p.Method != "none" {
		t.Fatalf("Request with auth off: got %+v, %v", p, err)
	}
}

func TestKeyFromHeader(t *testing.T) {
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	for _, tt := range []struct {
		name, header, value, want string
	}{
		{"bearer", "Authorization", "Bearer lum_abc", "lum_abc"},
		{"bearer lower case", "authorization", "bearer   lum_abc ", "lum_abc"},
		{"basic password", "Authorization", basic("shop", "lum_abc"), "lum_abc"},
		{"basic user only", "Authorization", basic("lum_abc", ""), "lum_abc"},
		{"basic garbage", "Authorization", "Basic !!!", ""},
		{"x-api-key", "x-api-key", "lum_abc", "lum_abc"},
		{"x-lumina-api-key", "X-Lumina-Api-Key", "lum_abc", "lum_abc"},
		{"other scheme", "Authorization", "Digest abc", ""},
		{"none", "Accept", "*/*", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(tt.header, tt.value)
			if got := auth.KeyFromHeader(h); got != tt.want {
				t.Fatalf("KeyFromHeader(%s: %q) = %q, want %q", tt.header, tt.value, got, tt.want)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	a, st, clk := newAuth(t)
	ctx := context.Background()
	k, secret, err := a.CreateKey(ctx, "shop", "ci")
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	if !strings.HasPrefix(secret, auth.KeyPrefix) || len(secret) < 40 || !strings.HasPrefix(secret, k.Prefix) {
		t.Fatalf("secret %q (prefix %q): want lum_ and 43 random characters, starting with the prefix", secret, k.Prefix)
	}
	stored, err := st.APIKeys(ctx, "shop")
	if err != nil || len(stored) != 1 {
		t.Fatalf("APIKeys: %v, %v", stored, err)
	}
	if strings.Contains(string(stored[0].Hash), secret) || len(stored[0].Hash) != 32 {
		t.Fatalf("stored hash %x: want the 32-byte SHA-256, never the secret", stored[0].Hash)
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+secret)
	if p, err := a.Ingest(ctx, h); err != nil || p != "shop" {
		t.Fatalf("Ingest with the key: got %q, %v; want shop", p, err)
	}

	for name, hd := range map[string]http.Header{
		"missing": {},
		"invalid": {"X-Api-Key": {"lum_not-a-key"}},
	} {
		if _, err := a.Ingest(ctx, hd); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("Ingest with %s key: got %v, want ErrUnauthenticated", name, err)
		}
	}

	// Revoked here: refused at once, cache or not.
	if err := a.RevokeKey(ctx, "shop", k.ID); err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	if _, err := a.Ingest(ctx, h); !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("Ingest with a revoked key: got %v, want a revoked error", err)
	}
	if err := a.RevokeKey(ctx, "other", k.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RevokeKey from another project: got %v, want ErrNotFound", err)
	}

	// Revoked by another process: refused once the cache entry expires.
	k2, secret2, err := a.CreateKey(ctx, "shop", "prod")
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	h.Set("Authorization", "Bearer "+secret2)
	if _, err := a.Ingest(ctx, h); err != nil {
		t.Fatalf("Ingest with the second key: %v", err)
	}
	if err := st.RevokeAPIKey(ctx, "shop", k2.ID, clk.Now()); err != nil {
		t.Fatalf("RevokeAPIKey (other process): %v", err)
	}
	if _, err := a.Ingest(ctx, h); err != nil {
		t.Fatalf("Ingest within the cache TTL: got %v, want the cached answer", err)
	}
	clk.Add(11 * time.Second)
	if _, err := a.Ingest(ctx, h); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("Ingest after the cache TTL: got %v, want ErrUnauthenticated", err)
	}

	if _, _, err := a.CreateKey(ctx, "nope", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CreateKey in a missing project: got %v, want ErrNotFound", err)
	}
	if _, _, err := a.CreateKey(ctx, "shop", "  "); err == nil {
		t.Fatal("CreateKey without a name: got nil error")
	}
}

func TestKeyLastUsed(t *testing.T) {
	a, st, _ := newAuth(t)
	ctx := context.Background()
	k, secret, err := a.CreateKey(ctx, "shop", "ci")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ingest(ctx, http.Header{"X-Api-Key": {secret}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		keys, err := st.APIKeys(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		if keys[0].ID == k.ID && keys[0].LastUsed != nil {
			if !keys[0].LastUsed.Equal(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)) {
				t.Fatalf("last used %v, want the clock's time", keys[0].LastUsed)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("last_used_at was never recorded")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestProjects(t *testing.T) {
	a, _, _ := newAuth(t)
	ctx := context.Background()
	for _, id := range []string{"", "Shop", "a b", "-x", "x/y", "../etc", strings.Repeat("a", 65), "lumina.spans"} {
		if _, err := a.CreateProject(ctx, id, ""); err == nil {
			t.Errorf("CreateProject(%q): got nil error, want invalid id", id)
		}
	}
	if _, err := a.CreateProject(ctx, "shop", "again"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("CreateProject of an existing id: got %v", err)
	}
	p, err := a.CreateProject(ctx, "search_v2", "")
	if err != nil || p.Name != "search_v2" {
		t.Fatalf("CreateProject without a name: got %+v, %v; want the id as name", p, err)
	}
}

func TestLoginSessions(t *testing.T) {
	a, _, clk := newAuth(t)
	ctx := context.Background()
	if _, err := a.CreateProject(ctx, "labs", "Labs"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		email, password string
		admin           bool
		projects        []string
	}{
		{"not-an-email", "long enough", false, []string{"shop"}},
		{"dev@example.com", "short", false, []string{"shop"}},
		{"dev@example.com", "long enough", false, nil},
		{"dev@example.com", "long enough", false, []string{"missing"}},
	} {
		if _, err := a.CreateUser(ctx, tt.email, tt.password, tt.admin, tt.projects); err == nil {
			t.Errorf("CreateUser(%q, %q, %v): got nil error", tt.email, tt.password, tt.projects)
		}
	}
	u, err := a.CreateUser(ctx, "Dev@Example.com", "correct horse", false, []string{"shop"})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if strings.Contains(string(u.PasswordHash), "correct horse") || !strings.HasPrefix(string(u.PasswordHash), "$2a$") {
		t.Fatalf("password hash %q: want bcrypt", u.PasswordHash)
	}
	if _, err := a.CreateUser(ctx, "dev@example.com", "another one", false, []string{"shop"}); err == nil {
		t.Fatal("CreateUser with a taken email: got nil error")
	}
	for _, pw := range []string{"wrong password", ""} {
		if _, _, err := a.Login(ctx, "dev@example.com", pw); !errors.Is(err, auth.ErrBadLogin) {
			t.Fatalf("Login with %q: got %v, want ErrBadLogin", pw, err)
		}
	}
	if _, _, err := a.Login(ctx, "nobody@example.com", "correct horse"); !errors.Is(err, auth.ErrBadLogin) {
		t.Fatalf("Login of an unknown user: got %v, want ErrBadLogin", err)
	}
	token, s, err := a.Login(ctx, "DEV@example.com", "correct horse")
	if err != nil || s.ProjectID != "shop" {
		t.Fatalf("Login: got %+v, %v; want a session in shop", s, err)
	}
	devToken := token
	req := func() *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: devToken})
		return r
	}
	p, err := a.Request(req())
	if err != nil || p.ProjectID != "shop" || p.Method != "session" || p.Email != "dev@example.com" {
		t.Fatalf("Request with the session: got %+v, %v", p, err)
	}
	// A session never authenticates ingestion.
	if _, err := a.Ingest(ctx, req().Header); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("Ingest with a session cookie: got %v, want ErrUnauthenticated", err)
	}
	if err := a.SwitchProject(ctx, token, "labs"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SwitchProject to a project the user may not use: got %v, want ErrNotFound", err)
	}
	projects, err := a.ProjectsOf(ctx, p)
	if err != nil || len(projects) != 1 || projects[0].ID != "shop" {
		t.Fatalf("ProjectsOf the user: got %+v, %v; want only shop", projects, err)
	}

	clk.Add(time.Hour + time.Second)
	if _, err := a.Request(req()); !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("Request after the session TTL: got %v, want expired", err)
	}
	if n, err := a.PruneSessions(ctx); err != nil || n != 1 {
		t.Fatalf("PruneSessions: got %d, %v; want 1", n, err)
	}

	created, err := a.EnsureAdmin(ctx, "root@example.com", "admin password")
	if err != nil || !created {
		t.Fatalf("EnsureAdmin: got %v, %v", created, err)
	}
	if created, err := a.EnsureAdmin(ctx, "root@example.com", "other password"); err != nil || created {
		t.Fatalf("EnsureAdmin again: got %v, %v; want no new user", created, err)
	}
	token, s, err = a.Login(ctx, "root@example.com", "admin password")
	if err != nil || s.ProjectID != "default" {
		t.Fatalf("admin Login: got %+v, %v", s, err)
	}
	if err := a.SwitchProject(ctx, token, "labs"); err != nil {
		t.Fatalf("admin SwitchProject: %v", err)
	}
	if p, err := a.Request(req()); err == nil {
		t.Fatalf("old token after pruning: got %+v, want an error", p)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: token})
	if p, err := a.Request(r); err != nil || p.ProjectID != "labs" || !p.Admin {
		t.Fatalf("admin after switching: got %+v, %v", p, err)
	}
	if err := a.Logout(ctx, token); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if _, err := a.Request(r); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("Request after logout: got %v, want ErrUnauthenticated", err)
	}
}
