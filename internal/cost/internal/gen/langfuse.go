package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

type lfModel struct {
	ModelName    string `json:"modelName"`
	PricingTiers []struct {
		IsDefault  bool `json:"isDefault"`
		Conditions []struct {
			Source             string      `json:"source"`
			UsageDetailPattern string      `json:"usageDetailPattern"`
			Operator           string      `json:"operator"`
			Value              json.Number `json:"value"`
		} `json:"conditions"`
		Prices map[string]json.Number `json:"prices"`
	} `json:"pricingTiers"`
}

// langfuseKeys maps Langfuse usage-type names to the fields they price. Langfuse prices
// every alias a producer might send; the first one present wins.
var langfuseKeys = map[string][]string{
	"in":             {"input", "input_tokens", "promptTokenCount", "total"},
	"out":            {"output", "output_tokens", "candidatesTokenCount"},
	"cache_read":     {"cache_read_input_tokens", "input_cached_tokens", "input_cache_read", "cached_content_token_count"},
	"cache_write":    {"input_cache_creation_5m", "cache_creation_input_tokens", "input_cache_creation"},
	"cache_write_1h": {"input_cache_creation_1h"},
}

var inputPattern = regexp.MustCompile(`input|prompt`)

// parseLangfuse reads Langfuse's default model prices (USD per token). Only the default
// tier and input-size ("Large Context") tiers are kept; tiers conditioned on request
// attributes (service_tier, speed) need data spans do not carry yet.
func parseLangfuse(b []byte) ([]*row, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var models []lfModel
	if err := dec.Decode(&models); err != nil {
		return nil, err
	}
	var rows []*row
	for _, m := range models {
		name := strings.ToLower(m.ModelName)
		prov := vendorOf(name)
		if prov == "" {
			continue
		}
		r := &row{Provider: prov, Model: name, Source: "langfuse"}
		var haveDefault bool
		for _, t := range m.PricingTiers {
			f, err := lfFields(t.Prices)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.ModelName, err)
			}
			if t.IsDefault {
				haveDefault = true
				if f["in"] == nil && f["out"] == nil {
					break
				}
				if f["in"] != nil {
					r.Input = *f["in"]
				}
				if f["out"] != nil {
					r.Output = *f["out"]
				}
				if _, ok := t.Prices["total"]; ok && f["out"] == nil {
					r.Mode = "embedding"
				}
				r.CacheRead, r.CacheWrite, r.CacheWrite1h = f["cache_read"], f["cache_write"], f["cache_write_1h"]
				continue
			}
			if len(t.Conditions) != 1 {
				continue
			}
			c := t.Conditions[0]
			if c.Source == "model_parameters" || c.Operator != "gt" || !inputPattern.MatchString(c.UsageDetailPattern) {
				continue
			}
			above, err := c.Value.Int64()
			if err != nil || f["in"] == nil || f["out"] == nil {
				continue
			}
			r.Tiers = append(r.Tiers, tier{Above: above, Input: *f["in"], Output: *f["out"],
				CacheRead: f["cache_read"], CacheWrite: f["cache_write"], CacheWrite1h: f["cache_write_1h"]})
		}
		if haveDefault && (r.Input != 0 || r.Output != 0) {
			rows = append(rows, r)
		}
	}
	return rows, nil
}

func lfFields(prices map[string]json.Number) (map[string]*float64, error) {
	out := map[string]*float64{}
	for field, names := range langfuseKeys {
		for _, n := range names {
			v, ok := prices[n]
			if !ok {
				continue
			}
			f, err := perTokenToMTok(v.String())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", n, err)
			}
			out[field] = &f
			break
		}
	}
	return out, nil
}

// vendorOf names the first-party provider of a bare model name, or "" when the name
// does not say (Llama, Qwen… are served by many).
func vendorOf(model string) string {
	switch {
	case strings.HasPrefix(model, "claude"):
		return "anthropic"
	case strings.HasPrefix(model, "gpt-"), strings.HasPrefix(model, "chatgpt"),
		strings.HasPrefix(model, "text-embedding-"), regexp.MustCompile(`^o[1-9]`).MatchString(model):
		return "openai"
	case strings.HasPrefix(model, "gemini"), strings.HasPrefix(model, "gemma"):
		return "gcp.gemini"
	case strings.HasPrefix(model, "grok"):
		return "x_ai"
	case strings.HasPrefix(model, "deepseek"):
		return "deepseek"
	case strings.HasPrefix(model, "mistral"), strings.HasPrefix(model, "codestral"),
		strings.HasPrefix(model, "pixtral"), strings.HasPrefix(model, "ministral"),
		strings.HasPrefix(model, "magistral"), strings.HasPrefix(model, "devstral"),
		strings.HasPrefix(model, "open-mistral"), strings.HasPrefix(model, "open-mixtral"):
		return "mistral_ai"
	case strings.HasPrefix(model, "command"):
		return "cohere"
	}
	return ""
}
