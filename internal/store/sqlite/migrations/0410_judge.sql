-- Tier-2 judge jobs: the durable queue of LLM-judge evaluations. The job is a JSON document;
-- status, next_attempt, finished_at and cost_usd are columns (authoritative) for claiming,
-- listing and the daily budget.
CREATE TABLE judge_jobs (
    id           TEXT    NOT NULL PRIMARY KEY,
    project_id   TEXT    NOT NULL,
    trace_id     TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    next_attempt INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL,
    cost_usd     REAL    NOT NULL,
    doc          TEXT    NOT NULL
);
CREATE INDEX judge_jobs_due ON judge_jobs (next_attempt) WHERE status IN ('pending', 'running');
CREATE INDEX judge_jobs_project ON judge_jobs (project_id, created_at, id);
CREATE INDEX judge_jobs_finished ON judge_jobs (project_id, finished_at);
