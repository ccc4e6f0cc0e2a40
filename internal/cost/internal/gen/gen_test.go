package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedTableUpToDate regenerates the table in memory from the checked-in sources
// and fails when internal/cost/prices.json differs: run `go generate ./internal/cost`.
func TestGeneratedTableUpToDate(t *testing.T) {
	res, err := generate(filepath.Join("..", "..", "sources"))
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	report, err := os.ReadFile(filepath.Join("..", "..", "price-disagreements.md"))
	if err != nil {
		t.Fatalf("read report: %v", err)
	}
	if !bytes.Equal(res.report, report) {
		t.Error("price-disagreements.md is stale: run go generate ./internal/cost")
	}
	got := res.table
	want, err := os.ReadFile(filepath.Join("..", "..", "prices.json"))
	if err != nil {
		t.Fatalf("read table: %v", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("prices.json is stale (go generate ./internal/cost); first difference at line %d:\n got: %s\nwant: %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("prices.json is stale (go generate ./internal/cost): %d lines generated, %d checked in", len(gl), len(wl))
	}
}

func TestGenerateDeterministic(t *testing.T) {
	a, err := generate(filepath.Join("..", "..", "sources"))
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	b, err := generate(filepath.Join("..", "..", "sources"))
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	if !bytes.Equal(a.table, b.table) || !bytes.Equal(a.report, b.report) {
		t.Fatal("two runs over the same sources gave different tables")
	}
}

func TestPerTokenToMTok(t *testing.T) {
	tests := map[string]float64{"2.5e-06": 2.5, "1.25e-07": 0.125, "7.5e-08": 0.075, "3e-07": 0.3, "0.0": 0, "1.5e-05": 15}
	for in, want := range tests {
		got, err := perTokenToMTok(in)
		if err != nil || got != want {
			t.Errorf("perTokenToMTok(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := perTokenToMTok("abc"); err == nil {
		t.Error("perTokenToMTok(abc) = nil error, want one")
	}
}

func TestLiteLLMRow(t *testing.T) {
	src := []byte(`{
 "sample_spec": {"input_cost_per_token": 0},
 "last_updated": "2026-07-24",
 "vertex_ai/claude-sonnet-4-5@20250929": {"litellm_provider": "vertex_ai-anthropic_models", "mode": "chat",
   "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
   "cache_creation_input_token_cost_above_1hr": 6e-06,
   "input_cost_per_token_above_200k_tokens": 6e-06, "cache_read_input_token_cost_above_200k_tokens": 6e-07},
 "dall-e-3": {"litellm_provider": "openai", "mode": "image_generation", "input_cost_per_pixel": 1e-08},
 "bedrock/*/1-month-commitment/x": {"litellm_provider": "bedrock", "mode": "chat", "input_cost_per_token": 1},
 "dashscope/qwen-flash": {"litellm_provider": "dashscope", "mode": "chat", "tiered_pricing": [
   {"input_cost_per_token": 5e-08, "output_cost_per_token": 4e-07, "range": [0, 256000.0]},
   {"input_cost_per_token": 2.5e-07, "output_cost_per_token": 2e-06, "range": [256000.0, 1000000.0]}]}
}`)
	rows, err := parseLiteLLM(src)
	if err != nil {
		t.Fatalf("parseLiteLLM: %v", err)
	}
	if len(rows) != 2 {
		t.Fatalf("rows = %d, want 2 (image, commitment and spec entries skipped)", len(rows))
	}
	q, v := rows[0], rows[1]
	if q.Provider != "dashscope" || q.Model != "qwen-flash" || q.Input != 0.05 || q.Output != 0.4 ||
		len(q.Tiers) != 1 || q.Tiers[0].Above != 256000 || q.Tiers[0].Input != 0.25 || q.Tiers[0].Output != 2 {
		t.Errorf("dashscope row = %+v", q)
	}
	if v.Provider != "gcp.vertex_ai" || v.Model != "claude-sonnet-4-5@20250929" || v.Input != 3 || v.Output != 15 ||
		v.CacheWrite1h == nil || *v.CacheWrite1h != 6 || len(v.Tiers) != 1 || v.Tiers[0].Input != 6 ||
		v.Tiers[0].Output != 15 || v.Tiers[0].CacheRead == nil || *v.Tiers[0].CacheRead != 0.6 {
		t.Errorf("vertex row = %+v tiers %+v", v, v.Tiers)
	}
}

func TestMatchNames(t *testing.T) {
	got := matchNames([]byte(`{"or": [{"starts_with": "claude-haiku-4-5"}, {"equals": "Claude-4-5-Haiku"}, {"contains": "haiku"}, {"regex": "x"}]}`))
	want := []string{"claude-4-5-haiku", "claude-haiku-4-5"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("matchNames = %v, want %v (contains and regex dropped)", got, want)
	}
	for name, ok := range map[string]bool{"claude-haiku-4.5": true, "claude-sonnet-4@": false, "claude-sonnet-4-2025": false, "gpt-4o-": false} {
		if usableAlias(name) != ok {
			t.Errorf("usableAlias(%q) = %v, want %v", name, !ok, ok)
		}
	}
}

func TestPatternNames(t *testing.T) {
	got, err := patternNames(`(?i)^(anthropic/)?(claude-3-5-sonnet-20241022|(eu\.|us\.)?anthropic\.claude-3-5-sonnet-20241022-v2:0|claude-3-5-sonnet-V2@20241022)$`)
	if err != nil {
		t.Fatalf("patternNames: %v", err)
	}
	want := []string{
		"anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic/anthropic.claude-3-5-sonnet-20241022-v2:0",
		"anthropic/claude-3-5-sonnet-20241022", "anthropic/claude-3-5-sonnet-v2@20241022",
		"anthropic/eu.anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
		"claude-3-5-sonnet-20241022", "claude-3-5-sonnet-v2@20241022",
		"eu.anthropic.claude-3-5-sonnet-20241022-v2:0", "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("patternNames =\n%v\nwant\n%v", got, want)
	}
	for _, p := range []string{`(?i)^gpt-4o.*$`, `^claude-[0-9]+$`, `^[a-z]$`} {
		if names, err := patternNames(p); err == nil {
			t.Errorf("patternNames(%q) = %v, want an error for an open-ended pattern", p, names)
		}
	}
}

func TestVariantBase(t *testing.T) {
	for in, want := range map[string]string{
		"us.anthropic.claude-sonnet-5-v1:0":    "claude-sonnet-5",
		"global.anthropic.claude-opus-4-6-v1":  "claude-opus-4-6",
		"claude-sonnet-5@default":              "claude-sonnet-5",
		"eu/gpt-5.6-luna":                      "gpt-5.6-luna",
		"o3-2025-04-16":                        "o3",
		"claude-opus-4-6-20260205":             "claude-opus-4-6",
		"o3-mini":                              "o3-mini",
		"regional.anthropic.claude-sonnet-4-6": "claude-sonnet-4-6",
	} {
		if got := variantBase(in); got != want {
			t.Errorf("variantBase(%q) = %q, want %q", in, got, want)
		}
	}
}
