-- Full-text search over prompts and responses (TraceQuery.Text). search_text holds
-- store.SearchText of an LLM span's call (lower-cased words, at most 16 KiB; '' for other
-- spans and calls without content) on the span's own row, so retention's dropped partitions
-- and deleted rows take it with them and a rewrite of the span replaces it. The GIN index
-- is on the 'simple' configuration's tsvector of it (no stemming, no stop words: every
-- word is searchable as written), partial so spans without text cost it nothing; it is
-- built on every partition, and new partitions get it when attached. Nothing here needs an
-- extension or superuser rights. Adding a column with a constant default rewrites no rows.
ALTER TABLE spans ADD COLUMN search_text text NOT NULL DEFAULT '';

CREATE INDEX spans_search ON spans USING gin (to_tsvector('simple'::regconfig, search_text))
    WHERE search_text <> '';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE spans ALTER COLUMN search_text SET COMPRESSION lz4;
        ALTER TABLE spans_default ALTER COLUMN search_text SET COMPRESSION lz4;
    END IF;
END
$$;
