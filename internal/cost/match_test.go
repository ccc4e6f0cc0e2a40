package cost

import (
	"testing"
	"time"
)

func TestLookup(t *testing.T) {
	tb := builtin(t)
	tests := []struct {
		name, provider, model string
		wantID                string
		wantRule              Rule
		wantIn, wantOut       float64
	}{
		{"exact", "openai", "gpt-4o", "openai/gpt-4o", RuleExact, 2.5, 10},
		{"mini is its own model", "openai", "gpt-4o-mini", "openai/gpt-4o-mini", RuleExact, 0.15, 0.6},
		{"case and spaces", "OpenAI", " GPT-4o ", "openai/gpt-4o", RuleExact, 2.5, 10},
		{"provider alias az.ai.openai", "az.ai.openai", "gpt-4o", "azure.ai.openai/gpt-4o", RuleExact, 2.5, 10},
		{"vercel provider name", "openai.chat", "gpt-4o-mini", "openai/gpt-4o-mini", RuleExact, 0.15, 0.6},
		{"no provider: vendor from the name", "", "gpt-4.1-mini", "openai/gpt-4.1-mini", RuleExact, 0.4, 1.6},
		{"unknown provider: vendor from the name", "langchain", "claude-haiku-4-5", "anthropic/claude-haiku-4-5", RuleExact, 1, 5},

		// Dated snapshots: priced as such when the table has them, else date-stripped.
		{"dated snapshot in table", "anthropic", "claude-haiku-4-5-20251001", "anthropic/claude-haiku-4-5-20251001", RuleExact, 1, 5},
		{"dated snapshot with its own price", "openai", "gpt-4o-2024-05-13", "openai/gpt-4o-2024-05-13", RuleExact, 5, 15},
		{"dated snapshot", "openai", "gpt-4o-2024-08-06", "openai/gpt-4o-2024-08-06", RuleExact, 2.5, 10},
		{"unknown date stripped", "openai", "gpt-4.1-mini-2031-01-01", "openai/gpt-4.1-mini", RuleDateStripped, 0.4, 1.6},
		{"unknown compact date stripped", "anthropic", "claude-haiku-4-5-20311231", "anthropic/claude-haiku-4-5", RuleDateStripped, 1, 5},
		{"MMDD snapshot stripped", "openai", "gpt-4.1-nano-0612", "openai/gpt-4.1-nano", RuleDateStripped, 0.1, 0.4},

		// Provider prefixes in the model name.
		{"openai/ prefix", "openai", "openai/gpt-4o-mini", "openai/gpt-4o-mini", RulePrefixStripped, 0.15, 0.6},
		{"anthropic/ prefix without provider", "", "anthropic/claude-haiku-4-5", "anthropic/claude-haiku-4-5", RulePrefixStripped, 1, 5},
		{"dotted claude name", "", "anthropic/claude-sonnet-4.5", "anthropic/claude-sonnet-4-5", RuleAlias, 3, 15},
		{"openrouter id", "openrouter", "anthropic/claude-sonnet-4.5", "openrouter/anthropic/claude-sonnet-4.5", RuleExact, 3, 15},
		{"genai-prices alias", "anthropic", "claude-4-5-haiku", "anthropic/claude-haiku-4-5", RuleAlias, 1, 5},
		{"langfuse pattern alias", "gcp.vertex_ai", "claude-3-5-sonnet-v2@20241022", "anthropic/claude-3.5-sonnet-20241022", RuleAlias, 3, 15},
		{"fine-tune priced as fine-tune", "openai", "ft:gpt-4o-mini-2024-07-18:acme::abc123", "openai/ft:gpt-4o-mini-2024-07-18", RuleFineTune, 0.3, 1.2},

		// Bedrock.
		{"bedrock base id", "aws.bedrock", "anthropic.claude-haiku-4-5-20251001-v1:0", "aws.bedrock/anthropic.claude-haiku-4-5-20251001-v1:0", RuleExact, 1, 5},
		{"bedrock regional profile keeps its uplift", "aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws.bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0", RuleExact, 3.3, 16.5},
		{"bedrock global profile", "bedrock", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws.bedrock/global.anthropic.claude-sonnet-4-5-20250929-v1:0", RuleExact, 3, 15},
		{"bedrock inference profile ARN", "aws.bedrock", "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws.bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0", RulePrefixStripped, 3.3, 16.5},
		{"bedrock foundation model ARN", "aws.bedrock", "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0", "aws.bedrock/anthropic.claude-haiku-4-5-20251001-v1:0", RulePrefixStripped, 1, 5},
		// LiteLLM #9306: a region in the model path gave $0.
		{"bedrock region path", "aws.bedrock", "bedrock/us-east-2/anthropic.claude-haiku-4-5-20251001-v1:0", "aws.bedrock/anthropic.claude-haiku-4-5-20251001-v1:0", RulePrefixStripped, 1, 5},
		{"bedrock id of a model Bedrock rows lack", "aws.bedrock", "apac.anthropic.claude-haiku-4-5-20311231-v1:0", "anthropic/claude-haiku-4-5", RuleDateStripped, 1, 5},

		// Vertex and Gemini.
		{"vertex claude id", "gcp.vertex_ai", "claude-sonnet-4-5@20250929", "gcp.vertex_ai/claude-sonnet-4-5@20250929", RuleExact, 3, 15},
		{"vertex claude id with an unknown date", "gcp.vertex_ai", "claude-haiku-4-5@20311231", "gcp.vertex_ai/claude-haiku-4-5", RuleDateStripped, 1, 5},
		{"vertex claude id that only anthropic prices", "gcp.vertex_ai", "claude-mythos-5@20270101", "anthropic/claude-mythos-5", RuleDateStripped, 10, 50},
		{"vertex publisher path", "gcp.vertex_ai", "publishers/google/models/gemini-2.5-pro", "gcp.vertex_ai/gemini-2.5-pro", RulePrefixStripped, 1.25, 10},
		{"vertex full resource path", "", "projects/p1/locations/us-central1/publishers/google/models/gemini-2.5-flash", "gcp.vertex_ai/gemini-2.5-flash", RulePrefixStripped, 0.3, 2.5},
		{"gemini models/ prefix", "gcp.gemini", "models/gemini-2.5-flash", "gcp.gemini/gemini-2.5-flash", RulePrefixStripped, 0.3, 2.5},
		{"gemini version suffix", "gcp.gemini", "gemini-2.5-flash-lite-009", "gcp.gemini/gemini-2.5-flash-lite", RuleDateStripped, 0.1, 0.4},

		// Azure: deployment names that are model names, else OpenAI's list price.
		{"azure deployment named after the model", "azure", "gpt-4o", "azure.ai.openai/gpt-4o", RuleExact, 2.5, 10},
		{"azure falls back to openai", "azure.ai.openai", "gpt-4.1-mini-2025-04-14", "azure.ai.openai/gpt-4.1-mini-2025-04-14", RuleExact, 0.4, 1.6},
		{"azure prefix", "", "azure/gpt-4o", "azure.ai.openai/gpt-4o", RulePrefixStripped, 2.5, 10},

		// Data errors fixed by overrides (pricing.md section 7).
		{"claude-3-haiku 1h write fixed", "anthropic", "claude-3-haiku-20240307", "anthropic/claude-3-haiku-20240307", RuleExact, 0.25, 1.25},
		{"eu claude-3-5-haiku price fixed", "aws.bedrock", "eu.anthropic.claude-3-5-haiku-20241022-v1:0", "aws.bedrock/eu.anthropic.claude-3-5-haiku-20241022-v1:0", RuleExact, 0.8, 4},
		{"mistral-large-latest is Large 3", "mistral", "mistral-large-latest", "mistral_ai/mistral-large-latest", RuleExact, 0.5, 1.5},
		{"claude-3-5-sonnet dropped by LiteLLM", "anthropic", "claude-3-5-sonnet-20241022", "anthropic/claude-3.5-sonnet-20241022", RuleAlias, 3, 15},
		{"claude-3-5-sonnet kept from genai-prices", "anthropic", "claude-3-5-sonnet-20991231", "anthropic/claude-3-5-sonnet", RuleDateStripped, 3, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := tb.Lookup(tt.provider, tt.model, fixtureAt)
			if !ok {
				t.Fatalf("Lookup(%q, %q): no match, want %s", tt.provider, tt.model, tt.wantID)
			}
			if m.Price.ID != tt.wantID || m.Rule != tt.wantRule {
				t.Errorf("Lookup(%q, %q) = %s by %s, want %s by %s", tt.provider, tt.model, m.Price.ID, m.Rule, tt.wantID, tt.wantRule)
			}
			if m.Price.InputPerMTok != tt.wantIn || m.Price.OutputPerMTok != tt.wantOut {
				t.Errorf("price = %v/%v, want %v/%v", m.Price.InputPerMTok, m.Price.OutputPerMTok, tt.wantIn, tt.wantOut)
			}
		})
	}
}

