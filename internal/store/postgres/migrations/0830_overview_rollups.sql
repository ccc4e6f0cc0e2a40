-- Rollups for the Overview over long windows (issue 4), per project and half-hour slot of
-- start time. Both are exact: every write adds and subtracts what it changes (see
-- modelrollup.go and tracerollup.go), so each always equals a GROUP BY over its source rows.
--
-- model_rollup: the counted spans' usage and cost per provider and model, exactly what the
-- Overview's per-model query adds up over spans_counted. The writer keeps it in the span
-- write's transaction (+/− the usage of every counted span it inserts, replaces, recounts);
-- retention subtracts what it deletes and drops the slots of the partitions it drops.
--
-- slot is start_ns floor-divided by 30 minutes (1,800,000,000,000 ns): the dashboard's
-- buckets are whole multiples of it (30 min at 24 h, 3 h at 7 days, 12 h at 30 days). cost_usd
-- is numeric, the exact sum of the spans' costs as their shortest decimal (float8 text), so
-- the writers' additions and subtractions never drift; a slot whose spans all went away
-- holds exact zeros (calls = 0), which readers skip.
CREATE TABLE model_rollup (
    project_id     text COLLATE "C" NOT NULL,
    slot           bigint NOT NULL,
    provider       text COLLATE "C" NOT NULL,
    model          text COLLATE "C" NOT NULL,
    calls          bigint NOT NULL,
    input_tokens   bigint NOT NULL,
    output_tokens  bigint NOT NULL,
    total_tokens   bigint NOT NULL,
    cost_usd       numeric NOT NULL,
    unpriced_calls bigint NOT NULL,
    PRIMARY KEY (project_id, slot, provider, model)
);
-- Retention drops a day's slots of every project with its partition.
CREATE INDEX model_rollup_slot ON model_rollup (slot);

-- Both are backfilled below from the stored rows. Writers wait meanwhile (SHARE blocks their
-- inserts and updates), so nothing is written between this snapshot and the commit; traces
-- first, the order writers take them in. float8 text is the shortest exact decimal only
-- while extra_float_digits > 0 (the default, 1).
SET LOCAL extra_float_digits = 1;
LOCK TABLE traces, spans IN SHARE MODE;
INSERT INTO model_rollup (project_id, slot, provider, model, calls, input_tokens, output_tokens,
    total_tokens, cost_usd, unpriced_calls)
SELECT project_id, start_ns / 1800000000000 - (start_ns % 1800000000000 < 0)::int, provider, model,
    count(*), sum(input_tokens), sum(output_tokens), sum(total_tokens),
    coalesce(sum(cost_usd::text::numeric), 0), count(*) FILTER (WHERE cost_usd IS NULL)
FROM spans WHERE counted
GROUP BY 1, 2, 3, 4;

-- trace_rollup: the traces per root service and root span name, what the Overview's services
-- and endpoints lists add up over traces_start (count, errors, tokens, cost, unpriced calls,
-- and the durations' sum for the exact mean).
CREATE TABLE trace_rollup (
    project_id     text COLLATE "C" NOT NULL,
    slot           bigint NOT NULL,
    service_name   text COLLATE "C" NOT NULL,
    name           text COLLATE "C" NOT NULL,
    traces         bigint NOT NULL,
    errors         bigint NOT NULL,
    total_tokens   bigint NOT NULL,
    cost_usd       numeric NOT NULL,
    unpriced_calls bigint NOT NULL,
    duration_ns    numeric NOT NULL,
    PRIMARY KEY (project_id, slot, service_name, name)
);

INSERT INTO trace_rollup (project_id, slot, service_name, name, traces, errors, total_tokens,
    cost_usd, unpriced_calls, duration_ns)
SELECT project_id, start_ns / 1800000000000 - (start_ns % 1800000000000 < 0)::int, service_name, name,
    count(*), count(*) FILTER (WHERE status = 'error'), sum(total_tokens),
    coalesce(sum(cost_usd::text::numeric), 0), sum(unpriced_calls), sum(duration_ns)
FROM traces
GROUP BY 1, 2, 3, 4;
