-- spans_model served no query: the trace list filters models on traces.model_keys, the
-- Overview's model figures come from spans_counted. It held an entry for every model call,
-- so every span write paid for it (see BENCHMARKS.md, PostgreSQL).
DROP INDEX IF EXISTS spans_model;
