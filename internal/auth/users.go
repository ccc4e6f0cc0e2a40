package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/use-lumina/lumina/internal/store"
)

// SessionCookie is the dashboard login cookie: an opaque random token whose SHA-256 is the
// session's key in the store.
const SessionCookie = "lumina_session"

// MinPasswordLength is the shortest password accepted (NIST SP 800-63B's minimum).
const MinPasswordLength = 8

// bcryptCost is bcrypt's work factor for passwords.
const bcryptCost = 12

// dummyHash is compared against when a login names no user, so that a missing user and a
// wrong password take the same time.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("lumina-no-such-user"), bcryptCost)
	return h
})

// ErrBadLogin is a failed login: unknown email or wrong password, never saying which.
var ErrBadLogin = errors.New("wrong email or password")

// CreateUser adds a dashboard user. An admin may use every project; any other user only
// the projects listed, which must exist.
func (a *Auth) CreateUser(ctx context.Context, email, password string, admin bool, projects []string) (store.User, error) {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != strings.TrimSpace(email) {
		return store.User{}, fmt.Errorf("create user: %q is not an email address", email)
	}
	if len(password) < MinPasswordLength {
		return store.User{}, fmt.Errorf("create user: a password needs at least %d characters", MinPasswordLength)
	}
	if len(password) > 72 {
		return store.User{}, errors.New("create user: a password has at most 72 bytes (bcrypt's limit)")
	}
	if !admin && len(projects) == 0 {
		return store.User{}, errors.New("create user: a user who is not an admin needs at least one project")
	}
	for _, p := range projects {
		if _, err := a.store.Project(ctx, p); err != nil {
			return store.User{}, fmt.Errorf("create user: %w", err)
		}
	}
	if _, err := a.store.UserByEmail(ctx, addr.Address); err == nil {
		return store.User{}, fmt.Errorf("create user: %s already has an account", addr.Address)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.User{}, fmt.Errorf("create user: %w", err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return store.User{}, fmt.Errorf("create user: hash password: %w", err)
	}
	u := store.User{
		ID: "user_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", ""), Email: strings.ToLower(addr.Address),
		PasswordHash: hash, Admin: admin, Projects: slices.Clip(append([]string{}, projects...)), CreatedAt: a.cfg.Now().UTC(),
	}
	if err := a.store.PutUser(ctx, u); err != nil {
		return store.User{}, err
	}
	return u, nil
}

// EnsureAdmin creates an admin with email and password unless a user with that email
// exists (LUMINA_ADMIN_EMAIL and LUMINA_ADMIN_PASSWORD at start-up). It reports whether it
// created one.
func (a *Auth) EnsureAdmin(ctx context.Context, email, password string) (bool, error) {
	if _, err := a.store.UserByEmail(ctx, email); err == nil {
		return false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("look up admin %s: %w", email, err)
	}
	if _, err := a.CreateUser(ctx, email, password, true, nil); err != nil {
		return false, err
	}
	return true, nil
}

// Users lists the dashboard users.
func (a *Auth) Users(ctx context.Context) ([]store.User, error) { return a.store.Users(ctx) }

// Login checks an email and password and opens a session in the user's first project
// (an admin's first is "default"). It returns the session token for the cookie.
func (a *Auth) Login(ctx context.Context, email, password string) (string, store.Session, error) {
	u, err := a.store.UserByEmail(ctx, strings.TrimSpace(email))
	if errors.Is(err, store.ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return "", store.Session{}, ErrBadLogin
	}
	if err != nil {
		return "", store.Session{}, fmt.Errorf("log in: %w", err)
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(password)) != nil {
		return "", store.Session{}, ErrBadLogin
	}
	project := DefaultProject
	if !u.Admin {
		project = u.Projects[0]
	}
	token := newSecret()
	hash := sha256.Sum256([]byte(token))
	now := a.cfg.Now().UTC()
	s := store.Session{Hash: hash[:], UserID: u.ID, ProjectID: project, CreatedAt: now, ExpiresAt: now.Add(a.cfg.SessionTTL)}
	if err := a.store.PutSession(ctx, s); err != nil {
		return "", store.Session{}, fmt.Errorf("log in: %w", err)
	}
	// Expired sessions are refused anyway; each sign-in sweeps them out of the table.
	if _, err := a.store.DeleteExpiredSessions(ctx, now); err != nil {
		a.log.Warn("delete expired sessions", "err", err)
	}
	return token, s, nil
}

// Logout ends the session of token; an unknown token is no error.
func (a *Auth) Logout(ctx context.Context, token string) error {
	hash := sha256.Sum256([]byte(token))
	return a.store.DeleteSession(ctx, hash[:])
}

// SwitchProject moves the session of token to project, when its user may use it.
func (a *Auth) SwitchProject(ctx context.Context, token, project string) error {
	p, err := a.session(ctx, token)
	if err != nil {
		return err
	}
	u, err := a.store.User(ctx, p.UserID)
	if err != nil {
		return fmt.Errorf("switch project: %w", err)
	}
	if _, err := a.store.Project(ctx, project); err != nil || !mayUse(u, project) {
		return fmt.Errorf("switch project: %w", store.ErrNotFound)
	}
	hash := sha256.Sum256([]byte(token))
	s, err := a.store.SessionByHash(ctx, hash[:])
	if err != nil {
		return fmt.Errorf("switch project: %w", err)
	}
	s.ProjectID = project
	return a.store.PutSession(ctx, s)
}

// ProjectsOf lists the projects a principal may use: every project for an admin, the
// user's for a user, the key's one project for an API key.
func (a *Auth) ProjectsOf(ctx context.Context, p Principal) ([]store.Project, error) {
	all, err := a.store.Projects(ctx)
	if err != nil {
		return nil, err
	}
	if p.Method == "session" && !p.Admin {
		u, err := a.store.User(ctx, p.UserID)
		if err != nil {
			return nil, err
		}
		return slices.DeleteFunc(all, func(pr store.Project) bool { return !mayUse(u, pr.ID) }), nil
	}
	if p.Method == "api_key" || (p.Method == "none") {
		return slices.DeleteFunc(all, func(pr store.Project) bool { return pr.ID != p.ProjectID }), nil
	}
	return all, nil
}

func mayUse(u store.User, project string) bool {
	return u.Admin || slices.Contains(u.Projects, project)
}

// session resolves a session token. The user is read on every request, so a user whose
// access to the session's project was taken away loses it at once.
func (a *Auth) session(ctx context.Context, token string) (Principal, error) {
	hash := sha256.Sum256([]byte(token))
	s, err := a.store.SessionByHash(ctx, hash[:])
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, fmt.Errorf("%w: the session ended; sign in again", ErrUnauthenticated)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("check session: %w", err)
	}
	if !a.cfg.Now().Before(s.ExpiresAt) {
		return Principal{}, fmt.Errorf("%w: the session expired; sign in again", ErrUnauthenticated)
	}
	u, err := a.store.User(ctx, s.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !mayUse(u, s.ProjectID)) {
		return Principal{}, fmt.Errorf("%w: the session's user or project access is gone; sign in again", ErrUnauthenticated)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("check session: %w", err)
	}
	return Principal{ProjectID: s.ProjectID, Method: "session", UserID: u.ID, Email: u.Email, Admin: u.Admin}, nil
}

// PruneSessions removes expired sessions.
func (a *Auth) PruneSessions(ctx context.Context) (int, error) {
	return a.store.DeleteExpiredSessions(ctx, a.cfg.Now())
}
