-- Alerts shared by several worker processes (issue #6): at most one open alert per project
-- and dedup key, enforced here; repeat counts and last-seen times that every engine adds to
-- rather than overwrites; and budget spend accumulated in one row per period and scope.

ALTER TABLE alerts ADD COLUMN dedup_key text COLLATE "C" NOT NULL DEFAULT '';
-- repeat_count only grows, and last_seen_ns keeps the latest: see store.AlertStore.RecordAlert.
ALTER TABLE alerts ADD COLUMN repeat_count bigint NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN last_seen_ns bigint NOT NULL DEFAULT 0;
UPDATE alerts SET dedup_key = coalesce(doc->>'dedup_key', ''),
    repeat_count = coalesce((doc->>'count')::bigint, 0);

-- Two processes could open one dedup key before this migration: the oldest stays open and
-- the others are resolved as duplicates.
UPDATE alerts a SET status_rank = 2, resolved_ns = (extract(epoch FROM now()) * 1e9)::bigint,
    resolved_by = 'duplicate'
WHERE a.status_rank < 2 AND a.dedup_key <> '' AND EXISTS (
    SELECT 1 FROM alerts o WHERE o.project_id = a.project_id AND o.dedup_key = a.dedup_key
        AND o.status_rank < 2 AND (o.fired_ns, o.id) < (a.fired_ns, a.id));

CREATE UNIQUE INDEX alerts_open_dedup ON alerts (project_id, dedup_key)
    WHERE status_rank < 2 AND dedup_key <> '';

-- Budget spend: one accumulator per project, period ("day", "month"), period start and
-- scope (empty service, model and user for the total), added to atomically by every engine.
CREATE TABLE alert_spend (
    project_id text COLLATE "C" NOT NULL,
    period     text COLLATE "C" NOT NULL,
    start_ns   bigint NOT NULL,
    service    text COLLATE "C" NOT NULL,
    model      text COLLATE "C" NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    requests   bigint NOT NULL DEFAULT 0,
    usd        double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, period, start_ns, service, model, user_id)
);
CREATE INDEX alert_spend_start ON alert_spend (start_ns);

-- Spend saved before this migration lived in baseline rows: carry the current ones over.
INSERT INTO alert_spend (project_id, period, start_ns, service, model, user_id, requests, usd)
SELECT project_id, substr(metric, 7), (extract(epoch FROM (doc->>'window_start')::timestamptz) * 1e9)::bigint,
    service, model, CASE WHEN endpoint LIKE 'user:%' THEN substr(endpoint, 6) ELSE '' END,
    coalesce((doc->>'count')::bigint, 0), coalesce((doc->>'sum')::double precision, 0)
FROM alert_baselines WHERE metric IN ('spend_day', 'spend_month')
ON CONFLICT DO NOTHING;

-- Each worker process's share of every baseline (owner is the process's slot), merged by
-- the others on their refresh; arrived_ns is when the owner last received a request of the key.
CREATE TABLE alert_baseline_parts (
    project_id text COLLATE "C" NOT NULL,
    service    text COLLATE "C" NOT NULL,
    endpoint   text COLLATE "C" NOT NULL,
    model      text COLLATE "C" NOT NULL,
    metric     text COLLATE "C" NOT NULL,
    owner      text COLLATE "C" NOT NULL,
    arrived_ns bigint NOT NULL,
    updated_ns bigint NOT NULL,
    state      bytea NOT NULL,
    PRIMARY KEY (project_id, service, endpoint, model, metric, owner)
);
CREATE INDEX alert_baseline_parts_updated ON alert_baseline_parts (updated_ns);
