// Package quality scores LLM responses.
//
// Tier 1 (Scorer) runs on every LLM span in the worker, in microseconds and for free: it
// compares a response with earlier responses to the same normalized prompt and with the
// responses of the same endpoint (exact hash, a MinHash text sketch, JSON shape and markdown
// structure, length against the endpoint's distribution) and runs absolute checks (empty,
// refusal, truncated by the token limit, content filter, broken JSON). Tier 2 (Judge) asks an
// LLM for a semantic verdict when tier 1 is borderline or the cost spiked; it is asynchronous,
// cached by content hash, concurrency- and budget-limited, and says "not configured" when no
// provider is.
//
// The similarity functions (CharSimilarity, TokenJaccard, TokenCosine, Semantic) are shared
// with replay; every result names the method that produced it.
//
// The package talks to LLM providers only through CompleteFunc and Embedder, which
// cmd/lumina wires to internal/llm: feature packages do not import each other.
package quality