func TestLookupNoMatch(t *testing.T) {
	tb := builtin(t)
	tests := []struct{ name, provider, model string }{
		{"empty", "openai", ""},
		{"unknown model", "openai", "gpt-9-ultra"},
		{"unknown model, no provider", "", "my-finetune"},
		{"no fuzzy prefix", "openai", "gpt-4o-mini-turbo-max"},
		// genai-prices #471: starts_with command-a priced command-a-plus as command-a.
		{"new variant is not priced as its family", "cohere", "command-a-plus"},
		// genai-prices #173: a dated preview must not fall back to an older preview price.
		{"unknown dated preview", "gcp.gemini", "gemini-2.5-flash-preview-11-2031"},
		{"azure deployment name", "azure", "my-prod-deployment"},
		{"application inference profile", "aws.bedrock", "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"},
		{"suffix is not a date", "openai", "gpt-4o-9999"},
		// A fine-tune costs more than its base model: never the base price.
		{"unknown fine-tune base", "openai", "ft:gpt-4o-2031-01-01:acme::x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m, ok := tb.Lookup(tt.provider, tt.model, fixtureAt); ok {
				t.Errorf("Lookup(%q, %q) = %s by %s, want no match", tt.provider, tt.model, m.Price.ID, m.Rule)
			}
		})
	}
}

