-- Attribute filters on the trace list (TraceQuery.Attributes): a GIN index of the spans'
-- attributes in the jsonb_path_ops class, which answers containment (attributes @>
-- '{"key": value}') from a hash per key path and value. It is partial: spans without
-- attributes cost it nothing. It is built on every partition, and new partitions get it
-- when attached. Building it on an existing store reads every span once and blocks span
-- writes while it runs (JetStream holds what arrives meanwhile): see docs/deployment.md.
CREATE INDEX spans_attributes ON spans USING gin (attributes jsonb_path_ops)
    WHERE attributes IS NOT NULL;
