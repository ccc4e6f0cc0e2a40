-- Replay (internal/replay): sets of frozen LLM calls, runs over them and per-item results.
-- Documents are JSON owned by internal/replay; the columns are what queries key, filter and
-- order on. Numbered from 0200 so that replay migrations never collide with others'.

CREATE TABLE replay_sets (
    project_id TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    created_at INTEGER NOT NULL, -- Unix nanoseconds
    doc        BLOB    NOT NULL,
    PRIMARY KEY (project_id, id)
) WITHOUT ROWID;
CREATE INDEX replay_sets_created ON replay_sets (project_id, created_at, id);

CREATE TABLE replay_items (
    project_id TEXT    NOT NULL,
    set_id     TEXT    NOT NULL,
    idx        INTEGER NOT NULL,
    doc        BLOB    NOT NULL,
    PRIMARY KEY (project_id, set_id, idx)
) WITHOUT ROWID;

CREATE TABLE replay_runs (
    project_id TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    set_id     TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    created_at INTEGER NOT NULL, -- Unix nanoseconds
    doc        BLOB    NOT NULL,
    PRIMARY KEY (project_id, id)
) WITHOUT ROWID;
CREATE INDEX replay_runs_set ON replay_runs (project_id, set_id, created_at);
CREATE INDEX replay_runs_status ON replay_runs (status, created_at);

CREATE TABLE replay_results (
    project_id TEXT    NOT NULL,
    run_id     TEXT    NOT NULL,
    idx        INTEGER NOT NULL,
    doc        BLOB    NOT NULL,
    PRIMARY KEY (project_id, run_id, idx)
) WITHOUT ROWID;
