-- The full-text index of a span is a stored tsvector that Lumina computes (tsvector in
-- tsvector.go) instead of an index expression over the span's words. to_tsvector parses
-- its input character by character on the server: about 290 µs for an LLM span with 2 KB
-- of words, where the rest of the span's write costs about 70 µs of PostgreSQL's CPU
-- (BENCHMARKS.md). The column holds the same lexemes and positions that
-- to_tsvector('simple', search_text) gave; NULL for spans without text, so the partial
-- index skips them. Searches read it with a literal tsquery (search.go).
--
-- The stored spans' vectors are computed here, once, by to_tsvector from the text they
-- were indexed with, so an upgrade costs that parse for every stored LLM span (about
-- 5 minutes per million spans of 2 KB on one core). The old index goes first, so that the
-- update does not maintain it.
ALTER TABLE spans ADD COLUMN search_vec tsvector;

DROP INDEX spans_search;

UPDATE spans SET search_vec = to_tsvector('simple'::regconfig, search_text) WHERE search_text <> '';

ALTER TABLE spans DROP COLUMN search_text;

CREATE INDEX spans_search ON spans USING gin (search_vec) WHERE search_vec IS NOT NULL;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE spans ALTER COLUMN search_vec SET COMPRESSION lz4;
        ALTER TABLE spans_default ALTER COLUMN search_vec SET COMPRESSION lz4;
    END IF;
END
$$;
