package cost

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// fakePrices is a PriceSource that records how often it was read.
type fakePrices struct {
	mu     sync.Mutex
	prices map[string][]genai.Price
	err    error
	reads  int
}

func (f *fakePrices) Prices(_ context.Context, projectID string) ([]genai.Price, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	return f.prices[projectID], nil
}

func (f *fakePrices) set(projectID string, p ...genai.Price) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.prices == nil {
		f.prices = map[string][]genai.Price{}
	}
	f.prices[projectID] = p
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func llmCall(provider, model string, in, out int64) *genai.Call {
	return &genai.Call{Type: genai.TypeLLM, Operation: "chat", Provider: provider, RequestModel: model,
		Usage: genai.Usage{InputTokens: in, OutputTokens: out, Reported: true}}
}

func TestApply(t *testing.T) {
	tb := builtin(t)
	clientUSD := 0.5
	tests := []struct {
		name       string
		call       *genai.Call
		custom     []genai.Price
		wantSource string
		wantTotal  *float64
		wantPrice  string
		wantClient bool
	}{
		{
			name:       "built-in price",
			call:       llmCall("openai", "gpt-4o", 120, 30),
			wantSource: genai.CostComputed, wantTotal: f64(0.0006), wantPrice: "openai/gpt-4o",
		},
		{
			name: "response model before request model",
			call: func() *genai.Call {
				c := llmCall("openai", "gpt-4o", 1_000_000, 0)
				c.ResponseModel = "gpt-4o-2024-05-13"
				return c
			}(),
			wantSource: genai.CostComputed, wantTotal: f64(5), wantPrice: "openai/gpt-4o-2024-05-13",
		},
		{
			name: "request model when the response model is unknown",
			call: func() *genai.Call {
				c := llmCall("openai", "gpt-4o-mini", 11, 7)
				c.ResponseModel = "gpt-4o-mini-custom-build"
				return c
			}(),
			wantSource: genai.CostComputed, wantTotal: f64(0.00000585), wantPrice: "openai/gpt-4o-mini",
		},
		{
			name: "embedding span",
			call: &genai.Call{Type: genai.TypeEmbedding, Operation: "embeddings", Provider: "openai", RequestModel: "text-embedding-3-small",
				Usage: genai.Usage{InputTokens: 5, Reported: true}},
			wantSource: genai.CostComputed, wantTotal: f64(0.0000001), wantPrice: "openai/text-embedding-3-small",
		},
		{
			name: "client cost kept beside the computed one",
			call: func() *genai.Call {
				c := llmCall("openai", "gpt-4o", 120, 30)
				c.Cost.ClientUSD = &clientUSD
				return c
			}(),
			wantSource: genai.CostComputed, wantTotal: f64(0.0006), wantPrice: "openai/gpt-4o", wantClient: true,
		},
		{
			name: "client cost when no price is known",
			call: func() *genai.Call {
				c := llmCall("acme", "in-house-model", 10, 10)
				c.Cost.ClientUSD = &clientUSD
				return c
			}(),
			wantSource: genai.CostClient, wantTotal: f64(0.5), wantClient: true,
		},
		{
			// Unpriced must never read as $0 (getagentseal/codeburn PR #646 and others).
			name:       "unknown model is unpriced, not zero",
			call:       llmCall("acme", "in-house-model", 10, 10),
			wantSource: genai.CostUnpriced,
		},
		{
			name:       "no usage reported cannot be computed",
			call:       &genai.Call{Type: genai.TypeLLM, Provider: "openai", RequestModel: "gpt-4o"},
			wantSource: genai.CostUnpriced, wantPrice: "openai/gpt-4o",
		},
		{
			// Langfuse #2491: a custom price for a built-in model must win.
			name:       "custom price beats built-in",
			call:       llmCall("openai", "gpt-4o", 1_000_000, 1_000_000),
			custom:     []genai.Price{{ID: "c1", ProjectID: "p", Provider: "openai", Model: "gpt-4o", InputPerMTok: 1, OutputPerMTok: 2}},
			wantSource: genai.CostComputed, wantTotal: f64(3), wantPrice: "c1",
		},
		{
			// LiteLLM #40006: a custom cache-read price re-added cache tokens to the prompt.
			name: "custom cache price bills cache tokens once",
			call: func() *genai.Call {
				c := llmCall("anthropic", "claude-haiku-4-5", 1_000_000, 0)
				c.Usage.CacheReadTokens = 800_000
				return c
			}(),
			custom:     []genai.Price{{ID: "c4", Model: "claude-haiku-4-5", InputPerMTok: 1, OutputPerMTok: 5, CacheReadPerMTok: f64(0.1)}},
			wantSource: genai.CostComputed, wantTotal: f64(0.2 + 0.08), wantPrice: "c4",
		},
		{
			name:       "custom price for a deployment name",
			call:       llmCall("azure", "my-prod-deployment", 1_000_000, 0),
			custom:     []genai.Price{{ID: "c2", Provider: "azure.ai.openai", Model: "my-prod-deployment", InputPerMTok: 2.5, OutputPerMTok: 10}},
			wantSource: genai.CostComputed, wantTotal: f64(2.5), wantPrice: "c2",
		},
		{
			name:       "custom price for another provider does not apply",
			call:       llmCall("azure", "gpt-4o", 1_000_000, 0),
			custom:     []genai.Price{{ID: "c3", Provider: "openai", Model: "gpt-4o", InputPerMTok: 1}},
			wantSource: genai.CostComputed, wantTotal: f64(2.5), wantPrice: "azure.ai.openai/gpt-4o",
		},
		{
			name: "non-model call left alone",
			call: &genai.Call{Type: genai.TypeTool, Provider: "openai", RequestModel: "gpt-4o",
				Usage: genai.Usage{InputTokens: 10, Reported: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakePrices{}
			src.set("p", tt.custom...)
			calc := NewCalculator(tb, src, (&clock{fixtureAt}).now)
			if err := calc.Apply(context.Background(), "p", tt.call); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			c := tt.call.Cost
			if c.Source != tt.wantSource {
				t.Errorf("Source = %q, want %q", c.Source, tt.wantSource)
			}
			switch {
			case tt.wantTotal == nil && c.TotalUSD != nil:
				t.Errorf("TotalUSD = %v, want nil", *c.TotalUSD)
			case tt.wantTotal != nil && (c.TotalUSD == nil || math.Abs(*c.TotalUSD-*tt.wantTotal) > 1e-12):
				t.Errorf("TotalUSD = %v, want %v", deref(c.TotalUSD, math.NaN()), *tt.wantTotal)
			}
			if c.PriceID != tt.wantPrice {
				t.Errorf("PriceID = %q, want %q", c.PriceID, tt.wantPrice)
			}
			if (c.ClientUSD != nil) != tt.wantClient || tt.wantClient && *c.ClientUSD != clientUSD {
				t.Errorf("ClientUSD = %v, want kept: %v", c.ClientUSD, tt.wantClient)
			}
		})
	}
}

func TestCustomMatching(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	custom := []genai.Price{
		{ID: "exact-old", Model: "gpt-4o", InputPerMTok: 1, EffectiveFrom: day(1)},
		{ID: "exact-new", Model: "gpt-4o", InputPerMTok: 2, EffectiveFrom: day(10)},
		{ID: "exact-future", Model: "gpt-4o", InputPerMTok: 3, EffectiveFrom: day(30)},
		{ID: "exact-openai", Provider: "openai", Model: "gpt-4o-mini", InputPerMTok: 4},
		{ID: "exact-any", Model: "gpt-4o-mini", InputPerMTok: 5, EffectiveFrom: day(5)},
		{ID: "prefix-short", Model: "claude-", MatchType: MatchPrefix, InputPerMTok: 6},
		{ID: "prefix-long", Model: "claude-opus-", MatchType: MatchPrefix, InputPerMTok: 7},
		{ID: "regex", Model: `llama-3\.[0-9]+-.*`, MatchType: MatchRegex, InputPerMTok: 8},
		{ID: "regex-unanchored-looking", Model: "mistral", MatchType: MatchRegex, InputPerMTok: 9},
	}
	set := compileCustom(custom)
	tests := []struct {
		provider, model string
		at              time.Time
		wantID          string
		wantRule        Rule
	}{
		{"openai", "gpt-4o", day(5), "exact-old", RuleCustomExact},
		{"openai", "gpt-4o", day(10), "exact-new", RuleCustomExact},
		{"openai", "gpt-4o", day(29), "exact-new", RuleCustomExact},
		{"openai", "gpt-4o", day(30), "exact-future", RuleCustomExact},
		{"openai", "gpt-4o", time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), "", ""},
		{"openai", "openai/gpt-4o", day(10), "exact-new", RuleCustomExact},
		{"openai", "gpt-4o-2024-08-06", day(10), "exact-new", RuleCustomExact},
		{"openai", "gpt-4o-mini", day(10), "exact-openai", RuleCustomExact},
		{"azure", "gpt-4o-mini", day(10), "exact-any", RuleCustomExact},
		{"anthropic", "claude-opus-4-5", day(10), "prefix-long", RuleCustomPrefix},
		{"anthropic", "claude-sonnet-4-5", day(10), "prefix-short", RuleCustomPrefix},
		{"groq", "llama-3.3-70b-versatile", day(10), "regex", RuleCustomRegex},
		{"groq", "Llama-3.1-8B-instant", day(10), "regex", RuleCustomRegex},
		{"mistral", "mistral", day(10), "regex-unanchored-looking", RuleCustomRegex},
		{"mistral", "mistral-large-latest", day(10), "", ""}, // regexes are anchored
		{"openai", "gpt-4.1", day(10), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.provider+"/"+tt.model+"@"+tt.at.Format(time.DateOnly), func(t *testing.T) {
			m, ok := set.match(NormalizeProvider(tt.provider), candidates(tt.model), tt.at, nil)
			if got := m.Price.ID; !ok && tt.wantID != "" || ok && (got != tt.wantID || m.Rule != tt.wantRule) {
				t.Errorf("match = %q by %q (found %v), want %q by %q", got, m.Rule, ok, tt.wantID, tt.wantRule)
			}
		})
	}
}

