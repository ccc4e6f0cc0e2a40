-- The full-text index moves out of this file into a database of its own (<name>.search.db,
-- see indexer.go), written by its own connection beside the span writes: its segment
-- flushes and merges took the writer tens of milliseconds at a time, and every batch
-- behind them waited (BENCHMARKS.md, issue 6). What the index must learn is queued here,
-- in the write's own transaction, so a crash loses none of it: one row per change, in
-- commit order (AUTOINCREMENT: ids never go back, even once the queue is emptied).
-- body '' removes the span's document; NULL puts the span's text, which the writer hands
-- the indexer in memory or the indexer reads from the stored span. The indexer removes the
-- rows it has applied (by id) through the writer's next transaction.
DROP TRIGGER span_text_delete;
DROP TRIGGER span_text_retype;
DROP TABLE span_text;

CREATE TABLE span_text_queue (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    span INTEGER NOT NULL, -- spans.rowid
    body TEXT
);

-- Every delete of an LLM span (retention, and any other) removes its document.
CREATE TRIGGER span_text_delete AFTER DELETE ON spans WHEN old.genai_type = 'llm'
BEGIN
    INSERT INTO span_text_queue (span, body) VALUES (old.rowid, '');
END;

-- A rewrite that turns an LLM span into another kind of span removes its document too
-- (the writer queues the documents of spans that stay GenAI calls).
CREATE TRIGGER span_text_retype AFTER UPDATE OF genai_type ON spans
    WHEN old.genai_type = 'llm' AND new.genai_type <> 'llm'
BEGIN
    INSERT INTO span_text_queue (span, body) VALUES (old.rowid, '');
END;
