package store

import (
	"context"
	"time"
)

// AuthStore keeps projects, their API keys, dashboard users and login sessions
// (internal/auth). Secrets never reach it: keys and session tokens are stored as SHA-256
// hashes, passwords as bcrypt hashes.
type AuthStore interface {
	// PutProject creates a project, or renames it when the id exists.
	PutProject(ctx context.Context, p Project) error
	// Project returns one project; ErrNotFound when there is none with that id.
	Project(ctx context.Context, id string) (Project, error)
	// Projects lists every project by id.
	Projects(ctx context.Context) ([]Project, error)

	// PutAPIKey stores a new key. Its hash is unique across projects.
	PutAPIKey(ctx context.Context, k APIKey) error
	// APIKeyByHash finds a key, revoked or not, by the SHA-256 of its secret; ErrNotFound
	// when no key has that hash.
	APIKeyByHash(ctx context.Context, hash []byte) (APIKey, error)
	// APIKeys lists a project's keys, newest first, revoked ones included.
	APIKeys(ctx context.Context, projectID string) ([]APIKey, error)
	// RevokeAPIKey marks a key revoked at t; ErrNotFound when the project has no such key.
	// Revoking a revoked key keeps the first revocation time.
	RevokeAPIKey(ctx context.Context, projectID, id string, t time.Time) error
	// TouchAPIKey records that a key was used at t (only moving last_used forward).
	TouchAPIKey(ctx context.Context, id string, t time.Time) error

	// PutUser creates a user or replaces the one with u.ID. Emails are unique.
	PutUser(ctx context.Context, u User) error
	// UserByEmail finds a user by email (compared in lower case); ErrNotFound when none.
	UserByEmail(ctx context.Context, email string) (User, error)
	// User returns one user by id; ErrNotFound when none.
	User(ctx context.Context, id string) (User, error)
	// Users lists every user by email.
	Users(ctx context.Context) ([]User, error)

	// PutSession stores a login session.
	PutSession(ctx context.Context, s Session) error
	// SessionByHash finds a session by the SHA-256 of its token; ErrNotFound when none
	// (expired sessions are returned: the caller checks ExpiresAt).
	SessionByHash(ctx context.Context, hash []byte) (Session, error)
	// DeleteSession removes a session (logout); no error when it does not exist.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteExpiredSessions removes the sessions that expired before t and reports how many.
	DeleteExpiredSessions(ctx context.Context, t time.Time) (int, error)
}

// Project is a tenant: every span, alert, price and replay set belongs to one.
type Project struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// APIKey is a project's ingestion and API credential. Only the hash of the secret is kept;
// Prefix (its first characters) lets a person tell keys apart.
type APIKey struct {
	ID        string     `json:"id"`
	ProjectID string     `json:"project_id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	Hash      []byte     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// User is a dashboard login. Admins may use every project; other users only Projects.
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	PasswordHash []byte    `json:"-"`
	Admin        bool      `json:"admin"`
	Projects     []string  `json:"projects"`
	CreatedAt    time.Time `json:"created_at"`
}

// Session is a dashboard login session, found by the hash of its cookie's token.
type Session struct {
	Hash      []byte
	UserID    string
	ProjectID string // the project the session works in
	CreatedAt time.Time
	ExpiresAt time.Time
}
