-- Auth (internal/auth): projects, API keys, dashboard users and login sessions. Secrets are
-- never stored: keys and session tokens as SHA-256 hashes, passwords as bcrypt hashes.
-- Numbered from 0500 so that auth migrations never collide with others'.

CREATE TABLE projects (
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    created_ns bigint NOT NULL
);
INSERT INTO projects (id, name, created_ns) VALUES ('default', 'Default', 0);

CREATE TABLE api_keys (
    id         text COLLATE "C" PRIMARY KEY,
    project_id text COLLATE "C" NOT NULL,
    name       text NOT NULL,
    prefix     text NOT NULL,
    hash       bytea NOT NULL UNIQUE,
    created_ns bigint NOT NULL,
    last_used_ns bigint NOT NULL DEFAULT 0,
    revoked_ns bigint NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_project ON api_keys (project_id, created_ns);

CREATE TABLE users (
    id            text COLLATE "C" PRIMARY KEY,
    email         text NOT NULL UNIQUE, -- lower case
    password_hash bytea NOT NULL,
    admin         boolean NOT NULL,
    projects      text[] NOT NULL,
    created_ns    bigint NOT NULL
);

CREATE TABLE sessions (
    hash       bytea PRIMARY KEY,
    user_id    text COLLATE "C" NOT NULL,
    project_id text COLLATE "C" NOT NULL,
    created_ns bigint NOT NULL,
    expires_ns bigint NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_ns);
