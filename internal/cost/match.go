package cost

import (
	"regexp"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// Rule names the matching step that found a price, so the API can explain it.
type Rule string

// Matching rules, from most to least specific.
const (
	RuleExact          Rule = "exact"           // the model name as given (lower-cased)
	RulePrefixStripped Rule = "prefix-stripped" // "openai/", "models/", Vertex paths, Bedrock ARNs and region profiles removed
	RuleBedrockID      Rule = "bedrock-id"      // "anthropic.claude-…-v1:0" read as the vendor's model id
	RuleVertexID       Rule = "vertex-id"       // "claude-…@20250514" read as "claude-…-20250514"
	RuleFineTune       Rule = "fine-tune"       // "ft:gpt-4o-mini-2024-07-18:org::id" read as that base's fine-tuning price
	RuleAlias          Rule = "alias"           // a curated alternative name ("claude-haiku-4.5")
	RuleDateStripped   Rule = "date-stripped"   // a snapshot date or version suffix removed
	RuleCustomExact    Rule = "custom-exact"    // a project's custom price, match type exact
	RuleCustomPrefix   Rule = "custom-prefix"   // a project's custom price, match type prefix (longest wins)
	RuleCustomRegex    Rule = "custom-regex"    // a project's custom price, match type regex
)

// Custom price match types (genai.Price.MatchType).
const (
	MatchExact  = "exact"
	MatchPrefix = "prefix"
	MatchRegex  = "regex"
)

// Match is a price found for a provider and model, with how it was found.
type Match struct {
	Price genai.Price `json:"price"`
	Rule  Rule        `json:"rule"`
	// Provider is the canonical provider the price belongs to; it differs from the
	// requested one when a fallback applied (Azure OpenAI → OpenAI, Bedrock → Anthropic).
	Provider string `json:"provider"`
	// Model is the name that matched, after the transformations Rule names.
	Model string `json:"model"`
	// Embedding reports that the price is an embedding price (input tokens only).
	Embedding bool `json:"embedding,omitempty"`
}

// candidate is one name to try, produced by the matching rules in order.
type candidate struct {
	name string
	rule Rule
	hint string // provider implied by the name ("anthropic/…", "publishers/google/…")
}

var (
	arnRe        = regexp.MustCompile(`^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:[0-9]*:(?:inference-profile|foundation-model|provisioned-model|custom-model)/(.+)$`)
	vertexPathRe = regexp.MustCompile(`^(?:projects/[^/]+/locations/[^/]+/)?publishers/([^/]+)/models/(.+)$`)
	awsRegionRe  = regexp.MustCompile(`^[a-z]{2}(?:-gov)?-[a-z]+-\d/(.+)$`)
	bedrockRe    = regexp.MustCompile(`^(?:(?:us|eu|apac|au|jp|ca|global|us-gov)\.)?([a-z0-9]+)\.(.+)$`)
	profileRe    = regexp.MustCompile(`^(?:us|eu|apac|au|jp|ca|global|us-gov)\.(.+)$`)
	bedrockVerRe = regexp.MustCompile(`(?:-v\d+(?::\d+)?|:\d+)$`)
	vertexAtRe   = regexp.MustCompile(`^(.+)@(\d{8}|\d{3}|latest|default)$`)
	claudeDotRe  = regexp.MustCompile(`(\d)\.(\d)`)
	dateSuffixes = []*regexp.Regexp{
		regexp.MustCompile(`-\d{4}-\d{2}-\d{2}$`),                        // gpt-4o-2024-08-06
		regexp.MustCompile(`-20\d{6}$`),                                  // claude-haiku-4-5-20251001
		regexp.MustCompile(`-(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$`), // gpt-4-0613, grok-4-0709
		regexp.MustCompile(`-(?:0[1-9]|1[0-2])-20\d{2}$`),                // command-r-08-2024
		regexp.MustCompile(`-00\d$`),                                     // gemini-2.0-flash-001
	}
)

// candidates lists the names to try for model, most specific first. Every step is a
// deterministic rewrite of the whole name; nothing here matches by substring, so gpt-4o
// can never match gpt-4o-mini or the reverse.
func candidates(model string) []candidate {
	m := strings.ToLower(strings.TrimSpace(model))
	if m == "" {
		return nil
	}
	out := make([]candidate, 0, 8)
	add := func(name string, rule Rule, hint string) {
		if name == "" {
			return
		}
		for _, c := range out {
			if c.name == name && c.hint == hint {
				return
			}
		}
		out = append(out, candidate{name, rule, hint})
	}
	add(m, RuleExact, "")
	// OpenAI fine-tunes are priced per base model, apart from the base model itself.
	if rest, ok := strings.CutPrefix(m, "ft:"); ok {
		if base, _, ok := strings.Cut(rest, ":"); ok && base != "" {
			add("ft:"+base, RuleFineTune, "")
		}
		return out
	}

	// Paths and prefixes: ARNs, Vertex resource paths, "models/", "provider/".
	cur, hint := m, ""
	for i := 0; i < 4; i++ {
		next, h, ok := stripPrefix(cur)
		if !ok {
			break
		}
		cur = next
		if h != "" {
			hint = h
		}
		add(cur, RulePrefixStripped, hint)
	}

	bases := []candidate{{cur, RulePrefixStripped, hint}}
	// Bedrock: "us.anthropic.claude-…-v1:0" → "anthropic.claude-…-v1:0" → "claude-…".
	if sm := profileRe.FindStringSubmatch(cur); sm != nil {
		h := hint
		if h == "" {
			h = ProviderBedrock
		}
		add(sm[1], RulePrefixStripped, h)
	}
	if sm := bedrockRe.FindStringSubmatch(cur); sm != nil {
		if vendor, ok := bedrockVendors[sm[1]]; ok {
			id := bedrockVerRe.ReplaceAllString(sm[2], "")
			add(id, RuleBedrockID, vendor)
			bases = append(bases, candidate{id, RuleBedrockID, vendor})
		}
	}
	// Vertex: "claude-sonnet-4@20250514" → "claude-sonnet-4-20250514".
	if sm := vertexAtRe.FindStringSubmatch(cur); sm != nil {
		id := sm[1]
		if sm[2] != "latest" && sm[2] != "default" {
			id += "-" + sm[2]
		}
		add(id, RuleVertexID, hint)
		bases = append(bases, candidate{id, RuleVertexID, hint})
	}
	// Curated spelling: Claude ids with dots ("claude-3.5-sonnet", "claude-haiku-4.5").
	for _, b := range bases {
		if strings.HasPrefix(b.name, "claude") && claudeDotRe.MatchString(b.name) {
			id := claudeDotRe.ReplaceAllString(b.name, "$1-$2")
			add(id, RuleAlias, b.hint)
			bases = append(bases, candidate{id, RuleAlias, b.hint})
		}
	}
	// Snapshot dates and version suffixes, one at a time, never leaving a bare preview
	// name (a dated preview is priced apart from the earlier undated one).
	for _, b := range bases {
		name := b.name
		for range 2 {
			stripped := stripDate(name)
			if stripped == name || strings.HasSuffix(stripped, "preview") || strings.HasSuffix(stripped, "exp") {
				break
			}
			add(stripped, RuleDateStripped, b.hint)
			name = stripped
		}
	}
	return out
}

func stripDate(name string) string {
	for _, re := range dateSuffixes {
		if loc := re.FindStringIndex(name); loc != nil && loc[0] > 0 {
			return name[:loc[0]]
		}
	}
	return name
}

// stripPrefix removes one leading path element that is not part of the model id.
func stripPrefix(m string) (rest, hint string, ok bool) {
	if sm := arnRe.FindStringSubmatch(m); sm != nil {
		return sm[1], ProviderBedrock, true
	}
	if sm := vertexPathRe.FindStringSubmatch(m); sm != nil {
		h := ProviderVertex
		if sm[1] != "google" {
			h = NormalizeProvider(sm[1])
		}
		return sm[2], h, true
	}
	if r, ok := strings.CutPrefix(m, "models/"); ok {
		return r, ProviderGemini, true
	}
	if sm := awsRegionRe.FindStringSubmatch(m); sm != nil {
		return sm[1], ProviderBedrock, true
	}
	i := strings.IndexByte(m, '/')
	if i <= 0 || i == len(m)-1 {
		return "", "", false
	}
	seg, r := m[:i], m[i+1:]
	if p := NormalizeProvider(seg); p != seg || knownProvider(p) {
		return r, p, true
	}
	// An organisation path ("meta-llama/…", "qwen/…"): the rest must still match exactly.
	return r, "", true
}

// knownProvider reports whether p is a canonical provider name (each maps to itself).
func knownProvider(p string) bool { return providerAliases[p] == p }

// providerChain lists the providers whose prices may apply, in order: the requested one,
// its fallbacks, the provider the name implies, and the model's own vendor.
func providerChain(req string, c candidate) ([8]string, int) {
	var chain [8]string
	n := 0
	add := func(p string) {
		if p == "" || n == len(chain) {
			return
		}
		for _, q := range chain[:n] {
			if q == p {
				return
			}
		}
		chain[n] = p
		n++
	}
	for _, p := range [3]string{req, c.hint, vendorOf(c.name)} {
		add(p)
		for _, f := range providerFallbacks(p) {
			add(f)
		}
	}
	return chain, n
}

// Step is one attempt made while resolving a price, for explanations.
type Step struct {
	Kind     string `json:"kind"` // "custom" or "builtin"
	Rule     Rule   `json:"rule"`
	Provider string `json:"provider,omitempty"`
	Model    string `json:"model"`
	Matched  bool   `json:"matched"`
}

// Lookup finds the built-in price for a provider and model at time at (the span's
// time; zero means the newest price). The provider is normalized (NormalizeProvider);
// the model may carry provider prefixes, Bedrock ids or ARNs, Vertex paths or snapshot
// dates. It reports false when no rule finds a price: unknown models are never priced by
// a near-miss.
func (t *Table) Lookup(provider, model string, at time.Time) (Match, bool) {
	return t.find(NormalizeProvider(provider), model, at)
}

// find is Lookup for a normalized provider. Which price set a name resolves to does not
// depend on time when every set has an undated first version (checked at load), so the
// resolution is memoized and only the version is chosen per call.
func (t *Table) find(req, model string, at time.Time) (Match, bool) {
	// Fast path: the exact name at the requested provider.
	if s, ok := t.index[pkey{req, model}]; ok {
		if p, ok := s.at(at); ok {
			return Match{Price: p, Rule: RuleExact, Provider: req, Model: model, Embedding: s.embedding}, true
		}
	}
	k := pkey{req, model}
	if v, ok := t.resolved.m.Load(k); ok {
		return v.(*resolution).match(at)
	}
	m, ok := t.lookup(req, t.names.get(model), at, nil)
	if t.timeless {
		r := &resolution{ok: ok, m: m}
		if ok {
			r.set = t.index[pkey{m.Provider, m.Model}]
		}
		t.resolved.store(k, r)
	}
	return m, ok
}

// resolution is a memoized built-in lookup: the price set a name resolved to, or none.
type resolution struct {
	ok  bool
	m   Match
	set *priceSet
}

func (r *resolution) match(at time.Time) (Match, bool) {
	if !r.ok {
		return Match{}, false
	}
	p, ok := r.set.at(at)
	if !ok {
		return Match{}, false
	}
	m := r.m
	m.Price = p
	return m, true
}

func (t *Table) lookup(req string, cands []candidate, at time.Time, steps *[]Step) (Match, bool) {
	for _, c := range cands {
		chain, n := providerChain(req, c)
		for _, p := range chain[:n] {
			if s, ok := t.index[pkey{p, c.name}]; ok {
				if price, ok := s.at(at); ok {
					record(steps, "builtin", c.rule, p, c.name, true)
					return Match{Price: price, Rule: c.rule, Provider: p, Model: c.name, Embedding: s.embedding}, true
				}
			}
			if target, ok := t.aliases[pkey{p, c.name}]; ok {
				if s, ok := t.index[pkey{p, target}]; ok {
					if price, ok := s.at(at); ok {
						record(steps, "builtin", RuleAlias, p, c.name, true)
						return Match{Price: price, Rule: RuleAlias, Provider: p, Model: target, Embedding: s.embedding}, true
					}
				}
			}
			record(steps, "builtin", c.rule, p, c.name, false)
		}
	}
	return Match{}, false
}

func record(steps *[]Step, kind string, rule Rule, provider, model string, matched bool) {
	if steps != nil {
		*steps = append(*steps, Step{Kind: kind, Rule: rule, Provider: provider, Model: model, Matched: matched})
	}
}
