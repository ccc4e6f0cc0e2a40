-- Replay (internal/replay): sets of frozen LLM calls, runs over them and per-item results.
-- Documents are JSON owned by internal/replay, kept as bytes (prompts may hold characters
-- jsonb rejects); the columns are what queries key, filter and order on. Numbered from 0200
-- so that replay migrations never collide with others'.

CREATE TABLE replay_sets (
    project_id text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    created_ns bigint NOT NULL,
    doc        bytea NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX replay_sets_created ON replay_sets (project_id, created_ns, id);

CREATE TABLE replay_items (
    project_id text COLLATE "C" NOT NULL,
    set_id     text COLLATE "C" NOT NULL,
    idx        integer NOT NULL,
    doc        bytea NOT NULL,
    PRIMARY KEY (project_id, set_id, idx)
);

CREATE TABLE replay_runs (
    project_id text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    set_id     text COLLATE "C" NOT NULL,
    status     text COLLATE "C" NOT NULL,
    created_ns bigint NOT NULL,
    doc        bytea NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX replay_runs_set ON replay_runs (project_id, set_id, created_ns);
CREATE INDEX replay_runs_status ON replay_runs (status, created_ns);

CREATE TABLE replay_results (
    project_id text COLLATE "C" NOT NULL,
    run_id     text COLLATE "C" NOT NULL,
    idx        integer NOT NULL,
    doc        bytea NOT NULL,
    PRIMARY KEY (project_id, run_id, idx)
);
