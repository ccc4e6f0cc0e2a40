-- Attribute filters on the trace list (TraceQuery.Attributes): a GIN index, in the
-- jsonb_path_ops class, of each span's attributes nested under its project id:
-- {"<project>": {…attributes…}}. jsonb_path_ops keeps one hash per path from the root to a
-- value, so the entry for project p, key k and value v lists only p's spans with k = v: a
-- lookup reads (and rechecks in the heap) that project's matches alone, not every
-- project's. jsonb_set is immutable, so it can build the indexed expression; queries use
-- the same expression (see spanMatches). The index is partial: spans without attributes
-- cost it nothing. It is built on every partition, and new partitions get it when attached.
-- Building it on an existing store reads every span once and blocks span writes while it
-- runs (JetStream holds what arrives meanwhile): see docs/deployment.md.
CREATE INDEX spans_attributes ON spans
    USING gin (jsonb_set('{}'::jsonb, ARRAY[project_id], attributes) jsonb_path_ops)
    WHERE attributes IS NOT NULL;
