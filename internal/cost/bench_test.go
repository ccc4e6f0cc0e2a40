package cost

import (
	"context"
	"testing"

	"github.com/use-lumina/lumina/internal/genai"
)

// BenchmarkApply measures the per-span cost of pricing an LLM call with the project's
// custom prices cached: it runs on every LLM span.
func BenchmarkApply(b *testing.B) {
	src := &fakePrices{}
	src.set("p", genai.Price{ID: "mine", Model: "my-finetune", InputPerMTok: 1})
	calc := NewCalculator(builtin(b), src, (&clock{fixtureAt}).now)
	ctx := context.Background()
	cases := []struct{ name, provider, model string }{
		{"exact", "openai", "gpt-4o-mini"},
		{"dated", "anthropic", "claude-haiku-4-5-20251001"},
		{"bedrock-profile", "aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"},
		{"prefixed", "", "openai/gpt-4o-mini"},
		{"custom", "openai", "my-finetune"},
		{"unknown", "acme", "in-house-model"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			call := llmCall(c.provider, c.model, 1200, 300)
			b.ReportAllocs()
			for b.Loop() {
				call.Cost = genai.Cost{}
				if err := calc.Apply(ctx, "p", call); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBuiltin(b *testing.B) {
	for b.Loop() {
		if _, err := Builtin(); err != nil {
			b.Fatal(err)
		}
	}
}
