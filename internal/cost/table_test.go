package cost

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// TestTableMatchesSources fails when a source file changed without regenerating the table
// (go generate ./internal/cost). The generator's own test compares the full output.
func TestTableMatchesSources(t *testing.T) {
	tb := builtin(t)
	if len(tb.Sources()) == 0 {
		t.Fatal("table lists no sources")
	}
	for _, s := range tb.Sources() {
		b, err := os.ReadFile(filepath.Join("sources", filepath.FromSlash(s.File)))
		if err != nil {
			t.Fatalf("read source: %v", err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != s.SHA256 {
			t.Errorf("sources/%s has SHA-256 %s, table was generated from %s: run go generate ./internal/cost", s.File, got, s.SHA256)
		}
	}
}

// TestCurrentPrices checks every model of pricing.md section 6 against its consensus
// price (input, output, cache read, 5-minute cache write; -1 means none listed).
func TestCurrentPrices(t *testing.T) {
	tb := builtin(t)
	tests := []struct {
		provider, model      string
		in, out, read, write float64
	}{
		{"openai", "gpt-4o", 2.5, 10, 1.25, -1},
		{"openai", "gpt-4o-mini", 0.15, 0.6, 0.075, -1},
		{"openai", "gpt-4.1", 2, 8, 0.5, -1},
		{"openai", "gpt-4.1-mini", 0.4, 1.6, 0.1, -1},
		{"openai", "gpt-4.1-nano", 0.1, 0.4, 0.025, -1},
		{"openai", "gpt-5", 1.25, 10, 0.125, -1},
		{"openai", "gpt-5-mini", 0.25, 2, 0.025, -1},
		{"openai", "gpt-5-nano", 0.05, 0.4, 0.005, -1},
		{"openai", "gpt-5.1", 1.25, 10, 0.125, -1},
		{"openai", "gpt-5.2", 1.75, 14, 0.175, -1},
		{"openai", "gpt-5.4", 2.5, 15, 0.25, -1},
		{"openai", "gpt-5.5", 5, 30, 0.5, -1},
		{"openai", "gpt-5.6", 5, 30, 0.5, 6.25},
		{"openai", "gpt-5.6-sol", 5, 30, 0.5, 6.25},
		{"openai", "o1", 15, 60, 7.5, -1},
		{"openai", "o3", 2, 8, 0.5, -1},
		{"openai", "o3-mini", 1.1, 4.4, 0.55, -1},
		{"openai", "o4-mini", 1.1, 4.4, 0.275, -1},
		{"openai", "gpt-3.5-turbo", 0.5, 1.5, -1, -1},
		{"openai", "gpt-4", 30, 60, -1, -1},
		{"openai", "gpt-4-turbo", 10, 30, -1, -1},
		{"openai", "text-embedding-3-small", 0.02, 0, -1, -1},
		{"openai", "text-embedding-3-large", 0.13, 0, -1, -1},
		{"anthropic", "claude-opus-4-20250514", 15, 75, 1.5, 18.75},
		{"anthropic", "claude-opus-4-1", 15, 75, 1.5, 18.75},
		{"anthropic", "claude-opus-4-5", 5, 25, 0.5, 6.25},
		{"anthropic", "claude-opus-4-6", 5, 25, 0.5, 6.25},
		{"anthropic", "claude-opus-4-7", 5, 25, 0.5, 6.25},
		{"anthropic", "claude-opus-4-8", 5, 25, 0.5, 6.25},
		{"anthropic", "claude-sonnet-4-20250514", 3, 15, 0.3, 3.75},
		{"anthropic", "claude-sonnet-4-5", 3, 15, 0.3, 3.75},
		{"anthropic", "claude-sonnet-4-6", 3, 15, 0.3, 3.75},
		{"anthropic", "claude-haiku-4-5", 1, 5, 0.1, 1.25},
		{"anthropic", "claude-3-7-sonnet-20250219", 3, 15, 0.3, 3.75},
		{"anthropic", "claude-3-5-sonnet-20241022", 3, 15, 0.3, 3.75},
		{"anthropic", "claude-3-5-haiku-20241022", 0.8, 4, 0.08, 1},
		{"anthropic", "claude-3-haiku-20240307", 0.25, 1.25, 0.03, 0.3},
		{"gcp.gemini", "gemini-2.5-pro", 1.25, 10, 0.125, -1},
		{"gcp.gemini", "gemini-2.5-flash", 0.3, 2.5, 0.03, -1},
		{"gcp.gemini", "gemini-2.5-flash-lite", 0.1, 0.4, 0.01, -1},
		{"gcp.gemini", "gemini-2.0-flash", 0.1, 0.4, 0.025, -1},
		{"mistral_ai", "mistral-large-latest", 0.5, 1.5, -1, -1},
		// Sources disagree (genai-prices 0.10/0.30); LiteLLM wins by precedence.
		{"mistral_ai", "mistral-small-latest", 0.06, 0.18, -1, -1},
		{"groq", "llama-3.3-70b-versatile", 0.59, 0.79, -1, -1},
		{"groq", "llama-3.1-8b-instant", 0.05, 0.08, -1, -1},
		{"together_ai", "meta-llama/Llama-3.3-70B-Instruct-Turbo", 0.88, 0.88, -1, -1},
		{"together_ai", "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", 0.18, 0.18, -1, -1},
		{"deepseek", "deepseek-chat", 0.28, 0.42, 0.028, -1},
		{"deepseek", "deepseek-reasoner", 0.28, 0.42, 0.028, -1},
		{"cohere", "command-r-08-2024", 0.15, 0.6, -1, -1},
		{"cohere", "command-r-plus-08-2024", 2.5, 10, -1, -1},
		{"x_ai", "grok-3", 3, 15, 0.75, -1},
		{"x_ai", "grok-3-mini", 0.3, 0.5, 0.075, -1},
		{"x_ai", "grok-4", 3, 15, 0.75, -1}, // cache read filled from genai-prices
		{"x_ai", "grok-4-0709", 3, 15, 0.75, -1},
		{"x_ai", "grok-4-fast-reasoning", 0.2, 0.5, 0.05, -1},
	}
	opt := func(p *float64) float64 {
		if p == nil {
			return -1
		}
		return *p
	}
	for _, tt := range tests {
		t.Run(tt.provider+"/"+tt.model, func(t *testing.T) {
			m, ok := tb.Lookup(tt.provider, tt.model, fixtureAt)
			if !ok {
				t.Fatalf("Lookup(%q, %q): no match", tt.provider, tt.model)
			}
			p := m.Price
			if p.InputPerMTok != tt.in || p.OutputPerMTok != tt.out || opt(p.CacheReadPerMTok) != tt.read || opt(p.CacheWritePerMTok) != tt.write {
				t.Errorf("%s = %v/%v read %v write %v, want %v/%v read %v write %v", p.ID,
					p.InputPerMTok, p.OutputPerMTok, opt(p.CacheReadPerMTok), opt(p.CacheWritePerMTok), tt.in, tt.out, tt.read, tt.write)
			}
		})
	}
}

func TestCurrentTiers(t *testing.T) {
	tb := builtin(t)
	tests := []struct {
		provider, model string
		above           int64
		in, out, read   float64
	}{
		{"openai", "gpt-5.4", 272_000, 5, 22.5, 0.5},
		{"openai", "gpt-5.5", 272_000, 10, 45, 1},
		{"openai", "gpt-5.6", 272_000, 10, 45, 1},
		{"anthropic", "claude-sonnet-4-5", 200_000, 6, 22.5, 0.6},
		{"anthropic", "claude-sonnet-4-20250514", 200_000, 6, 22.5, 0.6},
		{"gcp.gemini", "gemini-2.5-pro", 200_000, 2.5, 15, 0.25},
		{"x_ai", "grok-4-fast-reasoning", 128_000, 0.4, 1, -1}, // no tier cache price: the base one applies
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			m, ok := tb.Lookup(tt.provider, tt.model, fixtureAt)
			if !ok {
				t.Fatalf("Lookup(%q, %q): no match", tt.provider, tt.model)
			}
			if len(m.Price.Tiers) != 1 {
				t.Fatalf("%s tiers = %+v, want one", m.Price.ID, m.Price.Tiers)
			}
			tr := m.Price.Tiers[0]
			if tr.AboveInputTokens != tt.above || tr.InputPerMTok != tt.in || tr.OutputPerMTok != tt.out || deref(tr.CacheReadPerMTok, -1) != tt.read {
				t.Errorf("%s tier = above %d %v/%v read %v, want above %d %v/%v read %v", m.Price.ID,
					tr.AboveInputTokens, tr.InputPerMTok, tr.OutputPerMTok, deref(tr.CacheReadPerMTok, -1), tt.above, tt.in, tt.out, tt.read)
			}
		})
	}
	// Claude 4.6 and later have a flat 1M context; Anthropic's 1h write is 2x input.
	for _, model := range []string{"claude-sonnet-4-6", "claude-opus-4-6", "claude-opus-4-7"} {
		m, _ := tb.Lookup("anthropic", model, fixtureAt)
		if len(m.Price.Tiers) != 0 {
			t.Errorf("%s has tiers %+v, want a flat price", m.Price.ID, m.Price.Tiers)
		}
		if w := deref(m.Price.CacheWrite1hPerMTok, -1); w != 2*m.Price.InputPerMTok {
			t.Errorf("%s 1h write = %v, want %v", m.Price.ID, w, 2*m.Price.InputPerMTok)
		}
	}
}

