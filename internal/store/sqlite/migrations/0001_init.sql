-- Spans: a rowid table (inserts append) with a unique index on the ids. Clustering on the
-- random trace id instead made ingest three times slower (performance.md §2.7).
-- Times are Unix nanoseconds; 0 stands for the zero time. JSON columns are NULL when absent.
CREATE TABLE spans (
    project_id          TEXT    NOT NULL,
    trace_id            TEXT    NOT NULL,
    span_id             TEXT    NOT NULL,
    parent_span_id      TEXT    NOT NULL,
    trace_state         TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    kind                TEXT    NOT NULL,
    service_name        TEXT    NOT NULL,
    start_time          INTEGER NOT NULL,
    end_time            INTEGER NOT NULL,
    status_code         TEXT    NOT NULL,
    status_message      TEXT    NOT NULL,
    scope_name          TEXT    NOT NULL,
    scope_version       TEXT    NOT NULL,
    resource_schema_url TEXT    NOT NULL,
    scope_schema_url    TEXT    NOT NULL,
    dropped_attributes  INTEGER NOT NULL,
    dropped_events      INTEGER NOT NULL,
    dropped_links       INTEGER NOT NULL,
    attributes          TEXT,
    resource            TEXT,
    events              TEXT,
    links               TEXT,
    -- The GenAI call, promoted for filters and rollups; genai_type is '' for other spans.
    genai_type          TEXT    NOT NULL,
    operation           TEXT    NOT NULL,
    provider            TEXT    NOT NULL,
    model               TEXT    NOT NULL,
    session_id          TEXT    NOT NULL,
    user_id             TEXT    NOT NULL,
    environment         TEXT    NOT NULL,
    input_tokens        INTEGER NOT NULL,
    output_tokens       INTEGER NOT NULL,
    cache_read_tokens   INTEGER NOT NULL,
    cache_write_tokens  INTEGER NOT NULL,
    reasoning_tokens    INTEGER NOT NULL,
    total_tokens        INTEGER NOT NULL,
    usage_reported      INTEGER NOT NULL,
    cost_usd            REAL,
    cost_source         TEXT    NOT NULL,
    -- counted is authoritative: the rollup rewrites it, and reads copy it into the call.
    counted             INTEGER NOT NULL,
    tags                TEXT,
    genai               TEXT
);
CREATE UNIQUE INDEX spans_key ON spans (project_id, trace_id, span_id);
CREATE INDEX spans_start ON spans (project_id, start_time);
CREATE INDEX spans_unpriced ON spans (project_id, start_time) WHERE cost_source = 'unpriced';

-- Trace rollups, recomputed from all of a trace's spans on every write that touches it.
CREATE TABLE traces (
    project_id         TEXT    NOT NULL,
    trace_id           TEXT    NOT NULL,
    service_name       TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    start_time         INTEGER NOT NULL,
    end_time           INTEGER NOT NULL,
    duration           INTEGER NOT NULL,
    span_count         INTEGER NOT NULL,
    error_count        INTEGER NOT NULL,
    llm_call_count     INTEGER NOT NULL,
    status             TEXT    NOT NULL,
    models             TEXT,
    services           TEXT,
    input_tokens       INTEGER NOT NULL,
    output_tokens      INTEGER NOT NULL,
    cache_read_tokens  INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    reasoning_tokens   INTEGER NOT NULL,
    total_tokens       INTEGER NOT NULL,
    cost_usd           REAL,
    unpriced_calls     INTEGER NOT NULL,
    has_root           INTEGER NOT NULL,
    session_id         TEXT    NOT NULL,
    user_id            TEXT    NOT NULL,
    environment        TEXT    NOT NULL,
    tags               TEXT
);
CREATE UNIQUE INDEX traces_key ON traces (project_id, trace_id);
CREATE INDEX traces_start ON traces (project_id, start_time, trace_id);
CREATE INDEX traces_duration ON traces (project_id, duration, trace_id);
CREATE INDEX traces_status ON traces (project_id, status, start_time, trace_id);
CREATE INDEX traces_name ON traces (project_id, name, start_time, trace_id);

-- The "any span has this service" and "any call used this model" filters: one row per
-- trace and value, keyed by the trace's start time, so a filtered listing walks one key in
-- order instead of testing every trace, and inserts land near each other (by time) rather
-- than all over a b-tree keyed by the random trace id. The writer knows a trace's previous
-- start time, so it can still find a row to move or delete.
CREATE TABLE trace_services (
    project_id   TEXT    NOT NULL,
    service_name TEXT    NOT NULL,
    start_time   INTEGER NOT NULL,
    trace_id     TEXT    NOT NULL,
    PRIMARY KEY (project_id, service_name, start_time, trace_id)
) WITHOUT ROWID;
CREATE TABLE trace_models (
    project_id TEXT    NOT NULL,
    model      TEXT    NOT NULL,
    start_time INTEGER NOT NULL,
    trace_id   TEXT    NOT NULL,
    PRIMARY KEY (project_id, model, start_time, trace_id)
) WITHOUT ROWID;

-- OTLP log records; genai marks GenAI event records (messages, or a gen_ai.* event name).
CREATE TABLE logs (
    project_id      TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    trace_id        TEXT    NOT NULL,
    span_id         TEXT    NOT NULL,
    time            INTEGER NOT NULL,
    observed_time   INTEGER NOT NULL,
    event_name      TEXT    NOT NULL,
    severity_text   TEXT    NOT NULL,
    severity_number INTEGER NOT NULL,
    service_name    TEXT    NOT NULL,
    scope_name      TEXT    NOT NULL,
    body            TEXT,
    attributes      TEXT,
    resource        TEXT,
    messages        TEXT,
    output          INTEGER NOT NULL,
    genai           INTEGER NOT NULL
);
CREATE UNIQUE INDEX logs_key ON logs (project_id, id);
CREATE INDEX logs_time ON logs (project_id, time);
CREATE INDEX logs_trace ON logs (project_id, trace_id, time);
CREATE INDEX logs_span ON logs (project_id, span_id, time);
CREATE INDEX logs_genai ON logs (project_id, time) WHERE genai = 1;

-- Per-project custom prices: the price as JSON, times and keys as columns.
CREATE TABLE prices (
    project_id     TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    effective_from INTEGER NOT NULL,
    price          TEXT    NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX prices_created ON prices (project_id, created_at);
