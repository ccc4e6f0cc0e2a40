package cost

import (
	"math"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

func builtin(t testing.TB) *Table {
	t.Helper()
	tb, err := Builtin()
	if err != nil {
		t.Fatalf("Builtin: %v", err)
	}
	return tb
}

// approx compares USD amounts: float64 arithmetic on per-million prices is exact to far
// better than 1e-12 at these magnitudes, so this tolerance only absorbs the last ulp.
func approx(got, want float64) bool {
	return math.Abs(got-want) <= 1e-12*math.Max(1, math.Abs(want))/1e3
}

var fixtureAt = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// TestFixtureCosts checks the expected numbers of shared/fixtures/README.md against the
// built-in table, end to end through Lookup and Compute.
func TestFixtureCosts(t *testing.T) {
	tb := builtin(t)
	tests := []struct {
		provider, model, op string
		usage               genai.Usage
		want                float64
	}{
		{"openai", "gpt-4o-mini", "chat", genai.Usage{InputTokens: 11, OutputTokens: 7}, 0.00000585},
		{"openai", "text-embedding-3-small", "embeddings", genai.Usage{InputTokens: 5}, 0.0000001},
		{"openai", "gpt-4o", "chat", genai.Usage{InputTokens: 120, OutputTokens: 30}, 0.0006},
		{"anthropic", "claude-haiku-4-5-20251001", "chat", genai.Usage{InputTokens: 60, CacheReadTokens: 10, OutputTokens: 20}, 0.000151},
		{"openai", "gpt-4.1-mini", "chat", genai.Usage{InputTokens: 200, OutputTokens: 50}, 0.00016},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			m, ok := tb.Lookup(tt.provider, tt.model, fixtureAt)
			if !ok {
				t.Fatalf("Lookup(%q, %q): no match", tt.provider, tt.model)
			}
			c := Compute(m.Price, tt.usage, tt.op)
			if c.TotalUSD == nil || !approx(*c.TotalUSD, tt.want) {
				t.Fatalf("cost = %v, want %v (price %+v)", deref(c.TotalUSD, math.NaN()), tt.want, m.Price)
			}
			if math.Abs(*c.TotalUSD-tt.want) > 1e-12 {
				t.Fatalf("cost = %v, want %v within 1e-12", *c.TotalUSD, tt.want)
			}
			if c.Source != genai.CostComputed || c.PriceID != m.Price.ID || c.PriceSource == "" {
				t.Errorf("provenance = %q %q %q, want computed, %q, a source", c.Source, c.PriceID, c.PriceSource, m.Price.ID)
			}
		})
	}
}

func f64(v float64) *float64 { return &v }

// anthropicLike is Claude Sonnet 4.5's list price: read 0.1×, 5m write 1.25×, 1h write 2×,
// and a >200K tier.
func anthropicLike() genai.Price {
	return genai.Price{
		ID: "test/sonnet", InputPerMTok: 3, OutputPerMTok: 15,
		CacheReadPerMTok: f64(0.3), CacheWritePerMTok: f64(3.75), CacheWrite1hPerMTok: f64(6),
		Tiers: []genai.PriceTier{{AboveInputTokens: 200_000, InputPerMTok: 6, OutputPerMTok: 22.5, CacheReadPerMTok: f64(0.6), CacheWritePerMTok: f64(7.5)}},
	}
}

