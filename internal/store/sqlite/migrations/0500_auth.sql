-- Auth (internal/auth): projects, API keys, dashboard users and login sessions. Secrets are
-- never stored: keys and session tokens as SHA-256 hashes, passwords as bcrypt hashes.
-- Numbered from 0500 so that auth migrations never collide with others'.

CREATE TABLE projects (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL -- Unix nanoseconds
) WITHOUT ROWID;
INSERT INTO projects (id, name, created_at) VALUES ('default', 'Default', 0);

CREATE TABLE api_keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    project_id TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    prefix     TEXT    NOT NULL,
    hash       BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used  INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX api_keys_project ON api_keys (project_id, created_at);

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE, -- lower case
    password_hash BLOB    NOT NULL,
    admin         INTEGER NOT NULL,
    projects      TEXT    NOT NULL, -- JSON array of project ids
    created_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE sessions (
    hash       BLOB    NOT NULL PRIMARY KEY,
    user_id    TEXT    NOT NULL,
    project_id TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expiry ON sessions (expires_at);
