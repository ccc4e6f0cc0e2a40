// Package auth authenticates Lumina's callers and says which project each request belongs
// to. With AUTH_REQUIRED=false everything is project "default" and no credential is asked
// for. With true, ingestion needs a project API key, and the API and the dashboard need a
// key or a dashboard login session.
//
// Nothing secret is stored: an API key or session token is kept as the SHA-256 of its
// random secret (high-entropy secrets need no slow hash), a password as a bcrypt hash. Key
// look-ups are cached for CacheTTL, so a key revoked in another process stops working
// within that time (at once in the process that revoked it).
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/use-lumina/lumina/internal/store"
)

// DefaultProject is the project everything belongs to when auth is off.
const DefaultProject = "default"

// ErrUnauthenticated marks a request without valid credentials. Other errors mean the
// credentials could not be checked (the store is down) and are retryable.
var ErrUnauthenticated = errors.New("unauthenticated")

// Store is what auth keeps in the backend.
type Store = store.AuthStore

// Config configures an Auth.
type Config struct {
	// Required turns authentication on (AUTH_REQUIRED).
	Required bool
	// CacheTTL is how long a key look-up is trusted (default 10s).
	CacheTTL time.Duration
	// SessionTTL is how long a dashboard login lasts (default 7 days).
	SessionTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Auth authenticates requests against a Store. It is safe for concurrent use.
type Auth struct {
	cfg   Config
	store Store
	log   *slog.Logger

	mu      sync.Mutex
	cache   map[[sha256.Size]byte]cached
	touched map[string]time.Time // key id → when last_used was last written
}

type cached struct {
	key     store.APIKey
	found   bool
	expires time.Time
}

// maxCached bounds the key cache; past it the cache starts again empty, so a flood of
// random keys costs memory no more than this.
const maxCached = 10000

// touchEvery is how often a key's last_used time is written at most.
const touchEvery = time.Minute

// New returns an Auth over st.
func New(cfg Config, st Store) *Auth {
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 10 * time.Second
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 7 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Auth{cfg: cfg, store: st, log: cfg.Logger, cache: map[[sha256.Size]byte]cached{}, touched: map[string]time.Time{}}
}

// Required reports whether credentials are asked for.
func (a *Auth) Required() bool { return a.cfg.Required }

// Principal is who made a request.
type Principal struct {
	ProjectID string `json:"project_id"`
	// Method is "none" (auth is off), "api_key" or "session".
	Method string `json:"method"`
	KeyID  string `json:"key_id,omitempty"`
	UserID string `json:"user_id,omitempty"`
	Email  string `json:"email,omitempty"`
	Admin  bool   `json:"admin,omitempty"`
}

// Ingest resolves an OTLP request's project from its headers (gRPC metadata arrives as
// headers too): only API keys count here, never a session cookie.
func (a *Auth) Ingest(ctx context.Context, h http.Header) (string, error) {
	if !a.cfg.Required {
		return DefaultProject, nil
	}
	secret := KeyFromHeader(h)
	if secret == "" {
		return "", fmt.Errorf("%w: send a project API key as \"Authorization: Bearer <key>\" or \"x-api-key: <key>\"", ErrUnauthenticated)
	}
	k, err := a.key(ctx, secret)
	if err != nil {
		return "", err
	}
	return k.ProjectID, nil
}

// Request resolves an API or dashboard request: an API key in its headers, else the
// session cookie.
func (a *Auth) Request(r *http.Request) (Principal, error) {
	if !a.cfg.Required {
		return Principal{ProjectID: DefaultProject, Method: "none"}, nil
	}
	if secret := KeyFromHeader(r.Header); secret != "" {
		k, err := a.key(r.Context(), secret)
		if err != nil {
			return Principal{}, err
		}
		return Principal{ProjectID: k.ProjectID, Method: "api_key", KeyID: k.ID}, nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return Principal{}, fmt.Errorf("%w: sign in, or send a project API key as \"Authorization: Bearer <key>\"", ErrUnauthenticated)
	}
	return a.session(r.Context(), c.Value)
}

// Project is Request's project, for the API's and the dashboard's ProjectFunc.
func (a *Auth) Project(r *http.Request) (string, error) {
	p, err := a.Request(r)
	return p.ProjectID, err
}

// KeyFromHeader finds an API key in the header conventions OTLP exporters and HTTP clients
// use: "Authorization: Bearer <key>", "Authorization: Basic" with the key as password (or
// as user name when the password is empty), "x-api-key" and "x-lumina-api-key".
func KeyFromHeader(h http.Header) string {
	if v := strings.TrimSpace(h.Get("Authorization")); v != "" {
		scheme, rest, _ := strings.Cut(v, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToLower(scheme) {
		case "bearer":
			return rest
		case "basic":
			raw, err := base64.StdEncoding.DecodeString(rest)
			if err != nil {
				return ""
			}
			user, pass, _ := strings.Cut(string(raw), ":")
			if pass != "" {
				return pass
			}
			return user
		}
	}
	for _, name := range []string{"X-Api-Key", "X-Lumina-Api-Key"} {
		if v := strings.TrimSpace(h.Get(name)); v != "" {
			return v
		}
	}
	return ""
}

// key checks an API key secret, through the cache.
func (a *Auth) key(ctx context.Context, secret string) (store.APIKey, error) {
	hash := sha256.Sum256([]byte(secret))
	now := a.cfg.Now()
	a.mu.Lock()
	c, ok := a.cache[hash]
	a.mu.Unlock()
	if !ok || now.After(c.expires) {
		k, err := a.store.APIKeyByHash(ctx, hash[:])
		switch {
		case errors.Is(err, store.ErrNotFound):
			c = cached{expires: now.Add(a.cfg.CacheTTL)}
		case err != nil:
			return store.APIKey{}, fmt.Errorf("check api key: %w", err)
		default:
			c = cached{key: k, found: true, expires: now.Add(a.cfg.CacheTTL)}
		}
		a.mu.Lock()
		if len(a.cache) >= maxCached {
			clear(a.cache)
		}
		a.cache[hash] = c
		a.mu.Unlock()
	}
	switch {
	case !c.found:
		return store.APIKey{}, fmt.Errorf("%w: invalid API key", ErrUnauthenticated)
	case c.key.RevokedAt != nil:
		return store.APIKey{}, fmt.Errorf("%w: API key %s was revoked", ErrUnauthenticated, c.key.Prefix)
	}
	a.touch(c.key.ID, now)
	return c.key, nil
}

// touch records a key's use at most once a minute per process, in the background: the
// request never waits for it.
func (a *Auth) touch(id string, now time.Time) {
	a.mu.Lock()
	last, ok := a.touched[id]
	due := !ok || now.Sub(last) >= touchEvery
	if due {
		if len(a.touched) >= maxCached {
			clear(a.touched)
		}
		a.touched[id] = now
	}
	a.mu.Unlock()
	if !due {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.store.TouchAPIKey(ctx, id, now); err != nil {
			a.log.Debug("record api key use", "key", id, "err", err)
		}
	}()
}

// forget drops a key from the cache (after it was revoked here).
func (a *Auth) forget(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for h, c := range a.cache {
		if c.key.ID == id {
			delete(a.cache, h)
		}
	}
}

// KeyPrefix starts every Lumina API key, so secret scanners and people can recognise one.
const KeyPrefix = "lum_"

// newSecret returns a random secret: 32 bytes from crypto/rand, base64url-encoded.
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// CreateKey makes a new API key in project and returns it with its secret, which is shown
// once and never stored.
func (a *Auth) CreateKey(ctx context.Context, project, name string) (store.APIKey, string, error) {
	if _, err := a.store.Project(ctx, project); err != nil {
		return store.APIKey{}, "", fmt.Errorf("create api key: %w", err)
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return store.APIKey{}, "", errors.New("create api key: a key needs a name of 1 to 100 characters")
	}
	secret := KeyPrefix + newSecret()
	hash := sha256.Sum256([]byte(secret))
	k := store.APIKey{
		ID: "key_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", ""), ProjectID: project, Name: name,
		Prefix: secret[:len(KeyPrefix)+8], Hash: hash[:], CreatedAt: a.cfg.Now().UTC(),
	}
	if err := a.store.PutAPIKey(ctx, k); err != nil {
		return store.APIKey{}, "", err
	}
	return k, secret, nil
}

// Keys lists a project's keys (never their secrets).
func (a *Auth) Keys(ctx context.Context, project string) ([]store.APIKey, error) {
	return a.store.APIKeys(ctx, project)
}

// RevokeKey revokes one of project's keys; it stops working in this process at once.
func (a *Auth) RevokeKey(ctx context.Context, project, id string) error {
	if err := a.store.RevokeAPIKey(ctx, project, id, a.cfg.Now().UTC()); err != nil {
		return err
	}
	a.forget(id)
	return nil
}

// ValidProjectID reports whether id can name a project: 1 to 64 lower-case letters,
// digits, '-' and '_', starting with a letter or digit. It appears in NATS subjects and
// URLs, so nothing else is allowed.
func ValidProjectID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// CreateProject makes a project; it fails when the id is taken or malformed.
func (a *Auth) CreateProject(ctx context.Context, id, name string) (store.Project, error) {
	if !ValidProjectID(id) {
		return store.Project{}, fmt.Errorf("create project: %q is not a valid project id (1-64 of a-z, 0-9, '-', '_')", id)
	}
	if _, err := a.store.Project(ctx, id); err == nil {
		return store.Project{}, fmt.Errorf("create project: project %q already exists", id)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Project{}, fmt.Errorf("create project: %w", err)
	}
	if strings.TrimSpace(name) == "" {
		name = id
	}
	p := store.Project{ID: id, Name: strings.TrimSpace(name), CreatedAt: a.cfg.Now().UTC()}
	return p, a.store.PutProject(ctx, p)
}
