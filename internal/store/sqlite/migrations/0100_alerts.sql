-- Alerts (internal/alert): rules, alerts, baseline snapshots, channels and the delivery
-- outbox. Documents are JSON text; the columns are what queries filter and order on.
-- Numbered from 0100 so that alert migrations never collide with the core schema's.

CREATE TABLE alert_rules (
    project_id TEXT NOT NULL,
    id         TEXT NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (project_id, id)
);

-- status_rank (0 firing, 1 acknowledged, 2 resolved) only grows: see store.AlertStore.PutAlert.
CREATE TABLE alerts (
    project_id      TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    fired_at        INTEGER NOT NULL,
    status_rank     INTEGER NOT NULL,
    type            TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    service         TEXT    NOT NULL,
    acknowledged_at INTEGER NOT NULL DEFAULT 0,
    resolved_at     INTEGER NOT NULL DEFAULT 0,
    resolved_by     TEXT    NOT NULL DEFAULT '',
    doc             TEXT    NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX alerts_fired ON alerts (project_id, fired_at, id);
CREATE INDEX alerts_open ON alerts (status_rank) WHERE status_rank < 2;

CREATE TABLE alert_baselines (
    project_id TEXT NOT NULL,
    service    TEXT NOT NULL,
    endpoint   TEXT NOT NULL,
    model      TEXT NOT NULL,
    metric     TEXT NOT NULL,
    doc        TEXT NOT NULL,
    state      BLOB,
    PRIMARY KEY (project_id, service, endpoint, model, metric)
);

CREATE TABLE alert_channels (
    project_id TEXT NOT NULL,
    id         TEXT NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (project_id, id)
);

CREATE TABLE alert_deliveries (
    id           TEXT    NOT NULL PRIMARY KEY,
    project_id   TEXT    NOT NULL,
    alert_id     TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    next_attempt INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    doc          TEXT    NOT NULL
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt) WHERE status = 'pending';
CREATE INDEX alert_deliveries_alert ON alert_deliveries (project_id, alert_id, created_at);
