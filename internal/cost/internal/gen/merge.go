package main

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
)

type key struct{ provider, model string }

type override struct {
	Provider string             `json:"provider"`
	Model    string             `json:"model"`
	Set      map[string]float64 `json:"set"`
	Reason   string             `json:"reason"`
}

func parseOverrides(b []byte) ([]override, error) {
	var f struct {
		Fixes []override `json:"fixes"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	for _, o := range f.Fixes {
		if o.Reason == "" {
			return nil, fmt.Errorf("override %s/%s has no reason", o.Provider, o.Model)
		}
	}
	return f.Fixes, nil
}

type stats struct {
	litellm, genai, langfuse, history, filled, collisions, overrides, aliases, droppedAliases int
	rows, models, variants                                                                    int
	// disagreements lists prices on which the sources differ by more than 1%.
	disagreements []disagreement
}

// disagreement is one price two sources give differently; the table keeps the first.
type disagreement struct {
	key            key
	kept, other    *row
	otherName, why string
}

func (s stats) String() string {
	return fmt.Sprintf("%d prices for %d models (litellm %d, genai-prices %d, langfuse %d; %d with dated history, %d provider variants following it; %d filled across sources; %d overrides; %d route collisions skipped), %d aliases (%d dropped as ambiguous or shadowed)",
		s.rows, s.models, s.litellm, s.genai, s.langfuse, s.history, s.variants, s.filled, s.overrides, s.collisions, s.aliases, s.droppedAliases)
}

var dated = regexp.MustCompile(`-\d{8}$`)

// merge applies the precedence documented in main.go.
func merge(ll []*row, gp map[key]*gpModelPrices, lf []*row, gpAliases []alias, ov []override) (*table, stats, error) {
	var st stats
	versions := map[key][]*row{}
	source := map[key]string{}
	for _, r := range ll {
		k := key{r.Provider, r.Model}
		if _, ok := versions[k]; ok {
			st.collisions++ // e.g. "gemini-2.5-pro" and "vertex_ai/gemini-2.5-pro": keep the first
			continue
		}
		versions[k] = []*row{r}
		source[k] = "litellm"
	}

	gpKeys := make([]key, 0, len(gp))
	for k := range gp {
		gpKeys = append(gpKeys, k)
	}
	sort.Slice(gpKeys, func(i, j int) bool {
		if gpKeys[i].provider != gpKeys[j].provider {
			return gpKeys[i].provider < gpKeys[j].provider
		}
		return gpKeys[i].model < gpKeys[j].model
	})
	for _, k := range gpKeys {
		m := gp[k]
		cur, have := versions[k]
		switch {
		case m.history:
			// genai-prices knows when the price changed: its versions win, and LiteLLM
			// fills the fields genai-prices leaves out where the two agree.
			targets := []key{k}
			for other := range versions {
				if other.provider == k.provider && dated.ReplaceAllString(other.model, "") == k.model && other != k {
					targets = append(targets, other)
				}
			}
			sort.Slice(targets, func(i, j int) bool { return targets[i].model < targets[j].model })
			for _, t := range targets {
				var ref *row
				if old, ok := versions[t]; ok {
					ref = old[0]
				}
				var vs []*row
				for _, r := range m.rows {
					c := clone(r)
					c.Model = t.model
					if ref != nil && fill(c, ref) {
						c.Source = "genai-prices,litellm"
						st.filled++
					}
					vs = append(vs, c)
				}
				versions[t] = vs
				source[t] = "genai-prices"
				st.history++
			}
		case have:
			st.compare(k, cur[0], m.rows[0], k.model)
			if fill(cur[0], m.rows[0]) {
				cur[0].Source = "litellm,genai-prices"
				st.filled++
			}
		default:
			versions[k] = m.rows
			source[k] = "genai-prices"
		}
	}
	propagateHistory(versions, source, gp, &st)

	// LiteLLM rows that genai-prices knows under another name (an alias, or the name
	// without its snapshot date) get their missing fields from it too: xai/grok-4 has no
	// cache-read price in LiteLLM (pricing.md section 7).
	aliasOf := map[key]map[string]bool{}
	for _, a := range gpAliases {
		k := key{a.Provider, a.Alias}
		if aliasOf[k] == nil {
			aliasOf[k] = map[string]bool{}
		}
		aliasOf[k][a.Model] = true
	}
	llKeys := make([]key, 0, len(versions))
	for k := range versions {
		if source[k] == "litellm" {
			if _, ok := gp[k]; !ok {
				llKeys = append(llKeys, k)
			}
		}
	}
	for _, k := range llKeys {
		var target string
		if ms := aliasOf[k]; len(ms) == 1 {
			for m := range ms {
				target = m
			}
		} else if base := dated.ReplaceAllString(k.model, ""); base != k.model {
			target = base
		}
		m, ok := gp[key{k.provider, target}]
		if !ok {
			continue
		}
		r := versions[k][0]
		st.compare(k, r, m.rows[len(m.rows)-1], target)
		if fill(r, m.rows[len(m.rows)-1]) {
			r.Source = "litellm,genai-prices"
			st.filled++
		}
	}

	for _, r := range lf {
		k := key{r.Provider, r.Model}
		if vs, ok := versions[k]; ok {
			st.compare(k, vs[len(vs)-1], r, r.Model)
			continue
		}
		versions[k] = []*row{r}
		source[k] = "langfuse"
	}

	for _, o := range ov {
		k := key{o.Provider, o.Model}
		vs, ok := versions[k]
		if !ok {
			return nil, st, fmt.Errorf("override %s/%s: no such price", o.Provider, o.Model)
		}
		for _, r := range vs {
			if err := applyOverride(r, o.Set); err != nil {
				return nil, st, fmt.Errorf("override %s/%s: %w", o.Provider, o.Model, err)
			}
			if !strings.Contains(r.Source, "lumina") {
				r.Source += ",lumina"
			}
		}
		st.overrides++
	}

	t := &table{Version: 1, Note: "Generated by internal/cost/internal/gen from internal/cost/sources; do not edit. USD per 1M tokens."}
	for k, vs := range versions {
		for _, r := range vs {
			r.ID = k.provider + "/" + k.model
			if r.From != "" {
				r.ID += "#" + r.From
			}
			t.Prices = append(t.Prices, r)
		}
		switch source[k] {
		case "litellm":
			st.litellm++
		case "genai-prices":
			st.genai++
		case "langfuse":
			st.langfuse++
		}
	}
	sortRows(t.Prices)
	st.rows, st.models = len(t.Prices), len(versions)

	// Aliases: exact names only. An alias that is itself a priced name is dropped: the
	// exact entry wins. Two sources may claim the same alias for different models; that
	// is fine when the models cost the same, else the alias is dropped: no price is more
	// honest than a guess.
	claims := map[key][]string{}
	for _, a := range gpAliases {
		k := key{a.Provider, a.Alias}
		if !slices.Contains(claims[k], a.Model) {
			claims[k] = append(claims[k], a.Model)
		}
	}
	seen := map[key]bool{}
	for _, a := range gpAliases {
		k := key{a.Provider, a.Alias}
		if seen[k] {
			continue
		}
		seen[k] = true
		_, exact := versions[k]
		if exact || !usableAlias(a.Alias) || !samePrice(versions, a.Provider, claims[k]) {
			st.droppedAliases++
			continue
		}
		t.Aliases = append(t.Aliases, a) // the first claim, genai-prices before Langfuse
	}
	sort.Slice(t.Aliases, func(i, j int) bool {
		if t.Aliases[i].Provider != t.Aliases[j].Provider {
			return t.Aliases[i].Provider < t.Aliases[j].Provider
		}
		return t.Aliases[i].Alias < t.Aliases[j].Alias
	})
	st.aliases = len(t.Aliases)
	return t, st, nil
}

// usableAlias rejects starts_with fragments that are not names ("claude-sonnet-4@",
// "claude-sonnet-4-2025", a partial date).
func usableAlias(s string) bool {
	if s == "" {
		return false
	}
	last := s[len(s)-1]
	if !(last >= 'a' && last <= 'z' || last >= '0' && last <= '9') {
		return false
	}
	return !partialDate.MatchString(s)
}

var partialDate = regexp.MustCompile(`-20\d{2}$`)

// propagateHistory applies a vendor's dated price changes (genai-prices) to the same
// model at other providers and regions (Bedrock profiles, Vertex, Azure), which LiteLLM
// prices as of its snapshot only: Claude Sonnet 5 on Bedrock would otherwise keep its
// introductory price after it ended. A variant follows the history only when LiteLLM
// prices it at a constant multiple of one of the vendor's versions: 1×, or the 1.1×
// regional uplift; the other versions are then scaled by that multiple, and the matching
// one keeps LiteLLM's fields.
func propagateHistory(versions map[key][]*row, source map[key]string, gp map[key]*gpModelPrices, st *stats) {
	hist := map[string]key{}
	for k, m := range gp {
		switch k.provider {
		case "anthropic", "openai", "gcp.gemini":
			if m.history {
				hist[k.model] = k
			}
		}
	}
	var keys []key
	for k := range versions {
		if source[k] == "litellm" && len(versions[k]) == 1 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].provider != keys[j].provider {
			return keys[i].provider < keys[j].provider
		}
		return keys[i].model < keys[j].model
	})
	for _, k := range keys {
		hk, ok := hist[variantBase(k.model)]
		if !ok || hk == k {
			continue
		}
		segs, r := gp[hk].rows, versions[k][0]
		// The newest matching version: LiteLLM's snapshot is of the price then in
		// effect, or of an announced later one.
		at, ratio := -1, 0.0
		for j := len(segs) - 1; j >= 0 && at < 0; j-- {
			for _, f := range []float64{1, 1.1} {
				if at < 0 && near(r.Input, f*segs[j].Input) && near(r.Output, f*segs[j].Output) {
					at, ratio = j, f
				}
			}
		}
		if at < 0 {
			continue
		}
		vs := make([]*row, len(segs))
		for j, seg := range segs {
			if j == at {
				c := clone(r)
				c.From = seg.From
				vs[j] = c
				continue
			}
			vs[j] = scaled(seg, ratio, k)
		}
		versions[k] = vs
		st.variants++
	}
}

var (
	variantPrefix = regexp.MustCompile(`^(?:(?:eu|us|global)/)?(?:(?:us|eu|apac|au|jp|ca|global|regional|us-gov)\.)?(?:(?:anthropic|openai|google)\.)?`)
	variantSuffix = regexp.MustCompile(`(?:-v\d+(?::\d+)?|@[a-z0-9]+|-20\d{6}|-20\d{2}-\d{2}-\d{2})$`)
)

// variantBase reduces a provider's id to the vendor's model name:
// "us.anthropic.claude-sonnet-5-v1:0" and "claude-sonnet-5@default" to "claude-sonnet-5".
func variantBase(model string) string {
	m := variantPrefix.ReplaceAllString(model, "")
	for {
		n := variantSuffix.ReplaceAllString(m, "")
		if n == m {
			return m
		}
		m = n
	}
}

// scaled copies a vendor price version for provider key k at factor times its prices.
func scaled(seg *row, factor float64, k key) *row {
	c := clone(seg)
	c.Provider, c.Model, c.Source = k.provider, k.model, "genai-prices,litellm"
	mul := func(p *float64) *float64 {
		if p == nil {
			return nil
		}
		return ptr(round(*p * factor))
	}
	c.Input, c.Output = round(seg.Input*factor), round(seg.Output*factor)
	c.CacheRead, c.CacheWrite, c.CacheWrite1h, c.Reasoning = mul(seg.CacheRead), mul(seg.CacheWrite), mul(seg.CacheWrite1h), mul(seg.Reasoning)
	for i, t := range c.Tiers {
		c.Tiers[i] = tier{Above: t.Above, Input: round(t.Input * factor), Output: round(t.Output * factor),
			CacheRead: mul(t.CacheRead), CacheWrite: mul(t.CacheWrite), CacheWrite1h: mul(t.CacheWrite1h)}
	}
	return c
}

// round keeps prices at 1e-9 USD per million tokens so that 3 × 1.1 prints as 3.3.
func round(f float64) float64 { return math.Round(f*1e9) / 1e9 }

// near reports whether two prices agree within 0.5%.
func near(a, b float64) bool { return math.Abs(a-b) <= 0.005*math.Max(math.Abs(a), math.Abs(b)) }

// compare records a disagreement over input or output price beyond 1%.
func (s *stats) compare(k key, kept, other *row, otherName string) {
	var why []string
	if !agree(kept.Input, other.Input) {
		why = append(why, "input")
	}
	if !agree(kept.Output, other.Output) {
		why = append(why, "output")
	}
	if len(why) > 0 {
		s.disagreements = append(s.disagreements, disagreement{k, kept, other, otherName, strings.Join(why, ", ")})
	}
}

// report renders the disagreements as Markdown, sorted, for review when regenerating.
func (s *stats) report() []byte {
	ds := slices.Clone(s.disagreements)
	sort.Slice(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.key.provider != b.key.provider {
			return a.key.provider < b.key.provider
		}
		if a.key.model != b.key.model {
			return a.key.model < b.key.model
		}
		return a.other.Source < b.other.Source
	})
	var b strings.Builder
	b.WriteString("# Price disagreements between sources\n\n")
	b.WriteString("Generated by `go generate ./internal/cost`; do not edit. Models whose input or output price\n")
	b.WriteString("differs by more than 1% between the price kept in `prices.json` and another source\n")
	b.WriteString("(USD per 1M tokens, input / output). The precedence in `docs/costs.md` decided which\n")
	b.WriteString("one was kept; review new lines here when refreshing the data, and fix real errors in\n")
	b.WriteString("`sources/lumina/overrides.json`.\n\n")
	fmt.Fprintf(&b, "%d disagreements.\n\n", len(ds))
	b.WriteString("| Provider | Model | Kept (source) | Other (source, name) | Differs on |\n|---|---|---|---|---|\n")
	for _, d := range ds {
		fmt.Fprintf(&b, "| %s | %s | %g / %g (%s) | %g / %g (%s, %s) | %s |\n", d.key.provider, d.key.model,
			d.kept.Input, d.kept.Output, d.kept.Source, d.other.Input, d.other.Output, d.other.Source, d.otherName, d.why)
	}
	return []byte(b.String())
}

// samePrice reports whether every model exists and has the same current price.
func samePrice(versions map[key][]*row, provider string, models []string) bool {
	var first *row
	for _, m := range models {
		vs, ok := versions[key{provider, m}]
		if !ok {
			return false
		}
		r := vs[len(vs)-1]
		if first == nil {
			first = r
			continue
		}
		if r.Input != first.Input || r.Output != first.Output || !eqPtr(r.CacheRead, first.CacheRead) ||
			!eqPtr(r.CacheWrite, first.CacheWrite) || !eqPtr(r.CacheWrite1h, first.CacheWrite1h) || len(vs) != len(versions[key{provider, models[0]}]) {
			return false
		}
	}
	return true
}

func eqPtr(a, b *float64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func clone(r *row) *row {
	c := *r
	c.Tiers = append([]tier(nil), r.Tiers...)
	return &c
}

// fill copies into dst the fields it lacks from src when both agree on the input and
// output price (else src prices something else and mixing would be wrong). It reports
// whether anything was copied.
func fill(dst, src *row) bool {
	if !agree(dst.Input, src.Input) || !agree(dst.Output, src.Output) {
		return false
	}
	changed := false
	for _, f := range []struct{ d, s **float64 }{
		{&dst.CacheRead, &src.CacheRead},
		{&dst.CacheWrite, &src.CacheWrite},
		{&dst.CacheWrite1h, &src.CacheWrite1h},
		{&dst.Reasoning, &src.Reasoning},
	} {
		if *f.d == nil && *f.s != nil {
			v := **f.s
			*f.d = &v
			changed = true
		}
	}
	if len(dst.Tiers) == 0 && len(src.Tiers) > 0 {
		dst.Tiers = append([]tier(nil), src.Tiers...)
		changed = true
	}
	if dst.Mode == "" && src.Mode != "" {
		dst.Mode = src.Mode
	}
	return changed
}

func applyOverride(r *row, set map[string]float64) error {
	for k, v := range set {
		v := v
		switch k {
		case "in":
			r.Input = v
		case "out":
			r.Output = v
		case "cache_read":
			r.CacheRead = &v
		case "cache_write":
			r.CacheWrite = &v
		case "cache_write_1h":
			r.CacheWrite1h = &v
		case "reasoning":
			r.Reasoning = &v
		default:
			return fmt.Errorf("unknown field %q", k)
		}
	}
	return nil
}
