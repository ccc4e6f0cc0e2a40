-- Full-text index leaves of up to 16,000 bytes instead of FTS5's default 4,050 (one 4 KB
-- database page). The index holds a doclist per word, and the words of LLM prompts repeat
-- across spans, so their doclists are long: in 4 KB leaves each one is many rows of
-- %_data, which every merge rewrites. BenchmarkWrite/batch=100 at 300,000 spans (docs/api.md):
-- 2,352 spans/s with a batch p99 of 639 ms with the default (a merge every few batches,
-- slower as the index grows), 5,925 spans/s with p99 94 ms with 16,000-byte leaves. Leaves
-- written before this keep their size until a merge rewrites them.
INSERT INTO span_text (span_text, rank) VALUES ('pgsz', 16000);
