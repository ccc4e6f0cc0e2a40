package cost

import (
	"strconv"
	"strings"

	"github.com/use-lumina/lumina/internal/genai"
)

// OpEmbeddings is the operation name under which Compute prices only input tokens.
const OpEmbeddings = "embeddings"

// rates are the per-million prices that apply to one request, after tier selection and
// fallbacks.
type rates struct {
	input, output, cacheRead, cacheWrite, cacheWrite1h, reasoning float64
	separateReasoning                                             bool
	tier                                                          string
}

// Compute prices usage u at price p for operation op. It never fails: missing bucket
// prices fall back as documented below, and negative counts count as zero.
//
//   - Input: u.InputTokens includes cache reads and writes (the genai.Usage contract), so
//     the uncached part is input − cache read − cache write, clamped at zero; each token
//     is billed exactly once.
//   - Cache reads are billed at CacheReadPerMTok, else at the input price. Cache writes
//     split into 5-minute and 1-hour writes when usage gives the split (an unsplit
//     remainder counts as 5-minute, Anthropic's default TTL); 5-minute writes are billed
//     at CacheWritePerMTok, else the input price; 1-hour writes at CacheWrite1hPerMTok,
//     else the 5-minute write price.
//   - Output includes reasoning. When the price has ReasoningPerMTok, reasoning tokens
//     are billed at it and the rest of the output at the output price; otherwise all
//     output is billed at the output price and ReasoningUSD stays 0.
//   - Tiers: when input tokens exceed a tier's threshold (strictly), the highest such
//     tier reprices the whole request, every bucket (long-context pricing).
//   - Embeddings (op "embeddings"): all input tokens at the input price; output ignored.
func Compute(p genai.Price, u genai.Usage, op string) genai.Cost {
	in := nonNeg(u.InputTokens)
	out := nonNeg(u.OutputTokens)
	read := nonNeg(u.CacheReadTokens)
	w5, w1h := nonNeg(u.CacheWrite5mTokens), nonNeg(u.CacheWrite1hTokens)
	write := nonNeg(u.CacheWriteTokens)
	if write < w5+w1h {
		write = w5 + w1h
	}
	w5 += write - w5 - w1h // writes without a TTL split are 5-minute writes

	total := in
	if read+write > total {
		total = read + write // inconsistent usage: never price fewer tokens than were cached
	}
	r := ratesFor(p, total)
	c := genai.Cost{
		Source:      genai.CostComputed,
		PriceID:     p.ID,
		PriceSource: priceSource(p),
		Tier:        r.tier,
	}
	if isEmbedding(op) {
		c.InputUSD = usd(total, r.input)
		c.TotalUSD = ptr(c.InputUSD)
		return c
	}
	uncached := in - read - write
	if uncached < 0 {
		uncached = 0
	}
	c.InputUSD = usd(uncached, r.input)
	c.CacheReadUSD = usd(read, r.cacheRead)
	c.CacheWriteUSD = (float64(w5)*r.cacheWrite + float64(w1h)*r.cacheWrite1h) / 1e6
	if r.separateReasoning {
		reasoning := nonNeg(u.ReasoningTokens)
		if reasoning > out {
			reasoning = out
		}
		c.OutputUSD = usd(out-reasoning, r.output)
		c.ReasoningUSD = usd(reasoning, r.reasoning)
	} else {
		c.OutputUSD = usd(out, r.output)
	}
	total64 := c.InputUSD + c.CacheReadUSD + c.CacheWriteUSD + c.OutputUSD + c.ReasoningUSD
	c.TotalUSD = &total64
	return c
}

func ratesFor(p genai.Price, totalInput int64) rates {
	r := rates{input: p.InputPerMTok, output: p.OutputPerMTok}
	cacheRead, cacheWrite, cacheWrite1h := p.CacheReadPerMTok, p.CacheWritePerMTok, p.CacheWrite1hPerMTok
	if p.ReasoningPerMTok != nil {
		r.separateReasoning, r.reasoning = true, *p.ReasoningPerMTok
	}
	if t, ok := selectTier(p.Tiers, totalInput); ok {
		r.tier = tierName(t.AboveInputTokens)
		r.input, r.output = t.InputPerMTok, t.OutputPerMTok
		if t.CacheReadPerMTok != nil {
			cacheRead = t.CacheReadPerMTok
		}
		if t.CacheWritePerMTok != nil {
			cacheWrite = t.CacheWritePerMTok
		}
		if cacheWrite1h != nil {
			v := tierCacheWrite1h(p, t)
			cacheWrite1h = &v
		}
		// Tiers carry no reasoning price: above a tier, reasoning is billed as output.
		r.separateReasoning = false
	}
	r.cacheRead = deref(cacheRead, r.input)
	r.cacheWrite = deref(cacheWrite, r.input)
	r.cacheWrite1h = deref(cacheWrite1h, r.cacheWrite)
	return r
}

// selectTier returns the tier with the highest threshold that totalInput exceeds.
// Exactly at the threshold stays below it.
func selectTier(tiers []genai.PriceTier, totalInput int64) (genai.PriceTier, bool) {
	var best genai.PriceTier
	found := false
	for _, t := range tiers {
		if totalInput > t.AboveInputTokens && (!found || t.AboveInputTokens > best.AboveInputTokens) {
			best, found = t, true
		}
	}
	return best, found
}

// tierCacheWrite1h derives a tier's 1-hour cache-write price, which genai.PriceTier does
// not carry, from the tier's 5-minute write price and the base 1h/5m ratio (2/1.25 for
// Anthropic, which is what every source lists for its long-context tiers).
func tierCacheWrite1h(p genai.Price, t genai.PriceTier) float64 {
	base1h := deref(p.CacheWrite1hPerMTok, deref(p.CacheWritePerMTok, p.InputPerMTok))
	base5m := deref(p.CacheWritePerMTok, p.InputPerMTok)
	tier5m := deref(t.CacheWritePerMTok, base5m)
	if base5m == 0 {
		return base1h
	}
	return tier5m * base1h / base5m
}

func tierName(above int64) string {
	if above%1000 == 0 {
		return "above_" + strconv.FormatInt(above/1000, 10) + "k"
	}
	return "above_" + strconv.FormatInt(above, 10)
}

func isEmbedding(op string) bool {
	op = strings.ToLower(op)
	return op == OpEmbeddings || op == "embedding" || op == "embed"
}

func priceSource(p genai.Price) string {
	if p.Source != "" {
		return p.Source
	}
	if p.ProjectID != "" {
		return "custom"
	}
	return ""
}

func usd(tokens int64, perMTok float64) float64 { return float64(tokens) * perMTok / 1e6 }

func nonNeg(n int64) int64 {
	if n < 0 {
		return 0
	}
	return n
}

func deref(p *float64, dflt float64) float64 {
	if p == nil {
		return dflt
	}
	return *p
}

func ptr(f float64) *float64 { return &f }

// near reports whether two prices agree within 0.5% (rounding in the sources).
func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	m := a
	if b > m {
		m = b
	}
	return d <= 0.005*m
}