func TestCompute(t *testing.T) {
	plain := genai.Price{ID: "test/plain", InputPerMTok: 2, OutputPerMTok: 8}
	reasoning := genai.Price{ID: "test/reasoning", InputPerMTok: 1, OutputPerMTok: 4, ReasoningPerMTok: f64(10)}
	tests := []struct {
		name  string
		price genai.Price
		usage genai.Usage
		op    string
		want  genai.Cost // only the USD fields and Tier are compared
	}{
		{
			name:  "cache read and write are inside input, billed once",
			price: anthropicLike(),
			usage: genai.Usage{InputTokens: 1000, CacheReadTokens: 600, CacheWriteTokens: 300, OutputTokens: 100},
			// 100 uncached × 3 + 600 × 0.3 + 300 × 3.75 + 100 × 15, per 1M
			want: genai.Cost{InputUSD: 300e-6, CacheReadUSD: 180e-6, CacheWriteUSD: 1125e-6, OutputUSD: 1500e-6},
		},
		{
			name:  "5m and 1h writes at their own prices",
			price: anthropicLike(),
			usage: genai.Usage{InputTokens: 1000, CacheWriteTokens: 500, CacheWrite5mTokens: 200, CacheWrite1hTokens: 300},
			want:  genai.Cost{InputUSD: 1500e-6, CacheWriteUSD: (200*3.75 + 300*6) / 1e6},
		},
		{
			name:  "unsplit remainder of writes counts as 5m",
			price: anthropicLike(),
			usage: genai.Usage{InputTokens: 1000, CacheWriteTokens: 500, CacheWrite1hTokens: 100},
			want:  genai.Cost{InputUSD: 1500e-6, CacheWriteUSD: (400*3.75 + 100*6) / 1e6},
		},
		{
			name:  "split given without a total",
			price: anthropicLike(),
			usage: genai.Usage{InputTokens: 1000, CacheWrite5mTokens: 200, CacheWrite1hTokens: 300},
			want:  genai.Cost{InputUSD: 1500e-6, CacheWriteUSD: (200*3.75 + 300*6) / 1e6},
		},
		{
			name:  "missing cache prices fall back to input, 1h to the 5m write",
			price: genai.Price{InputPerMTok: 2, OutputPerMTok: 8, CacheWritePerMTok: f64(2.5)},
			usage: genai.Usage{InputTokens: 1000, CacheReadTokens: 100, CacheWrite1hTokens: 100},
			want:  genai.Cost{InputUSD: 1600e-6, CacheReadUSD: 200e-6, CacheWriteUSD: 250e-6},
		},
		{
			name:  "reasoning inside output at the output price",
			price: plain,
			usage: genai.Usage{InputTokens: 10, OutputTokens: 100, ReasoningTokens: 60},
			want:  genai.Cost{InputUSD: 20e-6, OutputUSD: 800e-6},
		},
		{
			name:  "reasoning at its own price, rest of output at output price",
			price: reasoning,
			usage: genai.Usage{InputTokens: 10, OutputTokens: 100, ReasoningTokens: 60},
			want:  genai.Cost{InputUSD: 10e-6, OutputUSD: 160e-6, ReasoningUSD: 600e-6},
		},
		{
			name:  "reasoning larger than output is capped",
			price: reasoning,
			usage: genai.Usage{OutputTokens: 10, ReasoningTokens: 60},
			want:  genai.Cost{ReasoningUSD: 100e-6},
		},
		{
			name:  "exactly at the tier threshold stays on the base price",
			price: anthropicLike(),
			usage: genai.Usage{InputTokens: 200_000, OutputTokens: 1000},
			want:  genai.Cost{InputUSD: 0.6, OutputUSD: 0.015},
		},
		{
			name:  "one token above the threshold reprices the whole request",
			price: anthropicLike(),
			usage: genai.Usage{InputTokens: 200_001, CacheReadTokens: 100_000, CacheWriteTokens: 1, CacheWrite1hTokens: 1, OutputTokens: 1000},
			// 100000 × 6 + 100000 × 0.6 + 1 × 12 (1h tier write: 7.5 × 6/3.75) + 1000 × 22.5
			want: genai.Cost{InputUSD: 0.6, CacheReadUSD: 0.06, CacheWriteUSD: 12e-6, OutputUSD: 0.0225, Tier: "above_200k"},
		},
		{
			name:  "the tier counts cache tokens toward the threshold",
			price: anthropicLike(),
			usage: genai.Usage{InputTokens: 250_000, CacheReadTokens: 240_000},
			want:  genai.Cost{InputUSD: 0.06, CacheReadUSD: 0.144, Tier: "above_200k"},
		},
		{
			name: "highest tier exceeded wins",
			price: genai.Price{InputPerMTok: 1, OutputPerMTok: 1, Tiers: []genai.PriceTier{
				{AboveInputTokens: 256_000, InputPerMTok: 3, OutputPerMTok: 3},
				{AboveInputTokens: 32_000, InputPerMTok: 2, OutputPerMTok: 2},
			}},
			usage: genai.Usage{InputTokens: 300_000},
			want:  genai.Cost{InputUSD: 0.9, Tier: "above_256k"},
		},
		{
			name:  "embeddings price input only",
			price: genai.Price{InputPerMTok: 0.02, OutputPerMTok: 5},
			usage: genai.Usage{InputTokens: 1000, OutputTokens: 1000},
			op:    "embeddings",
			want:  genai.Cost{InputUSD: 20e-6},
		},
		{
			name:  "negative counts are zero",
			price: plain,
			usage: genai.Usage{InputTokens: -5, OutputTokens: -1},
			want:  genai.Cost{},
		},
		{
			// pydantic-ai #3850: raw Anthropic input (cache excluded) passed as total input.
			// Never a negative uncached count; the cached tokens are still billed.
			name:  "cache larger than input clamps uncached at zero",
			price: anthropicLike(),
			usage: genai.Usage{InputTokens: 1, CacheReadTokens: 30433, CacheWriteTokens: 287},
			want:  genai.Cost{CacheReadUSD: 30433 * 0.3 / 1e6, CacheWriteUSD: 287 * 3.75 / 1e6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := tt.op
			if op == "" {
				op = "chat"
			}
			got := Compute(tt.price, tt.usage, op)
			check := func(field string, g, w float64) {
				t.Helper()
				if !approx(g, w) {
					t.Errorf("%s = %.15g, want %.15g", field, g, w)
				}
			}
			check("InputUSD", got.InputUSD, tt.want.InputUSD)
			check("OutputUSD", got.OutputUSD, tt.want.OutputUSD)
			check("CacheReadUSD", got.CacheReadUSD, tt.want.CacheReadUSD)
			check("CacheWriteUSD", got.CacheWriteUSD, tt.want.CacheWriteUSD)
			check("ReasoningUSD", got.ReasoningUSD, tt.want.ReasoningUSD)
			sum := tt.want.InputUSD + tt.want.OutputUSD + tt.want.CacheReadUSD + tt.want.CacheWriteUSD + tt.want.ReasoningUSD
			if got.TotalUSD == nil {
				t.Fatal("TotalUSD = nil, want a computed total")
			}
			check("TotalUSD", *got.TotalUSD, sum)
			if got.Tier != tt.want.Tier {
				t.Errorf("Tier = %q, want %q", got.Tier, tt.want.Tier)
			}
			if got.Source != genai.CostComputed {
				t.Errorf("Source = %q, want %q", got.Source, genai.CostComputed)
			}
		})
	}
}

