-- Alerts shared by several engines (issue #6; one process on SQLite, but the contract is
-- the same): at most one open alert per project and dedup key, enforced here; repeat counts
-- and last-seen times that engines add to rather than overwrite; and budget spend
-- accumulated in one row per period and scope.

ALTER TABLE alerts ADD COLUMN dedup_key TEXT NOT NULL DEFAULT '';
-- repeat_count only grows, and last_seen_at keeps the latest: see store.AlertStore.RecordAlert.
ALTER TABLE alerts ADD COLUMN repeat_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE alerts SET dedup_key = coalesce(json_extract(doc, '$.dedup_key'), ''),
    repeat_count = coalesce(json_extract(doc, '$.count'), 0);

UPDATE alerts SET status_rank = 2, resolved_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) * 1000000, resolved_by = 'duplicate'
WHERE status_rank < 2 AND dedup_key <> '' AND EXISTS (
    SELECT 1 FROM alerts o WHERE o.project_id = alerts.project_id AND o.dedup_key = alerts.dedup_key
        AND o.status_rank < 2 AND (o.fired_at < alerts.fired_at OR (o.fired_at = alerts.fired_at AND o.id < alerts.id)));

CREATE UNIQUE INDEX alerts_open_dedup ON alerts (project_id, dedup_key)
    WHERE status_rank < 2 AND dedup_key <> '';

CREATE TABLE alert_spend (
    project_id TEXT    NOT NULL,
    period     TEXT    NOT NULL,
    start_ns   INTEGER NOT NULL,
    service    TEXT    NOT NULL,
    model      TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    requests   INTEGER NOT NULL DEFAULT 0,
    usd        REAL    NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, period, start_ns, service, model, user_id)
);
CREATE INDEX alert_spend_start ON alert_spend (start_ns);

INSERT OR IGNORE INTO alert_spend (project_id, period, start_ns, service, model, user_id, requests, usd)
SELECT project_id, substr(metric, 7), CAST(strftime('%s', json_extract(doc, '$.window_start')) AS INTEGER) * 1000000000,
    service, model, CASE WHEN endpoint LIKE 'user:%' THEN substr(endpoint, 6) ELSE '' END,
    coalesce(json_extract(doc, '$.count'), 0), coalesce(json_extract(doc, '$.sum'), 0)
FROM alert_baselines WHERE metric IN ('spend_day', 'spend_month');

CREATE TABLE alert_baseline_parts (
    project_id TEXT    NOT NULL,
    service    TEXT    NOT NULL,
    endpoint   TEXT    NOT NULL,
    model      TEXT    NOT NULL,
    metric     TEXT    NOT NULL,
    owner      TEXT    NOT NULL,
    arrived_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL,
    state      BLOB    NOT NULL,
    PRIMARY KEY (project_id, service, endpoint, model, metric, owner)
);
CREATE INDEX alert_baseline_parts_updated ON alert_baseline_parts (updated_ns);
