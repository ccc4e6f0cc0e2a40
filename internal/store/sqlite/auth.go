package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

var _ store.AuthStore = (*Store)(nil)

// PutProject implements store.AuthStore.
func (s *Store) PutProject(ctx context.Context, p store.Project) error {
	if p.ID == "" {
		return errors.New("put project: a project needs an id")
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name`, p.ID, p.Name, nanos(p.CreatedAt)); err != nil {
		return fmt.Errorf("put project %q: %w", p.ID, err)
	}
	return nil
}

// Project implements store.AuthStore.
func (s *Store) Project(ctx context.Context, id string) (store.Project, error) {
	var (
		p       store.Project
		created int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT id, name, created_at FROM projects WHERE id = ?`, id).Scan(&p.ID, &p.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("project %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("read project %q: %w", id, err)
	}
	p.CreatedAt = fromNanos(created)
	return p, nil
}

// Projects implements store.AuthStore.
func (s *Store) Projects(ctx context.Context) ([]store.Project, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, created_at FROM projects ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	defer rows.Close()
	var out []store.Project
	for rows.Next() {
		var (
			p       store.Project
			created int64
		)
		if err := rows.Scan(&p.ID, &p.Name, &created); err != nil {
			return nil, fmt.Errorf("list projects: %w", err)
		}
		p.CreatedAt = fromNanos(created)
		out = append(out, p)
	}
	return out, rows.Err()
}

// PutAPIKey implements store.AuthStore.
func (s *Store) PutAPIKey(ctx context.Context, k store.APIKey) error {
	if k.ID == "" || k.ProjectID == "" || len(k.Hash) == 0 {
		return fmt.Errorf("put api key %q: a key needs an id, a project and a hash", k.ID)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO api_keys (id, project_id, name, prefix, hash, created_at, last_used, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, k.ID, k.ProjectID, k.Name, k.Prefix, k.Hash, nanos(k.CreatedAt),
		optNanos(k.LastUsed), optNanos(k.RevokedAt)); err != nil {
		return fmt.Errorf("put api key %q: %w", k.ID, err)
	}
	return nil
}

const keyColumns = `id, project_id, name, prefix, hash, created_at, last_used, revoked_at`

func scanKey(scan func(...any) error) (store.APIKey, error) {
	var (
		k                      store.APIKey
		created, used, revoked int64
	)
	if err := scan(&k.ID, &k.ProjectID, &k.Name, &k.Prefix, &k.Hash, &created, &used, &revoked); err != nil {
		return k, err
	}
	k.CreatedAt, k.LastUsed, k.RevokedAt = fromNanos(created), optTime(used), optTime(revoked)
	return k, nil
}

// APIKeyByHash implements store.AuthStore.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (store.APIKey, error) {
	k, err := scanKey(s.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return k, fmt.Errorf("api key: %w", store.ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("read api key: %w", err)
	}
	return k, nil
}

// APIKeys implements store.AuthStore.
func (s *Store) APIKeys(ctx context.Context, projectID string) ([]store.APIKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE project_id = ?
		ORDER BY created_at DESC, id DESC`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list api keys of %q: %w", projectID, err)
	}
	defer rows.Close()
	var out []store.APIKey
	for rows.Next() {
		k, err := scanKey(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("list api keys of %q: %w", projectID, err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey implements store.AuthStore.
func (s *Store) RevokeAPIKey(ctx context.Context, projectID, id string, t time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END
		WHERE project_id = ? AND id = ?`, nanos(t), projectID, id)
	if err != nil {
		return fmt.Errorf("revoke api key %q: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("revoke api key %q: %w", id, errors.Join(store.ErrNotFound, err))
	}
	return nil
}

// TouchAPIKey implements store.AuthStore.
func (s *Store) TouchAPIKey(ctx context.Context, id string, t time.Time) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE api_keys SET last_used = ? WHERE id = ? AND last_used < ?`,
		nanos(t), id, nanos(t)); err != nil {
		return fmt.Errorf("touch api key %q: %w", id, err)
	}
	return nil
}

// PutUser implements store.AuthStore.
func (s *Store) PutUser(ctx context.Context, u store.User) error {
	if u.ID == "" || u.Email == "" || len(u.PasswordHash) == 0 {
		return fmt.Errorf("put user %q: a user needs an id, an email and a password hash", u.ID)
	}
	projects, err := json.Marshal(nonNil(u.Projects))
	if err != nil {
		return fmt.Errorf("put user %q: %w", u.ID, err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO users (id, email, password_hash, admin, projects, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET email = excluded.email,
		password_hash = excluded.password_hash, admin = excluded.admin, projects = excluded.projects`,
		u.ID, strings.ToLower(u.Email), u.PasswordHash, boolInt(u.Admin), string(projects), nanos(u.CreatedAt)); err != nil {
		return fmt.Errorf("put user %q: %w", u.Email, err)
	}
	return nil
}

const userColumns = `id, email, password_hash, admin, projects, created_at`

func scanUser(scan func(...any) error) (store.User, error) {
	var (
		u        store.User
		admin    int
		projects string
		created  int64
	)
	if err := scan(&u.ID, &u.Email, &u.PasswordHash, &admin, &projects, &created); err != nil {
		return u, err
	}
	if err := json.Unmarshal([]byte(projects), &u.Projects); err != nil {
		return u, fmt.Errorf("decode projects: %w", err)
	}
	u.Admin, u.CreatedAt = admin != 0, fromNanos(created)
	return u, nil
}

func (s *Store) oneUser(ctx context.Context, what, where string, arg any) (store.User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, arg).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %q: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("read user %q: %w", what, err)
	}
	return u, nil
}

// UserByEmail implements store.AuthStore.
func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return s.oneUser(ctx, email, `email = ?`, strings.ToLower(email))
}

// User implements store.AuthStore.
func (s *Store) User(ctx context.Context, id string) (store.User, error) {
	return s.oneUser(ctx, id, `id = ?`, id)
}

// Users implements store.AuthStore.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// PutSession implements store.AuthStore.
func (s *Store) PutSession(ctx context.Context, se store.Session) error {
	if _, err := s.w.ExecContext(ctx, `INSERT INTO sessions (hash, user_id, project_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash) DO UPDATE SET project_id = excluded.project_id, expires_at = excluded.expires_at`,
		se.Hash, se.UserID, se.ProjectID, nanos(se.CreatedAt), nanos(se.ExpiresAt)); err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	return nil
}

// SessionByHash implements store.AuthStore.
func (s *Store) SessionByHash(ctx context.Context, hash []byte) (store.Session, error) {
	var (
		se               store.Session
		created, expires int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT hash, user_id, project_id, created_at, expires_at FROM sessions WHERE hash = ?`, hash).
		Scan(&se.Hash, &se.UserID, &se.ProjectID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return se, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return se, fmt.Errorf("read session: %w", err)
	}
	se.CreatedAt, se.ExpiresAt = fromNanos(created), fromNanos(expires)
	return se, nil
}

// DeleteSession implements store.AuthStore.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions implements store.AuthStore.
func (s *Store) DeleteExpiredSessions(ctx context.Context, t time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, nanos(t))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// optNanos is an optional time as stored: 0 for nil.
func optNanos(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return nanos(*t)
}

// optTime is the inverse of optNanos.
func optTime(n int64) *time.Time {
	if n == 0 {
		return nil
	}
	t := fromNanos(n)
	return &t
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}