// TestComputeKnownBugs pins the double-counting bugs listed in pricing.md section 7.
func TestComputeKnownBugs(t *testing.T) {
	tb := builtin(t)
	price := func(provider, model string) genai.Price {
		t.Helper()
		m, ok := tb.Lookup(provider, model, fixtureAt)
		if !ok {
			t.Fatalf("Lookup(%q, %q): no match", provider, model)
		}
		return m.Price
	}
	tests := []struct {
		name  string
		price genai.Price
		usage genai.Usage
		want  float64
	}{
		{
			// LiteLLM #6215, Langfuse #5568: OpenAI cached_tokens are a subset of prompt_tokens.
			// OpenAI's doc example: prompt 2006, cached 1920.
			name:  "openai cached tokens not billed twice",
			price: price("openai", "gpt-4o"),
			usage: genai.Usage{InputTokens: 2006, CacheReadTokens: 1920, OutputTokens: 300},
			want:  (86*2.5 + 1920*1.25 + 300*10) / 1e6,
		},
		{
			// LiteLLM #9812, #6575, PR #26919: cache creation billed as input and as write.
			name:  "anthropic cache writes not billed twice",
			price: price("anthropic", "claude-sonnet-4-5-20250929"),
			usage: genai.Usage{InputTokens: 1 + 287 + 30433, CacheWriteTokens: 287, CacheReadTokens: 30433, OutputTokens: 50},
			want:  (1*3 + 287*3.75 + 30433*0.3 + 50*15) / 1e6,
		},
		{
			// LiteLLM #14849: Gemini cache hits double counted (0.76 instead of 0.18).
			name:  "gemini cache hits not billed twice",
			price: price("gcp.gemini", "gemini-2.5-flash"),
			usage: genai.Usage{InputTokens: 100_000, CacheReadTokens: 90_000, OutputTokens: 1000},
			want:  (10_000*0.3 + 90_000*0.03 + 1000*2.5) / 1e6,
		},
		{
			// opencode #17566, tokscale #1142: reasoning is inside output.
			name:  "reasoning not billed twice",
			price: price("openai", "o4-mini"),
			usage: genai.Usage{InputTokens: 1000, OutputTokens: 5000, ReasoningTokens: 4000},
			want:  (1000*1.1 + 5000*4.4) / 1e6,
		},
		{
			// claude-code-hub #869: above the threshold the whole request moves to the tier,
			// not only the tokens above it.
			name:  "long context tier applies to the whole request",
			price: price("gcp.gemini", "gemini-2.5-pro"),
			usage: genai.Usage{InputTokens: 300_000, OutputTokens: 10_000},
			want:  (300_000*2.5 + 10_000*15) / 1e6,
		},
		{
			// opencode PR #20801: a missing cache price must not make cached tokens free.
			name:  "missing cache read price bills cached tokens at input",
			price: price("openai", "gpt-4o-2024-05-13"),
			usage: genai.Usage{InputTokens: 1000, CacheReadTokens: 500},
			want:  1000 * 5 / 1e6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compute(tt.price, tt.usage, "chat")
			if got.TotalUSD == nil || !approx(*got.TotalUSD, tt.want) {
				t.Fatalf("cost = %v, want %v", deref(got.TotalUSD, math.NaN()), tt.want)
			}
		})
	}
}
