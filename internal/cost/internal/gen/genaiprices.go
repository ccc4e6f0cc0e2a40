package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// genaiProvider maps genai-prices provider ids to Lumina's provider names.
func genaiProvider(id string) string {
	switch id {
	case "aws":
		return "aws.bedrock"
	case "azure":
		return "azure.ai.openai"
	case "google":
		return "gcp.gemini"
	case "mistral":
		return "mistral_ai"
	case "x-ai":
		return "x_ai"
	case "together":
		return "together_ai"
	case "moonshotai":
		return "moonshot_ai"
	case "voyageai":
		return "voyage"
	}
	return id
}

type gpProvider struct {
	ID     string    `json:"id"`
	Models []gpModel `json:"models"`
}

type gpModel struct {
	ID     string          `json:"id"`
	Match  json.RawMessage `json:"match"`
	Prices json.RawMessage `json:"prices"`
}

type gpSegment struct {
	Constraint *struct {
		StartDate string `json:"start_date"`
		StartTime string `json:"start_time"`
		EndTime   string `json:"end_time"`
	} `json:"constraint"`
	Prices map[string]json.RawMessage `json:"prices"`
}

// gpModelPrices is one genai-prices model: its dated versions (the first has no date)
// and whether it has a price history (start_date constraints).
type gpModelPrices struct {
	rows    []*row
	history bool
}

// parseGenAIPrices reads genai-prices v2 (USD per million tokens) into per-model price
// versions and the exact names its match rules list.
func parseGenAIPrices(b []byte) (map[key]*gpModelPrices, []alias, error) {
	var provs []gpProvider
	if err := json.Unmarshal(b, &provs); err != nil {
		return nil, nil, err
	}
	out := map[key]*gpModelPrices{}
	var aliases []alias
	for _, p := range provs {
		prov := genaiProvider(p.ID)
		for _, m := range p.Models {
			id := strings.ToLower(m.ID)
			segs, err := gpSegments(m.Prices)
			if err != nil {
				return nil, nil, fmt.Errorf("%s/%s: %w", p.ID, m.ID, err)
			}
			mp := &gpModelPrices{}
			skip := false
			for _, s := range segs {
				from := ""
				if c := s.Constraint; c != nil {
					if c.StartTime != "" || c.EndTime != "" {
						// Time-of-day windows (DeepSeek off-peak) need the request's clock
						// time; Lumina does not model them, so the model is left to LiteLLM.
						skip = true
						break
					}
					from = c.StartDate
					mp.history = mp.history || from != ""
				}
				r, err := gpRow(prov, id, s.Prices)
				if err != nil {
					return nil, nil, fmt.Errorf("%s/%s: %w", p.ID, m.ID, err)
				}
				if r == nil {
					continue
				}
				r.From = from
				mp.rows = append(mp.rows, r)
			}
			if skip || len(mp.rows) == 0 {
				continue
			}
			sort.SliceStable(mp.rows, func(i, j int) bool { return mp.rows[i].From < mp.rows[j].From })
			out[key{prov, id}] = mp
			for _, name := range matchNames(m.Match) {
				if name != id {
					aliases = append(aliases, alias{Provider: prov, Alias: name, Model: id, Source: "genai-prices"})
				}
			}
		}
	}
	return out, aliases, nil
}

func gpSegments(raw json.RawMessage) ([]gpSegment, error) {
	var list []gpSegment
	if len(raw) > 0 && raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
		return list, nil
	}
	var one map[string]json.RawMessage
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, err
	}
	return []gpSegment{{Prices: one}}, nil
}

// gpPrice is a price that is either a number or {"base": n, "tiers": [{"start", "price"}]}.
type gpPrice struct {
	Base  float64
	Tiers map[int64]float64
}

func parseGPPrice(raw json.RawMessage) (gpPrice, error) {
	var f float64
	if err := json.Unmarshal(raw, &f); err == nil {
		return gpPrice{Base: f}, nil
	}
	var t struct {
		Base  float64 `json:"base"`
		Tiers []struct {
			Start int64   `json:"start"`
			Price float64 `json:"price"`
		} `json:"tiers"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return gpPrice{}, err
	}
	p := gpPrice{Base: t.Base, Tiers: map[int64]float64{}}
	for _, x := range t.Tiers {
		p.Tiers[x.Start] = x.Price
	}
	return p, nil
}

func gpRow(prov, id string, prices map[string]json.RawMessage) (*row, error) {
	get := func(k string) (*gpPrice, error) {
		raw, ok := prices[k]
		if !ok {
			return nil, nil
		}
		p, err := parseGPPrice(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		return &p, nil
	}
	fields := map[string]*gpPrice{}
	for _, k := range []string{"input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_5m_mtok", "cache_write_1h_mtok", "output_reasoning_mtok"} {
		p, err := get(k)
		if err != nil {
			return nil, err
		}
		if p != nil {
			fields[k] = p
		}
	}
	in, out := fields["input_mtok"], fields["output_mtok"]
	if in == nil && out == nil {
		return nil, nil // priced per request, per image…: not a token price
	}
	if fields["cache_write_mtok"] == nil {
		fields["cache_write_mtok"] = fields["cache_write_5m_mtok"]
	}
	r := &row{Provider: prov, Model: id, Source: "genai-prices"}
	base := func(p *gpPrice) *float64 {
		if p == nil {
			return nil
		}
		return ptr(p.Base)
	}
	if in != nil {
		r.Input = in.Base
	}
	if out != nil {
		r.Output = out.Base
	}
	r.CacheRead = base(fields["cache_read_mtok"])
	r.CacheWrite = base(fields["cache_write_mtok"])
	r.CacheWrite1h = base(fields["cache_write_1h_mtok"])
	r.Reasoning = base(fields["output_reasoning_mtok"])

	starts := map[int64]bool{}
	for _, p := range fields {
		if p == nil {
			continue
		}
		for s := range p.Tiers {
			starts[s] = true
		}
	}
	for s := range starts {
		at := func(p *gpPrice, dflt float64) float64 {
			if p == nil {
				return dflt
			}
			if v, ok := p.Tiers[s]; ok {
				return v
			}
			return p.Base
		}
		atp := func(p *gpPrice) *float64 {
			if p == nil {
				return nil
			}
			return ptr(at(p, 0))
		}
		r.Tiers = append(r.Tiers, tier{
			Above:        s,
			Input:        at(in, r.Input),
			Output:       at(out, r.Output),
			CacheRead:    atp(fields["cache_read_mtok"]),
			CacheWrite:   atp(fields["cache_write_mtok"]),
			CacheWrite1h: atp(fields["cache_write_1h_mtok"]),
		})
	}
	sort.Slice(r.Tiers, func(i, j int) bool { return r.Tiers[i].Above < r.Tiers[j].Above })
	return r, nil
}

// matchNames lists the literal names in a genai-prices match clause: equals values and
// starts_with values, lower-cased. They become exact aliases; contains and regex
// clauses are dropped because they are the fuzzy matches that misprice new variants
// (genai-prices #471, #173).
func matchNames(raw json.RawMessage) []string {
	var c map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &c) != nil {
		return nil
	}
	var names []string
	for k, v := range c {
		switch k {
		case "equals", "starts_with":
			var s string
			if json.Unmarshal(v, &s) == nil && s != "" {
				names = append(names, strings.ToLower(s))
			}
		case "or":
			var subs []json.RawMessage
			if json.Unmarshal(v, &subs) == nil {
				for _, sub := range subs {
					names = append(names, matchNames(sub)...)
				}
			}
		}
	}
	sort.Strings(names)
	return names
}
