-- Tier-2 judge jobs: the durable queue of LLM-judge evaluations. The job is a JSON document;
-- status, next_attempt_ns, finished_ns and cost_usd are columns (authoritative) for
-- claiming, listing and the daily budget.
CREATE TABLE judge_jobs (
    id              text COLLATE "C" NOT NULL PRIMARY KEY,
    project_id      text COLLATE "C" NOT NULL,
    trace_id        text COLLATE "C" NOT NULL,
    status          text COLLATE "C" NOT NULL,
    content_hash    text COLLATE "C" NOT NULL,
    next_attempt_ns bigint NOT NULL,
    created_ns      bigint NOT NULL,
    finished_ns     bigint NOT NULL,
    cost_usd        double precision NOT NULL,
    doc             jsonb NOT NULL
);
CREATE INDEX judge_jobs_due ON judge_jobs (next_attempt_ns) WHERE status IN ('pending', 'running');
CREATE INDEX judge_jobs_project ON judge_jobs (project_id, created_ns, id);
CREATE INDEX judge_jobs_finished ON judge_jobs (project_id, finished_ns);