func TestApplyAtEffectiveFrom(t *testing.T) {
	src := &fakePrices{}
	cut := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	src.set("p", genai.Price{ID: "negotiated", Model: "gpt-4o", InputPerMTok: 1, OutputPerMTok: 1, EffectiveFrom: cut})
	calc := NewCalculator(builtin(t), src, (&clock{fixtureAt}).now)
	for _, tt := range []struct {
		at   time.Time
		want string
	}{
		{cut.Add(-time.Second), "openai/gpt-4o"},
		{cut, "negotiated"},
	} {
		call := llmCall("openai", "gpt-4o", 10, 10)
		if err := calc.ApplyAt(context.Background(), "p", call, tt.at); err != nil {
			t.Fatalf("ApplyAt: %v", err)
		}
		if call.Cost.PriceID != tt.want {
			t.Errorf("at %s: PriceID = %q, want %q", tt.at, call.Cost.PriceID, tt.want)
		}
	}
}

func TestCustomPriceCache(t *testing.T) {
	src := &fakePrices{}
	src.set("p", genai.Price{ID: "v1", Model: "gpt-4o", InputPerMTok: 1})
	clk := &clock{fixtureAt}
	calc := NewCalculator(builtin(t), src, clk.now)
	ctx := context.Background()
	priceID := func() string {
		t.Helper()
		c := llmCall("openai", "gpt-4o", 10, 10)
		if err := calc.Apply(ctx, "p", c); err != nil {
			t.Fatalf("Apply: %v", err)
		}
		return c.Cost.PriceID
	}
	if got := priceID(); got != "v1" {
		t.Fatalf("PriceID = %q, want v1", got)
	}
	src.set("p", genai.Price{ID: "v2", Model: "gpt-4o", InputPerMTok: 2})
	if got := priceID(); got != "v1" || src.reads != 1 {
		t.Errorf("within the TTL: PriceID = %q after %d reads, want v1 after 1", got, src.reads)
	}
	calc.Invalidate("p")
	if got := priceID(); got != "v2" || src.reads != 2 {
		t.Errorf("after Invalidate: PriceID = %q after %d reads, want v2 after 2", got, src.reads)
	}
	src.set("p")
	clk.t = clk.t.Add(CustomPriceTTL)
	if got := priceID(); got != "openai/gpt-4o" || src.reads != 3 {
		t.Errorf("after the TTL: PriceID = %q after %d reads, want the built-in after 3", got, src.reads)
	}

	// A failing source: the cached set keeps serving; with nothing cached, an error.
	src.err = errors.New("database is down")
	clk.t = clk.t.Add(CustomPriceTTL)
	if got := priceID(); got != "openai/gpt-4o" {
		t.Errorf("stale set on error: PriceID = %q, want the built-in", got)
	}
	c := llmCall("openai", "gpt-4o", 10, 10)
	err := calc.Apply(ctx, "other", c)
	if !errors.Is(err, src.err) {
		t.Errorf("Apply with an unreadable source = %v, want it to wrap %v", err, src.err)
	}
	if c.Cost.Source != "" {
		t.Errorf("Cost after an error = %+v, want unchanged", c.Cost)
	}
}

