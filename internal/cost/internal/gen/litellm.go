package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// litellmProvider maps LiteLLM's litellm_provider values to Lumina's provider names (the
// OTel gen_ai.provider.name values where one exists). Unlisted values are kept as they are.
func litellmProvider(p string) string {
	switch {
	case p == "openai" || p == "text-completion-openai":
		return "openai"
	case p == "azure" || p == "azure_text":
		return "azure.ai.openai"
	case p == "azure_ai":
		return "azure.ai.inference"
	case strings.HasPrefix(p, "bedrock"):
		return "aws.bedrock"
	case strings.HasPrefix(p, "vertex_ai"):
		return "gcp.vertex_ai"
	case p == "gemini":
		return "gcp.gemini"
	case p == "xai":
		return "x_ai"
	case p == "mistral" || p == "codestral" || p == "text-completion-codestral":
		return "mistral_ai"
	case p == "cohere" || p == "cohere_chat":
		return "cohere"
	case p == "moonshot":
		return "moonshot_ai"
	case p == "watsonx":
		return "ibm.watsonx.ai"
	case strings.HasPrefix(p, "fireworks_ai"):
		return "fireworks"
	}
	return p
}

// litellmModes are the modes priced per token; image, audio, video, search, OCR and
// rerank entries are priced per unit and left out.
var litellmModes = map[string]string{
	"chat": "", "completion": "", "responses": "", "realtime": "", "": "",
	"embedding": "embedding",
}

var aboveKey = regexp.MustCompile(`^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost|cache_creation_input_token_cost_above_1hr)_above_(\d+)k_tokens$`)

// parseLiteLLM reads LiteLLM's model map (USD per token) into rows keyed by Lumina
// provider and lower-cased model id, the route prefix ("azure/", "vertex_ai/") removed.
func parseLiteLLM(b []byte) ([]*row, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var rows []*row
	for _, key := range keys {
		if key == "sample_spec" || key == "last_updated" {
			continue
		}
		d := json.NewDecoder(bytes.NewReader(raw[key]))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			continue // not a model object
		}
		r, err := litellmRow(key, m)
		if err != nil {
			return nil, fmt.Errorf("model %q: %w", key, err)
		}
		if r != nil {
			rows = append(rows, r)
		}
	}
	return rows, nil
}

func litellmRow(key string, m map[string]any) (*row, error) {
	mode, _ := m["mode"].(string)
	rowMode, ok := litellmModes[mode]
	if !ok {
		return nil, nil
	}
	// Provisioned-throughput commitments and wildcard routes are not per-token prices.
	if strings.Contains(key, "*") || strings.Contains(key, "commitment") || strings.HasPrefix(key, "ft:") {
		return nil, nil
	}
	lp, _ := m["litellm_provider"].(string)
	if lp == "" {
		return nil, nil
	}
	num := func(field string) (*float64, error) {
		v, ok := m[field].(json.Number)
		if !ok {
			return nil, nil
		}
		f, err := perTokenToMTok(v.String())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		return &f, nil
	}
	in, err := num("input_cost_per_token")
	if err != nil {
		return nil, err
	}
	out, err := num("output_cost_per_token")
	if err != nil {
		return nil, err
	}
	if _, banded := m["tiered_pricing"]; in == nil && out == nil && !banded {
		return nil, nil
	}
	r := &row{Provider: litellmProvider(lp), Model: litellmModel(key, lp), Mode: rowMode, Source: "litellm"}
	if in != nil {
		r.Input = *in
	}
	if out != nil {
		r.Output = *out
	}
	if r.CacheRead, err = num("cache_read_input_token_cost"); err != nil {
		return nil, err
	}
	if r.CacheRead == nil {
		if r.CacheRead, err = num("input_cost_per_token_cache_hit"); err != nil {
			return nil, err
		}
	}
	if r.CacheWrite, err = num("cache_creation_input_token_cost"); err != nil {
		return nil, err
	}
	if r.CacheWrite1h, err = num("cache_creation_input_token_cost_above_1hr"); err != nil {
		return nil, err
	}
	if r.Reasoning, err = num("output_cost_per_reasoning_token"); err != nil {
		return nil, err
	}
	if r.Tiers, err = litellmTiers(r, m); err != nil {
		return nil, err
	}
	return r, nil
}

// litellmModel removes LiteLLM's route prefix: "azure/gpt-4o" is gpt-4o at Azure,
// "vertex_ai/claude-sonnet-4-5@20250929" is that Vertex id.
func litellmModel(key, lp string) string {
	k := strings.ToLower(key)
	if i := strings.IndexByte(k, '/'); i > 0 {
		seg := k[:i]
		if seg == lp || strings.HasPrefix(lp, seg) {
			k = k[i+1:]
		}
	}
	return k
}

// litellmTiers reads the "_above_<N>k_tokens" fields and the "tiered_pricing" bands.
// Both reprice the whole request once its input exceeds the threshold.
func litellmTiers(r *row, m map[string]any) ([]tier, error) {
	byAbove := map[int64]*tier{}
	get := func(above int64) *tier {
		t, ok := byAbove[above]
		if !ok {
			t = &tier{Above: above, Input: r.Input, Output: r.Output}
			byAbove[above] = t
		}
		return t
	}
	for field, v := range m {
		sm := aboveKey.FindStringSubmatch(field)
		if sm == nil {
			continue
		}
		n, ok := v.(json.Number)
		if !ok {
			continue
		}
		f, err := perTokenToMTok(n.String())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		k, _ := strconv.ParseInt(sm[2], 10, 64)
		t := get(k * 1000)
		switch sm[1] {
		case "input_cost_per_token":
			t.Input = f
		case "output_cost_per_token":
			t.Output = f
		case "cache_read_input_token_cost":
			t.CacheRead = ptr(f)
		case "cache_creation_input_token_cost":
			t.CacheWrite = ptr(f)
		case "cache_creation_input_token_cost_above_1hr":
			t.CacheWrite1h = ptr(f)
		}
	}
	if bands, ok := m["tiered_pricing"].([]any); ok {
		for i, b := range bands {
			band, ok := b.(map[string]any)
			if !ok {
				continue
			}
			rng, _ := band["range"].([]any)
			if len(rng) == 0 {
				continue
			}
			lo, ok := rng[0].(json.Number)
			if !ok {
				continue
			}
			start, err := lo.Float64()
			if err != nil {
				return nil, fmt.Errorf("tiered_pricing range: %w", err)
			}
			in, _ := band["input_cost_per_token"].(json.Number)
			out, _ := band["output_cost_per_token"].(json.Number)
			fi, err1 := perTokenToMTok(in.String())
			fo, err2 := perTokenToMTok(out.String())
			if err1 != nil || err2 != nil {
				continue
			}
			if i == 0 && start == 0 {
				r.Input, r.Output = fi, fo // the first band is the base price
				continue
			}
			t := get(int64(start))
			t.Input, t.Output = fi, fo
		}
	}
	if len(byAbove) == 0 {
		return nil, nil
	}
	tiers := make([]tier, 0, len(byAbove))
	for _, t := range byAbove {
		tiers = append(tiers, *t)
	}
	sort.Slice(tiers, func(i, j int) bool { return tiers[i].Above < tiers[j].Above })
	return tiers, nil
}
