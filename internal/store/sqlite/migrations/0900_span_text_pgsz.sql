-- Full-text index leaves of up to 16,000 bytes instead of FTS5's default 4,050 (one 4 KB
-- database page). The index holds a doclist per word, and the words of LLM prompts repeat
-- across spans, so their doclists are long: in 4 KB leaves each one is many rows of
-- %_data, which every merge rewrites. Measured with BenchmarkWrite-like batches of 100 LLM
-- spans (BENCHMARKS.md): at 300,000 spans the default wrote 2,392 spans/s with a write p99
-- of 635 ms (a merge every few batches, slower as the index grows), 16,000-byte leaves
-- 8,268 spans/s with p99 72 ms. Leaves written before this keep their size until a merge
-- rewrites them.
INSERT INTO span_text (span_text, rank) VALUES ('pgsz', 16000);
