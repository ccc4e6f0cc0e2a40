-- Full-text search over prompts and responses (TraceQuery.Text). One document per LLM span
-- that has content: store.SearchText of its call (lower-cased words, at most 16 KiB), keyed
-- by the span's rowid (upserts keep it). Contentless: the text is already in spans.genai,
-- so the index holds only the tokens; contentless_delete lets a rewrite replace a document
-- and a deleted span remove its own. unicode61 without diacritic folding, to tokenize as
-- PostgreSQL's 'simple' configuration does.
CREATE VIRTUAL TABLE span_text USING fts5 (
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

-- Every span delete (retention, and any other) removes the span's document. Only LLM spans
-- have one, so other deletes skip the index.
CREATE TRIGGER span_text_delete AFTER DELETE ON spans WHEN old.genai_type = 'llm'
BEGIN
    DELETE FROM span_text WHERE rowid = old.rowid;
END;

-- A rewrite that turns an LLM span into another kind of span removes its document too
-- (the writer replaces or deletes the documents of spans that stay GenAI calls).
CREATE TRIGGER span_text_retype AFTER UPDATE OF genai_type ON spans
    WHEN old.genai_type = 'llm' AND new.genai_type <> 'llm'
BEGIN
    DELETE FROM span_text WHERE rowid = old.rowid;
END;
