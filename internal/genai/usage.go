package genai

import (
	"strconv"
	"strings"
)

// Token attribute names in priority order (conventions §8). Each normalized count comes
// from the first present key; aliases are never summed.
var (
	inputTokenKeys = []string{"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens",
		"llm.token_count.prompt", "ai.usage.inputTokens", "ai.usage.promptTokens", "llm.usage.prompt_tokens"}
	outputTokenKeys = []string{"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
		"llm.token_count.completion", "ai.usage.outputTokens", "ai.usage.completionTokens", "llm.usage.completion_tokens"}
	cacheReadKeys = []string{"gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
		"llm.token_count.prompt_details.cache_read", "ai.usage.inputTokenDetails.cacheReadTokens",
		"ai.usage.cachedInputTokens", "gen_ai.usage.details.cache_read_tokens",
		"gen_ai.usage.prompt_tokens_details.cached_tokens", "gen_ai.usage.cached_tokens",
		"gen_ai.usage.input_tokens.cached"}
	cacheWriteKeys = []string{"gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_write.input_tokens",
		"gen_ai.usage.cache_creation_input_tokens", "llm.token_count.prompt_details.cache_write",
		"ai.usage.inputTokenDetails.cacheWriteTokens", "gen_ai.usage.details.cache_write_tokens",
		"gen_ai.usage.prompt_tokens_details.cache_creation_tokens"}
	cacheWrite5mKeys = []string{"gen_ai.usage.cache_creation.ephemeral_5m_input_tokens",
		"gen_ai.usage.cache_write.5m.input_tokens"}
	cacheWrite1hKeys = []string{"gen_ai.usage.cache_creation.ephemeral_1h_input_tokens",
		"gen_ai.usage.cache_write.1h.input_tokens"}
	reasoningKeys = []string{"gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens",
		"llm.usage.reasoning_tokens", "llm.token_count.completion_details.reasoning",
		"ai.usage.outputTokenDetails.reasoningTokens", "ai.usage.reasoningTokens",
		"gen_ai.usage.output_tokens.reasoning", "gen_ai.usage.details.reasoning_tokens"}
	totalTokenKeys = []string{"gen_ai.usage.total_tokens", "llm.usage.total_tokens", "llm.token_count.total",
		"ai.usage.totalTokens", "ai.usage.tokens"}
	// Agent-run aggregates (pydantic-ai): read only when nothing above is present.
	aggregatedInputKeys  = []string{"gen_ai.aggregated_usage.input_tokens"}
	aggregatedOutputKeys = []string{"gen_ai.aggregated_usage.output_tokens"}
)

// Langfuse usage_details keys (Langfuse stores input without cache tokens).
var (
	lfInputKeys      = []string{"input", "prompt_tokens", "input_tokens"}
	lfOutputKeys     = []string{"output", "completion_tokens", "output_tokens"}
	lfTotalKeys      = []string{"total", "total_tokens"}
	lfCacheReadKeys  = []string{"input_cached_tokens", "cache_read_input_tokens", "input_cache_read", "cached_tokens"}
	lfCacheWriteKeys = []string{"input_cache_creation", "cache_creation_input_tokens", "input_cache_write"}
	lfReasoningKeys  = []string{"output_reasoning", "output_reasoning_tokens", "reasoning_tokens"}
)

// usageReader resolves one count from span attributes, then the nested JSON sources.
type usageReader struct {
	n        *normalizer
	lf       map[string]any // langfuse.observation.usage_details
	pm       map[string]any // ai.response.providerMetadata
	pmParsed bool
	reported bool
}

func (r *usageReader) attr(keys []string) (int64, string) {
	v, k := r.n.firstInt(keys...)
	if k != "" {
		r.reported = true
	}
	return v, k
}

func (r *usageReader) langfuse(keys []string) (int64, string) {
	for _, k := range keys {
		if v, ok := r.lf[k]; ok {
			if i, ok := asInt(v); ok {
				r.reported = true
				return i, "langfuse.observation.usage_details." + k
			}
		}
	}
	return 0, ""
}

// meta reads ai.response.providerMetadata (Vercel's per-provider usage details).
func (r *usageReader) meta(paths ...string) (int64, string) {
	if !r.pmParsed {
		r.pmParsed = true
		if v, ok := decodeJSON(r.n.a["ai.response.providerMetadata"]); ok {
			r.pm, _ = v.(map[string]any)
		}
	}
	if r.pm == nil {
		return 0, ""
	}
	for _, p := range paths {
		if v, ok := mapGet(r.pm, strings.Split(p, ".")...); ok {
			if i, ok := asInt(v); ok {
				r.reported = true
				return i, "ai.response.providerMetadata." + p
			}
		}
	}
	return 0, ""
}

