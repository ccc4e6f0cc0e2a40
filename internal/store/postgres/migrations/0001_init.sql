-- Lumina's PostgreSQL schema, version 1.
--
-- Every time is a bigint of Unix nanoseconds (exact round trips; the zero time.Time is
-- stored as the smallest bigint). Identifiers and filter columns use the "C" collation:
-- byte order, which is how the API breaks ties, and faster comparisons.

-- Spans: one row per (project, trace, span), range-partitioned by day on start_ns. Daily
-- partitions are created by the application ahead of time and on demand; the DEFAULT
-- partition catches any other timestamp so a write never fails on an odd clock.
CREATE TABLE spans (
    project_id         text COLLATE "C" NOT NULL,
    trace_id           text COLLATE "C" NOT NULL,
    span_id            text COLLATE "C" NOT NULL,
    start_ns           bigint NOT NULL,
    end_ns             bigint NOT NULL,
    dropped_attributes bigint NOT NULL DEFAULT 0,
    dropped_events     bigint NOT NULL DEFAULT 0,
    dropped_links      bigint NOT NULL DEFAULT 0,
    input_tokens       bigint NOT NULL DEFAULT 0,
    output_tokens      bigint NOT NULL DEFAULT 0,
    cache_read_tokens  bigint NOT NULL DEFAULT 0,
    cache_write_tokens bigint NOT NULL DEFAULT 0,
    reasoning_tokens   bigint NOT NULL DEFAULT 0,
    total_tokens       bigint NOT NULL DEFAULT 0,
    cost_usd           double precision, -- NULL when unpriced or not a GenAI span
    usage_reported     boolean NOT NULL DEFAULT false,
    counted            boolean NOT NULL DEFAULT false,
    parent_span_id     text COLLATE "C" NOT NULL DEFAULT '',
    name               text COLLATE "C" NOT NULL DEFAULT '',
    service_name       text COLLATE "C" NOT NULL DEFAULT '',
    status_code        text COLLATE "C" NOT NULL DEFAULT '',
    kind               text NOT NULL DEFAULT '',
    trace_state        text NOT NULL DEFAULT '',
    status_message     text NOT NULL DEFAULT '',
    scope_name         text NOT NULL DEFAULT '',
    scope_version      text NOT NULL DEFAULT '',
    resource_schema_url text NOT NULL DEFAULT '',
    scope_schema_url   text NOT NULL DEFAULT '',
    genai_type         text COLLATE "C" NOT NULL DEFAULT '', -- '' for spans that are not GenAI
    operation          text COLLATE "C" NOT NULL DEFAULT '',
    provider           text COLLATE "C" NOT NULL DEFAULT '',
    model              text COLLATE "C" NOT NULL DEFAULT '', -- response model, else request model
    session_id         text COLLATE "C" NOT NULL DEFAULT '',
    user_id            text COLLATE "C" NOT NULL DEFAULT '',
    environment        text COLLATE "C" NOT NULL DEFAULT '',
    cost_source        text COLLATE "C" NOT NULL DEFAULT '',
    -- Free-form values people filter on are jsonb. Values only read back whole are json:
    -- PostgreSQL validates json without building a tree, about 3x cheaper on the write path
    -- (measured: 33 ms vs 10 ms of server CPU per 1,000 LLM spans), and every field of them
    -- worth a filter is a promoted column above.
    attributes         jsonb,
    resource           jsonb,
    tags               json,
    events             json,
    links              json,
    genai              json, -- the genai.Call; its "counted" always equals the column
    PRIMARY KEY (project_id, trace_id, span_id, start_ns)
) PARTITION BY RANGE (start_ns);

CREATE TABLE spans_default PARTITION OF spans DEFAULT;

-- Time-window scans and aggregates per project.
CREATE INDEX spans_project_start ON spans (project_id, start_ns);
-- Counted model calls: token and cost aggregates by model are index-only scans.
CREATE INDEX spans_counted ON spans (project_id, start_ns)
    INCLUDE (provider, model, input_tokens, output_tokens, cache_read_tokens,
             cache_write_tokens, reasoning_tokens, total_tokens, cost_usd)
    WHERE counted;
-- Span search by model and failures. Sessions, users, environments, services and names
-- are filtered on the traces table (the trace list), whose rows are five or more times fewer:
-- every index on spans costs every span write.
CREATE INDEX spans_model ON spans (project_id, model, start_ns) WHERE model <> '';
CREATE INDEX spans_error ON spans (project_id, start_ns) WHERE status_code = 'error';
-- Unpriced model calls (UnpricedModels); small by construction.
CREATE INDEX spans_unpriced ON spans (project_id, start_ns) INCLUDE (provider, model)
    WHERE cost_usd IS NULL AND genai_type IN ('llm', 'embedding');