// TestTableSanity checks invariants over the whole built-in table.
func TestTableSanity(t *testing.T) {
	tb := builtin(t)
	if tb.Len() < 3000 || tb.Models() < 3000 {
		t.Errorf("table has %d prices for %d models, want the full catalogue", tb.Len(), tb.Models())
	}
	if !tb.Embedding("openai/text-embedding-3-small") || tb.Embedding("openai/gpt-4o") {
		t.Error("Embedding: text-embedding-3-small should be an embedding price and gpt-4o not")
	}
	ids := map[string]bool{}
	for _, p := range tb.Prices() {
		if ids[p.ID] {
			t.Errorf("duplicate price ID %q", p.ID)
		}
		ids[p.ID] = true
		if got, ok := tb.Price(p.ID); !ok || got.ID != p.ID {
			t.Errorf("Price(%q) not found", p.ID)
		}
		if p.Source == "" || p.Provider == "" {
			t.Errorf("price %q has no source or provider", p.ID)
		}
		// Anthropic's 1h write is 2x input on every model (pricing.md section 6): catches
		// data errors like LiteLLM's claude-3-haiku 6.00.
		if p.Provider == ProviderAnthropic && p.CacheWrite1hPerMTok != nil && !near(*p.CacheWrite1hPerMTok, 2*p.InputPerMTok) {
			t.Errorf("%s: 1h cache write %v, want 2x input %v", p.ID, *p.CacheWrite1hPerMTok, 2*p.InputPerMTok)
		}
	}
}
