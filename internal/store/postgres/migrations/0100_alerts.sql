-- Alerts (internal/alert): rules, alerts, baseline snapshots, channels and the delivery
-- outbox. Documents are jsonb; the columns are what queries filter and order on. Numbered
-- from 0100 so that alert migrations never collide with the core schema's.

CREATE TABLE alert_rules (
    project_id text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    doc        jsonb NOT NULL,
    PRIMARY KEY (project_id, id)
);

-- status_rank (0 firing, 1 acknowledged, 2 resolved) only grows: see store.AlertStore.PutAlert.
CREATE TABLE alerts (
    project_id      text COLLATE "C" NOT NULL,
    id              text COLLATE "C" NOT NULL,
    fired_ns        bigint NOT NULL,
    status_rank     smallint NOT NULL,
    type            text COLLATE "C" NOT NULL,
    severity        text COLLATE "C" NOT NULL,
    service         text COLLATE "C" NOT NULL,
    acknowledged_ns bigint NOT NULL DEFAULT 0,
    resolved_ns     bigint NOT NULL DEFAULT 0,
    resolved_by     text NOT NULL DEFAULT '',
    doc             jsonb NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX alerts_fired ON alerts (project_id, fired_ns, id);
CREATE INDEX alerts_open ON alerts (status_rank) WHERE status_rank < 2;

CREATE TABLE alert_baselines (
    project_id text COLLATE "C" NOT NULL,
    service    text COLLATE "C" NOT NULL,
    endpoint   text COLLATE "C" NOT NULL,
    model      text COLLATE "C" NOT NULL,
    metric     text COLLATE "C" NOT NULL,
    doc        jsonb NOT NULL,
    state      bytea,
    PRIMARY KEY (project_id, service, endpoint, model, metric)
);

CREATE TABLE alert_channels (
    project_id text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    doc        jsonb NOT NULL,
    PRIMARY KEY (project_id, id)
);

CREATE TABLE alert_deliveries (
    id              text COLLATE "C" NOT NULL PRIMARY KEY,
    project_id      text COLLATE "C" NOT NULL,
    alert_id        text COLLATE "C" NOT NULL,
    status          text COLLATE "C" NOT NULL,
    next_attempt_ns bigint NOT NULL,
    created_ns      bigint NOT NULL,
    doc             jsonb NOT NULL
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_ns) WHERE status = 'pending';
CREATE INDEX alert_deliveries_alert ON alert_deliveries (project_id, alert_id, created_ns);