// TestLookupNeverCrossesFamilies checks, over the whole table, that no priced name
// resolves to a different priced name: exact names always win.
func TestLookupNeverCrossesFamilies(t *testing.T) {
	tb := builtin(t)
	for k := range tb.index {
		m, ok := tb.Lookup(k.provider, k.model, fixtureAt)
		if !ok {
			if s := tb.index[k]; s.versions[0].EffectiveFrom.After(fixtureAt) {
				continue // only priced from a future date
			}
			t.Errorf("Lookup(%q, %q): no match for a priced name", k.provider, k.model)
			continue
		}
		if m.Provider != k.provider || m.Model != k.model || m.Rule != RuleExact {
			t.Errorf("Lookup(%q, %q) = %s/%s by %s, want itself", k.provider, k.model, m.Provider, m.Model, m.Rule)
		}
	}
}

func TestLookupEffectiveDates(t *testing.T) {
	tb := builtin(t)
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		provider, model string
		at              time.Time
		wantIn, wantOut float64
		tiers           int
	}{
		// genai-prices records o3's cut from 10/40 to 2/8 on 2025-06-10.
		{"", "o3", time.Date(2025, 6, 9, 23, 59, 0, 0, time.UTC), 10, 40, 0},
		{"", "o3", d(2025, 6, 10), 2, 8, 0},
		{"azure", "o3", d(2025, 6, 1), 10, 40, 0}, // provider variants follow the vendor
		// Claude Opus 4.6 had a >200K tier until 2026-03-13, then flat 1M context.
		{"", "claude-opus-4-6", d(2026, 3, 1), 5, 25, 1},
		{"", "claude-opus-4-6", d(2026, 3, 13), 5, 25, 0},
		// Sonnet 5's introductory price ended on 2026-09-01, on Bedrock (with the 1.1×
		// regional uplift) and Vertex too, though LiteLLM only knew the first price.
		{"", "claude-sonnet-5", d(2026, 8, 31), 2, 10, 0},
		{"", "claude-sonnet-5", d(2026, 9, 1), 3, 15, 0},
		{"aws.bedrock", "us.anthropic.claude-sonnet-5", d(2026, 8, 31), 2.2, 11, 0},
		{"aws.bedrock", "us.anthropic.claude-sonnet-5", d(2026, 9, 1), 3.3, 16.5, 0},
		{"gcp.vertex_ai", "claude-sonnet-5@default", d(2026, 9, 1), 3, 15, 0},
		// An announced future price: LiteLLM already lists Vertex's 2027 price.
		{"gcp.vertex_ai", "gemini-3.6-flash", d(2026, 12, 31), 0.75, 3.75, 0},
		{"gcp.vertex_ai", "gemini-3.6-flash", d(2027, 1, 1), 1.5, 7.5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.provider+"/"+tt.model+"@"+tt.at.Format(time.DateOnly), func(t *testing.T) {
			m, ok := tb.Lookup(tt.provider, tt.model, tt.at)
			if !ok {
				t.Fatalf("Lookup(%q, %q): no match", tt.provider, tt.model)
			}
			p := m.Price
			if p.InputPerMTok != tt.wantIn || p.OutputPerMTok != tt.wantOut || len(p.Tiers) != tt.tiers {
				t.Errorf("at %s: %s = %v/%v with %d tiers, want %v/%v with %d", tt.at.Format(time.DateOnly), p.ID, p.InputPerMTok, p.OutputPerMTok, len(p.Tiers), tt.wantIn, tt.wantOut, tt.tiers)
			}
		})
	}
}

