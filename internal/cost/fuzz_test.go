package cost

import (
	"math"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// FuzzLookup feeds arbitrary provider and model names (Bedrock ARNs, Vertex paths, dates,
// junk) to the matcher: it never panics, and a match is a valid price whose cost for any
// usage is finite and non-negative.
func FuzzLookup(f *testing.F) {
	table, err := Builtin()
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][2]string{
		{"openai", "gpt-4o-2024-08-06"}, {"anthropic", "claude-haiku-4-5-20251001"},
		{"aws.bedrock", "arn:aws:bedrock:us-east-1:123:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0"},
		{"gcp.vertex_ai", "publishers/google/models/gemini-2.5-pro"}, {"", "openai/gpt-4.1-mini"},
		{"azure.ai.openai", "my-deployment"}, {"x", "\xff\x00"}, {"openai", "ft:gpt-4o-mini:acme::abc"},
	} {
		f.Add(seed[0], seed[1], int64(1000), int64(200), int64(100))
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, provider, model string, in, out, cached int64) {
		m, ok := table.Lookup(provider, model, at)
		if !ok {
			return
		}
		if err := ValidatePrice(m.Price); err != nil {
			t.Fatalf("%s/%s matched an invalid price %+v: %v", provider, model, m.Price, err)
		}
		u := genai.Usage{InputTokens: abs(in) % 10_000_000, OutputTokens: abs(out) % 1_000_000, Reported: true}
		u.CacheReadTokens = abs(cached) % (u.InputTokens + 1)
		c := Compute(m.Price, u, "chat")
		if c.TotalUSD == nil || math.IsNaN(*c.TotalUSD) || math.IsInf(*c.TotalUSD, 0) || *c.TotalUSD < 0 {
			t.Fatalf("%s/%s %+v: cost %v", provider, model, u, c.TotalUSD)
		}
	})
}

func abs(n int64) int64 {
	if n < 0 {
		if n == math.MinInt64 {
			return 0
		}
		return -n
	}
	return n
}
