package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/store"
)

var _ store.AuthStore = (*Store)(nil)

// PutProject implements store.AuthStore.
func (s *Store) PutProject(ctx context.Context, p store.Project) error {
	if p.ID == "" {
		return errors.New("put project: a project needs an id")
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO projects (id, name, created_ns) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name`, p.ID, p.Name, alertNS(p.CreatedAt)); err != nil {
		return fmt.Errorf("put project %q: %w", p.ID, err)
	}
	return nil
}

func scanProject(r pgx.CollectableRow) (store.Project, error) {
	var (
		p       store.Project
		created int64
	)
	err := r.Scan(&p.ID, &p.Name, &created)
	p.CreatedAt = alertTime(created)
	return p, err
}

// Project implements store.AuthStore.
func (s *Store) Project(ctx context.Context, id string) (store.Project, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, name, created_ns FROM projects WHERE id = $1`, id)
	p, err := pgx.CollectExactlyOneRow(rows, scanProject)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("project %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("read project %q: %w", id, err)
	}
	return p, nil
}

// Projects implements store.AuthStore.
func (s *Store) Projects(ctx context.Context) ([]store.Project, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, name, created_ns FROM projects ORDER BY id`)
	out, err := pgx.CollectRows(rows, scanProject)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return out, nil
}

// PutAPIKey implements store.AuthStore.
func (s *Store) PutAPIKey(ctx context.Context, k store.APIKey) error {
	if k.ID == "" || k.ProjectID == "" || len(k.Hash) == 0 {
		return fmt.Errorf("put api key %q: a key needs an id, a project and a hash", k.ID)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO api_keys (id, project_id, name, prefix, hash, created_ns, last_used_ns, revoked_ns)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, k.ID, k.ProjectID, k.Name, k.Prefix, k.Hash, alertNS(k.CreatedAt),
		optNS(k.LastUsed), optNS(k.RevokedAt)); err != nil {
		return fmt.Errorf("put api key %q: %w", k.ID, err)
	}
	return nil
}

const keyColumns = `id, project_id, name, prefix, hash, created_ns, last_used_ns, revoked_ns`

func scanKey(r pgx.CollectableRow) (store.APIKey, error) {
	var (
		k                      store.APIKey
		created, used, revoked int64
	)
	err := r.Scan(&k.ID, &k.ProjectID, &k.Name, &k.Prefix, &k.Hash, &created, &used, &revoked)
	k.CreatedAt, k.LastUsed, k.RevokedAt = alertTime(created), optTime(used), optTime(revoked)
	return k, err
}

// APIKeyByHash implements store.AuthStore.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (store.APIKey, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = $1`, hash)
	k, err := pgx.CollectExactlyOneRow(rows, scanKey)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, fmt.Errorf("api key: %w", store.ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("read api key: %w", err)
	}
	return k, nil
}

// APIKeys implements store.AuthStore.
func (s *Store) APIKeys(ctx context.Context, projectID string) ([]store.APIKey, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE project_id = $1
		ORDER BY created_ns DESC, id DESC`, projectID)
	out, err := pgx.CollectRows(rows, scanKey)
	if err != nil {
		return nil, fmt.Errorf("list api keys of %q: %w", projectID, err)
	}
	return out, nil
}

// RevokeAPIKey implements store.AuthStore.
func (s *Store) RevokeAPIKey(ctx context.Context, projectID, id string, t time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET revoked_ns = CASE WHEN revoked_ns = 0 THEN $1 ELSE revoked_ns END
		WHERE project_id = $2 AND id = $3`, alertNS(t), projectID, id)
	if err != nil {
		return fmt.Errorf("revoke api key %q: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke api key %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// TouchAPIKey implements store.AuthStore.
func (s *Store) TouchAPIKey(ctx context.Context, id string, t time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_ns = $1 WHERE id = $2 AND last_used_ns < $1`,
		alertNS(t), id); err != nil {
		return fmt.Errorf("touch api key %q: %w", id, err)
	}
	return nil
}

// PutUser implements store.AuthStore.
func (s *Store) PutUser(ctx context.Context, u store.User) error {
	if u.ID == "" || u.Email == "" || len(u.PasswordHash) == 0 {
		return fmt.Errorf("put user %q: a user needs an id, an email and a password hash", u.ID)
	}
	projects := u.Projects
	if projects == nil {
		projects = []string{}
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO users (id, email, password_hash, admin, projects, created_ns)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email,
		password_hash = EXCLUDED.password_hash, admin = EXCLUDED.admin, projects = EXCLUDED.projects`,
		u.ID, strings.ToLower(u.Email), u.PasswordHash, u.Admin, projects, alertNS(u.CreatedAt)); err != nil {
		return fmt.Errorf("put user %q: %w", u.Email, err)
	}
	return nil
}

const userColumns = `id, email, password_hash, admin, projects, created_ns`

func scanUser(r pgx.CollectableRow) (store.User, error) {
	var (
		u       store.User
		created int64
	)
	err := r.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Admin, &u.Projects, &created)
	u.CreatedAt = alertTime(created)
	return u, err
}

func (s *Store) oneUser(ctx context.Context, what, where string, arg any) (store.User, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, arg)
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, fmt.Errorf("user %q: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("read user %q: %w", what, err)
	}
	return u, nil
}

// UserByEmail implements store.AuthStore.
func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return s.oneUser(ctx, email, `email = $1`, strings.ToLower(email))
}

// User implements store.AuthStore.
func (s *Store) User(ctx context.Context, id string) (store.User, error) {
	return s.oneUser(ctx, id, `id = $1`, id)
}

// Users implements store.AuthStore.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
	out, err := pgx.CollectRows(rows, scanUser)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// PutSession implements store.AuthStore.
func (s *Store) PutSession(ctx context.Context, se store.Session) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO sessions (hash, user_id, project_id, created_ns, expires_ns)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hash) DO UPDATE SET project_id = EXCLUDED.project_id, expires_ns = EXCLUDED.expires_ns`,
		se.Hash, se.UserID, se.ProjectID, alertNS(se.CreatedAt), alertNS(se.ExpiresAt)); err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	return nil
}

// SessionByHash implements store.AuthStore.
func (s *Store) SessionByHash(ctx context.Context, hash []byte) (store.Session, error) {
	rows, _ := s.pool.Query(ctx, `SELECT hash, user_id, project_id, created_ns, expires_ns FROM sessions WHERE hash = $1`, hash)
	se, err := pgx.CollectExactlyOneRow(rows, func(r pgx.CollectableRow) (store.Session, error) {
		var (
			se               store.Session
			created, expires int64
		)
		err := r.Scan(&se.Hash, &se.UserID, &se.ProjectID, &created, &expires)
		se.CreatedAt, se.ExpiresAt = alertTime(created), alertTime(expires)
		return se, err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return se, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return se, fmt.Errorf("read session: %w", err)
	}
	return se, nil
}

// DeleteSession implements store.AuthStore.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions implements store.AuthStore.
func (s *Store) DeleteExpiredSessions(ctx context.Context, t time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_ns < $1`, alertNS(t))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// optNS is an optional time in Unix nanoseconds, 0 for nil.
func optNS(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return alertNS(*t)
}

// optTime is the inverse of optNS.
func optTime(ns int64) *time.Time {
	if ns == 0 {
		return nil
	}
	t := alertTime(ns)
	return &t
}