// first tries the readers in order and returns the first hit.
func first(reads ...func() (int64, string)) (int64, string) {
	for _, read := range reads {
		if v, k := read(); k != "" {
			return v, k
		}
	}
	return 0, ""
}

// usage resolves token counts and decides cache and reasoning accounting (§8, §10.3, §10.4).
func (n *normalizer) usage() {
	r := &usageReader{n: n}
	if v, ok := decodeJSON(n.a["langfuse.observation.usage_details"]); ok {
		r.lf, _ = v.(map[string]any)
	}
	u := &n.c.Usage
	at := func(keys []string) func() (int64, string) { return func() (int64, string) { return r.attr(keys) } }
	lf := func(keys []string) func() (int64, string) { return func() (int64, string) { return r.langfuse(keys) } }
	pm := func(paths ...string) func() (int64, string) {
		return func() (int64, string) { return r.meta(paths...) }
	}

	input, inKey := first(at(inputTokenKeys), lf(lfInputKeys), at(aggregatedInputKeys))
	output, outKey := first(at(outputTokenKeys), lf(lfOutputKeys), at(aggregatedOutputKeys))
	cacheRead, crKey := first(at(cacheReadKeys),
		pm("openai.cachedPromptTokens", "anthropic.usage.cache_read_input_tokens", "anthropic.cacheReadInputTokens",
			"bedrock.usage.cacheReadInputTokens"), lf(lfCacheReadKeys))
	cacheWrite, cwKey := first(at(cacheWriteKeys),
		pm("anthropic.usage.cache_creation_input_tokens", "anthropic.cacheCreationInputTokens",
			"bedrock.usage.cacheWriteInputTokens"), lf(lfCacheWriteKeys))
	w5m, w5Key := first(at(cacheWrite5mKeys), pm("anthropic.usage.cache_creation.ephemeral_5m_input_tokens"),
		lf([]string{"input_cache_creation_5m", "ephemeral_5m_input_tokens"}))
	w1h, w1Key := first(at(cacheWrite1hKeys), pm("anthropic.usage.cache_creation.ephemeral_1h_input_tokens"),
		lf([]string{"input_cache_creation_1h", "ephemeral_1h_input_tokens"}))
	reasoning, rsKey := first(at(reasoningKeys), pm("openai.reasoningTokens"), lf(lfReasoningKeys))
	total, totKey := first(at(totalTokenKeys), lf(lfTotalKeys))
	if !r.reported {
		return
	}
	u.Reported = true

	if cwKey == "" && (w5Key != "" || w1Key != "") {
		cacheWrite, cwKey = w5m+w1h, "cache_write_5m+1h"
	}
	if w5Key != "" || w1Key != "" {
		u.CacheWrite5mTokens, u.CacheWrite1hTokens = w5m, w1h
		if w5Key == "" && cacheWrite >= w1h {
			u.CacheWrite5mTokens = cacheWrite - w1h // the rest of the writes are 5-minute ones
		}
		if w1Key == "" && cacheWrite >= w5m {
			u.CacheWrite1hTokens = cacheWrite - w5m
		}
	}
	for _, fk := range [...][2]string{{"cache_read_tokens", crKey}, {"cache_write_tokens", cwKey},
		{"cache_write_5m_tokens", w5Key}, {"cache_write_1h_tokens", w1Key}, {"reasoning_tokens", rsKey}} {
		if fk[1] != "" {
			n.src(fk[0], fk[1])
		}
	}
	u.CacheReadTokens, u.CacheWriteTokens, u.ReasoningTokens = cacheRead, cacheWrite, reasoning

	// Embeddings report one count: Vercel's ai.usage.tokens is the embedded input.
	if inKey == "" && n.c.Type == TypeEmbedding && totKey != "" {
		input, inKey = total, totKey
	}

	mode, why := n.cacheAccounting(r, input, inKey, cacheRead+cacheWrite, output, reasoning, total, totKey)
	u.CacheAccounting = mode
	u.InputTokens = input
	if inKey != "" {
		n.src("input_tokens", inKey)
	}
	if mode == CacheExclusive {
		u.InputTokens = input + cacheRead + cacheWrite
		n.src("input_tokens", inKey+" + cache_read + cache_write")
	}
	if why != "" {
		n.src("cache_accounting", why)
	}

	u.OutputTokens = output
	if outKey != "" {
		n.src("output_tokens", outKey)
	}
	if reasoning > 0 {
		if excl, why := n.reasoningExclusive(output, reasoning, u.InputTokens, total, totKey); excl {
			u.OutputTokens = output + reasoning
			n.src("output_tokens", outKey+" + reasoning")
			n.src("reasoning_accounting", why)
		}
	}

	sum := u.InputTokens + u.OutputTokens
	switch {
	case totKey == "":
		u.TotalTokens, u.TotalDerived = sum, true
		n.src("total_tokens", "input_tokens + output_tokens")
	case total < sum:
		// The reported total left out tokens Lumina counts (cache beside input, or reasoning
		// beside output): keep the numbers consistent and say so.
		u.TotalTokens, u.TotalDerived = sum, true
		n.src("total_tokens", "input_tokens + output_tokens (reported "+totKey+"="+strconv.FormatInt(total, 10)+")")
	default:
		u.TotalTokens = total
		n.src("total_tokens", totKey)
	}
}