func TestResolve(t *testing.T) {
	src := &fakePrices{}
	src.set("p", genai.Price{ID: "mine", Provider: "openai", Model: "gpt-4o", InputPerMTok: 1})
	calc := NewCalculator(builtin(t), src, (&clock{fixtureAt}).now)
	ctx := context.Background()

	r, err := calc.Resolve(ctx, "p", "openai", "gpt-4o")
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if !r.Found || !r.Custom || r.Rule != RuleCustomExact || r.Price == nil || r.Price.ID != "mine" {
		t.Errorf("Resolve(gpt-4o) = %+v, want custom price mine", r)
	}

	r, err = calc.Resolve(ctx, "p", "AWS", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if !r.Found || r.Custom || r.Provider != "aws.bedrock" || r.MatchedProvider != "aws.bedrock" || r.Rule != RuleExact {
		t.Errorf("Resolve(bedrock) = %+v, want the built-in regional price", r)
	}
	if n := len(r.Steps); n == 0 || !r.Steps[n-1].Matched || r.Steps[0].Kind != "custom" {
		t.Errorf("steps = %+v, want custom attempts first and the match last", r.Steps)
	}

	r, err = calc.Resolve(ctx, "p", "openai", "gpt-9")
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if r.Found || r.Price != nil || len(r.Steps) == 0 {
		t.Errorf("Resolve(gpt-9) = %+v, want not found with the steps tried", r)
	}
	for _, s := range r.Steps {
		if s.Matched {
			t.Errorf("step %+v matched for an unknown model", s)
		}
	}
}

func TestNewCalculatorWithoutSources(t *testing.T) {
	calc := NewCalculator(nil, nil, nil)
	c := llmCall("openai", "gpt-4o", 10, 10)
	if err := calc.Apply(context.Background(), "p", c); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if c.Cost.Source != genai.CostUnpriced || c.Cost.TotalUSD != nil {
		t.Errorf("Cost = %+v, want unpriced", c.Cost)
	}
}

func TestValidatePrice(t *testing.T) {
	good := genai.Price{Model: "gpt-4o", InputPerMTok: 1, OutputPerMTok: 2,
		Tiers: []genai.PriceTier{{AboveInputTokens: 1000, InputPerMTok: 2}, {AboveInputTokens: 2000, InputPerMTok: 3}}}
	if err := ValidatePrice(good); err != nil {
		t.Errorf("ValidatePrice(good) = %v, want nil", err)
	}
	bad := []genai.Price{
		{Model: " "},
		{Model: "x", MatchType: "fuzzy"},
		{Model: "(", MatchType: MatchRegex},
		{Model: "x", InputPerMTok: -1},
		{Model: "x", InputPerMTok: math.NaN()},
		{Model: "x", CacheReadPerMTok: f64(math.Inf(1))},
		{Model: "x", Tiers: []genai.PriceTier{{AboveInputTokens: 2000}, {AboveInputTokens: 1000}}},
		{Model: "x", Tiers: []genai.PriceTier{{AboveInputTokens: 0}}},
	}
	for _, p := range bad {
		if err := ValidatePrice(p); err == nil {
			t.Errorf("ValidatePrice(%+v) = nil, want an error", p)
		}
	}
}

func TestCalculatorConcurrent(t *testing.T) {
	src := &fakePrices{}
	src.set("p", genai.Price{ID: "mine", Model: "gpt-4o", InputPerMTok: 1})
	clk := &clock{fixtureAt}
	calc := NewCalculator(builtin(t), src, clk.now)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				c := llmCall("openai", "gpt-4o", 10, 10)
				if err := calc.Apply(context.Background(), "p", c); err != nil || c.Cost.PriceID != "mine" {
					t.Errorf("Apply = %v, PriceID %q", err, c.Cost.PriceID)
					return
				}
				if (i+j)%50 == 0 {
					calc.Invalidate("p")
				}
			}
		}()
	}
	wg.Wait()
}