func TestCandidates(t *testing.T) {
	got := candidates("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
	want := []candidate{
		{"us.anthropic.claude-sonnet-4-5-20250929-v1:0", RuleExact, ""},
		{"anthropic.claude-sonnet-4-5-20250929-v1:0", RulePrefixStripped, ProviderBedrock},
		{"claude-sonnet-4-5-20250929", RuleBedrockID, ProviderAnthropic},
		{"claude-sonnet-4-5", RuleDateStripped, ProviderAnthropic},
	}
	if len(got) != len(want) {
		t.Fatalf("candidates = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("candidate %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestNormalizeProvider(t *testing.T) {
	tests := map[string]string{
		"Anthropic": "anthropic", "az.ai.openai": "azure.ai.openai", "AZURE": "azure.ai.openai",
		"vertex_ai": "gcp.vertex_ai", "gemini": "gcp.gemini", "xai": "x_ai", "mistralai": "mistral_ai",
		"aws": "aws.bedrock", "bedrock": "aws.bedrock", "openai.responses": "openai",
		"google.vertex.chat": "gcp.vertex_ai", "ollama": "ollama", "": "",
	}
	for in, want := range tests {
		if got := NormalizeProvider(in); got != want {
			t.Errorf("NormalizeProvider(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLookupMemo checks that memoized resolutions give the same answers as the first,
// computed lookup, and still pick the version by time.
func TestLookupMemo(t *testing.T) {
	tb := builtin(t)
	if !tb.timeless {
		t.Fatal("a built-in price set has no undated first version: resolutions are not memoized")
	}
	before, after := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	for range 2 { // the second round is served by the memo
		m1, ok1 := tb.Lookup("", "openai/o3", before)
		m2, ok2 := tb.Lookup("", "openai/o3", after)
		if !ok1 || !ok2 || m1.Price.InputPerMTok != 10 || m2.Price.InputPerMTok != 2 || m1.Rule != RulePrefixStripped {
			t.Errorf("openai/o3 = %v %v by %s, %v %v; want 10 before the cut and 2 after, prefix-stripped", m1.Price.ID, ok1, m1.Rule, m2.Price.ID, ok2)
		}
		if m, ok := tb.Lookup("openai", "gpt-9-ultra", after); ok {
			t.Errorf("gpt-9-ultra = %s, want no match", m.Price.ID)
		}
		if m, ok := tb.Lookup("aws.bedrock", "bedrock/us-east-2/anthropic.claude-haiku-4-5-20251001-v1:0", after); !ok || m.Price.ID != "aws.bedrock/anthropic.claude-haiku-4-5-20251001-v1:0" {
			t.Errorf("bedrock path = %s %v", m.Price.ID, ok)
		}
	}
}