// cacheAccounting decides whether the source's input count already contained its cache
// tokens (§10.3). Evidence beats tables: an explicit uncached count, an input smaller than
// its cache tokens, raw provider numbers, a total that counts cache beside input; then the
// per-producer table; then the OTel rule (inclusive).
func (n *normalizer) cacheAccounting(r *usageReader, input int64, inKey string, cache, output, reasoning, total int64, totKey string) (string, string) {
	if cache == 0 {
		return CacheNone, ""
	}
	if inKey == "" {
		return CacheExclusive, "no input count: cache tokens are the whole input"
	}
	if noCache, k := n.firstInt("ai.usage.inputTokenDetails.noCacheTokens"); k != "" {
		if input == noCache {
			return CacheExclusive, "input equals " + k
		}
		return CacheInclusive, "input includes cache (" + k + " given)"
	}
	if strings.HasPrefix(inKey, "langfuse.") {
		return CacheExclusive, "langfuse usage_details store input without cache"
	}
	if input < cache {
		return CacheExclusive, "input < cache_read + cache_write (impossible if inclusive)"
	}
	if raw, k := r.meta("anthropic.usage.input_tokens"); k != "" && raw == input {
		return CacheExclusive, "input equals raw Anthropic " + k
	}
	// (When cache equals reasoning the same total would also fit reasoning beside output:
	// ambiguous, so the total decides nothing.)
	if totKey != "" && total == input+cache+output && total != input+output && cache != reasoning {
		return CacheExclusive, totKey + " counts cache beside input"
	}
	scope := n.s.ScopeName
	switch {
	case scope == "@traceloop/instrumentation-anthropic":
		// OpenLLMetry JS passes Anthropic's raw usage through (input_tokens uncached,
		// total = input + output): see testdata/fixtures/openllmetry-anthropic.traces.pb.
		return CacheExclusive, "table: " + scope + " passes raw Anthropic input"
	case n.isVercel() && n.vercelAnthropic() && !n.has("ai.usage.inputTokenDetails.cacheReadTokens",
		"ai.usage.inputTokenDetails.cacheWriteTokens"):
		// AI SDK v5/v6 with @ai-sdk/anthropic 2.x: inputTokens = Anthropic's uncached count,
		// cachedInputTokens beside it. v7 reports inputTokenDetails and is inclusive.
		return CacheExclusive, "table: vercel ai sdk v5/v6 with anthropic"
	}
	return CacheInclusive, "otel rule: input_tokens include cache"
}

// reasoningExclusive reports whether the output count left reasoning tokens out (§10.4).
func (n *normalizer) reasoningExclusive(output, reasoning, input, total int64, totKey string) (bool, string) {
	if reasoning > output {
		return true, "output < reasoning (impossible if inclusive)"
	}
	if text, k := n.firstInt("ai.usage.outputTokenDetails.textTokens"); k != "" && text == output {
		return true, "output equals " + k
	}
	if totKey != "" && total == input+output+reasoning && total != input+output {
		return true, totKey + " counts reasoning beside output"
	}
	return false, ""
}

func (n *normalizer) isVercel() bool {
	return n.s.ScopeName == "ai" || n.has("ai.operationId", "ai.model.provider")
}

func (n *normalizer) vercelAnthropic() bool {
	p, _ := n.str("ai.model.provider")
	return n.c.Provider == "anthropic" || strings.Contains(strings.ToLower(p), "anthropic")
}