-- Traces: the rollup of each trace's spans, recomputed on every write that touches it.
CREATE TABLE traces (
    project_id         text COLLATE "C" NOT NULL,
    trace_id           text COLLATE "C" NOT NULL,
    start_ns           bigint NOT NULL,
    end_ns             bigint NOT NULL,
    duration_ns        bigint NOT NULL,
    span_count         integer NOT NULL,
    error_count        integer NOT NULL,
    llm_call_count     integer NOT NULL,
    unpriced_calls     integer NOT NULL,
    input_tokens       bigint NOT NULL,
    output_tokens      bigint NOT NULL,
    cache_read_tokens  bigint NOT NULL,
    cache_write_tokens bigint NOT NULL,
    reasoning_tokens   bigint NOT NULL,
    total_tokens       bigint NOT NULL,
    cost_usd           double precision, -- NULL when every counted call is unpriced
    has_root           boolean NOT NULL,
    service_name       text COLLATE "C" NOT NULL,
    name               text COLLATE "C" NOT NULL,
    status             text COLLATE "C" NOT NULL,
    session_id         text COLLATE "C" NOT NULL,
    user_id            text COLLATE "C" NOT NULL,
    environment        text COLLATE "C" NOT NULL,
    -- The trace's models and services, each prefixed with the project id and U+001F, so
    -- the GIN indexes and their statistics are per project: a filter on a service that
    -- another project uses a lot is still known to be selective here.
    model_keys         text[] NOT NULL,
    service_keys       text[] NOT NULL,
    tags               text[] NOT NULL,
    PRIMARY KEY (project_id, trace_id)
);

-- The trace list: newest/oldest and longest/shortest first, keyset-paginated on
-- (key, trace_id); a btree serves both directions.
CREATE INDEX traces_start ON traces (project_id, start_ns, trace_id);
CREATE INDEX traces_duration ON traces (project_id, duration_ns, trace_id);
CREATE INDEX traces_name ON traces (project_id, name, start_ns, trace_id);
CREATE INDEX traces_error ON traces (project_id, start_ns, trace_id) WHERE status = 'error';
CREATE INDEX traces_session ON traces (project_id, session_id, start_ns) WHERE session_id <> '';
CREATE INDEX traces_user ON traces (project_id, user_id, start_ns) WHERE user_id <> '';
CREATE INDEX traces_environment ON traces (project_id, environment, start_ns) WHERE environment <> '';
-- "Any span has this service" and "any counted call used this model".
CREATE INDEX traces_models ON traces USING gin (model_keys);
CREATE INDEX traces_services ON traces USING gin (service_keys);

-- Log records, keyed by their content hash.
CREATE TABLE logs (
    project_id      text COLLATE "C" NOT NULL,
    id              text COLLATE "C" NOT NULL,
    time_ns         bigint NOT NULL,
    observed_ns     bigint NOT NULL,
    severity_number integer NOT NULL,
    is_genai        boolean NOT NULL, -- carries messages, or its event name starts with gen_ai.
    output          boolean NOT NULL,
    trace_id        text COLLATE "C" NOT NULL,
    span_id         text COLLATE "C" NOT NULL,
    event_name      text COLLATE "C" NOT NULL,
    severity_text   text NOT NULL,
    service_name    text COLLATE "C" NOT NULL,
    scope_name      text NOT NULL,
    body            jsonb,
    attributes      jsonb,
    resource        jsonb,
    messages        json,
    PRIMARY KEY (project_id, id)
);

CREATE INDEX logs_time ON logs (project_id, time_ns, id);
CREATE INDEX logs_trace ON logs (project_id, trace_id, time_ns, id) WHERE trace_id <> '';
CREATE INDEX logs_span ON logs (project_id, span_id, time_ns, id) WHERE span_id <> '';
CREATE INDEX logs_genai ON logs (project_id, time_ns, id) WHERE is_genai;

-- Custom prices per project; the document is the genai.Price as JSON.
CREATE TABLE prices (
    project_id text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    created_ns bigint NOT NULL,
    doc        jsonb NOT NULL,
    PRIMARY KEY (project_id, id)
);

CREATE INDEX prices_created ON prices (project_id, created_ns DESC, id);

-- Large values (prompts, completions) are compressed with lz4 where the server supports it:
-- several times cheaper than the default pglz on the write path. New span partitions copy
-- the setting (CREATE TABLE … LIKE spans INCLUDING COMPRESSION).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE spans
            ALTER COLUMN attributes SET COMPRESSION lz4,
            ALTER COLUMN resource SET COMPRESSION lz4,
            ALTER COLUMN events SET COMPRESSION lz4,
            ALTER COLUMN links SET COMPRESSION lz4,
            ALTER COLUMN genai SET COMPRESSION lz4;
        -- Not inherited by existing partitions.
        ALTER TABLE spans_default
            ALTER COLUMN attributes SET COMPRESSION lz4,
            ALTER COLUMN resource SET COMPRESSION lz4,
            ALTER COLUMN events SET COMPRESSION lz4,
            ALTER COLUMN links SET COMPRESSION lz4,
            ALTER COLUMN genai SET COMPRESSION lz4;
        ALTER TABLE logs
            ALTER COLUMN body SET COMPRESSION lz4,
            ALTER COLUMN attributes SET COMPRESSION lz4,
            ALTER COLUMN messages SET COMPRESSION lz4;
    END IF;
END
$$;
