package cost

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// ValidatePrice checks a price before it is stored: a model, a known match type, a regex
// that compiles, finite non-negative prices and strictly increasing tier thresholds. The
// API calls it on POST /api/v1/prices; the built-in table is checked with it at load.
func ValidatePrice(p genai.Price) error {
	var errs []error
	if strings.TrimSpace(p.Model) == "" {
		errs = append(errs, errors.New("model is required"))
	}
	switch p.MatchType {
	case "", MatchExact, MatchPrefix:
	case MatchRegex:
		if _, err := compileModelRegex(p.Model); err != nil {
			errs = append(errs, fmt.Errorf("model regex: %w", err))
		}
	default:
		errs = append(errs, fmt.Errorf("match_type %q: want exact, prefix or regex", p.MatchType))
	}
	check := func(name string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			errs = append(errs, fmt.Errorf("%s: %v is not a price", name, v))
		}
	}
	checkPtr := func(name string, v *float64) {
		if v != nil {
			check(name, *v)
		}
	}
	check("input_per_mtok", p.InputPerMTok)
	check("output_per_mtok", p.OutputPerMTok)
	checkPtr("cache_read_per_mtok", p.CacheReadPerMTok)
	checkPtr("cache_write_per_mtok", p.CacheWritePerMTok)
	checkPtr("cache_write_1h_per_mtok", p.CacheWrite1hPerMTok)
	checkPtr("reasoning_per_mtok", p.ReasoningPerMTok)
	var last int64 = -1
	for i, t := range p.Tiers {
		if t.AboveInputTokens <= last || t.AboveInputTokens <= 0 {
			errs = append(errs, fmt.Errorf("tiers[%d]: above_input_tokens must be positive and increasing", i))
		}
		last = t.AboveInputTokens
		check(fmt.Sprintf("tiers[%d].input_per_mtok", i), t.InputPerMTok)
		check(fmt.Sprintf("tiers[%d].output_per_mtok", i), t.OutputPerMTok)
		checkPtr(fmt.Sprintf("tiers[%d].cache_read_per_mtok", i), t.CacheReadPerMTok)
		checkPtr(fmt.Sprintf("tiers[%d].cache_write_per_mtok", i), t.CacheWritePerMTok)
	}
	return errors.Join(errs...)
}

// compileModelRegex compiles a custom regex rule: case-insensitive and anchored at both
// ends, so "gpt-4o" as a regex still does not match "gpt-4o-mini".
func compileModelRegex(pattern string) (*regexp.Regexp, error) {
	return regexp.Compile(`(?i)^(?:` + pattern + `)$`)
}

// customSet is one project's custom prices, indexed for matching. Immutable once built.
type customSet struct {
	exact  map[string][]customPrice // lower-case model → prices
	prefix []customPrice            // longest Model first
	regex  []customPrice
}

type customPrice struct {
	price    genai.Price
	provider string // normalized; "" matches any provider
	model    string // lower-cased
	re       *regexp.Regexp
}

// compileCustom indexes prices. A regex that does not compile is skipped (ValidatePrice
// keeps such rows out of the store).
func compileCustom(prices []genai.Price) *customSet {
	s := &customSet{exact: map[string][]customPrice{}}
	for _, p := range prices {
		cp := customPrice{price: p, provider: NormalizeProvider(p.Provider), model: strings.ToLower(strings.TrimSpace(p.Model))}
		if cp.price.Source == "" {
			cp.price.Source = "custom"
		}
		switch p.MatchType {
		case MatchPrefix:
			s.prefix = append(s.prefix, cp)
		case MatchRegex:
			re, err := compileModelRegex(p.Model)
			if err != nil {
				continue
			}
			cp.re = re
			s.regex = append(s.regex, cp)
		default:
			s.exact[cp.model] = append(s.exact[cp.model], cp)
		}
	}
	slices.SortStableFunc(s.prefix, func(a, b customPrice) int { return len(b.model) - len(a.model) })
	return s
}

// match finds the custom price for the candidates, most specific candidate first; for
// each, exact rules before prefix rules (longest first) before regex rules. Among rules
// that match the same way, a provider-specific price beats a provider-less one, then the
// latest EffectiveFrom not after at wins (then the latest CreatedAt).
func (s *customSet) match(req string, cands []candidate, at time.Time, steps *[]Step) (Match, bool) {
	if s == nil {
		return Match{}, false
	}
	for _, c := range cands {
		prov := req
		if prov == "" {
			prov = c.hint
		}
		if best, ok := pick(s.exact[c.name], prov, at, nil); ok {
			record(steps, "custom", RuleCustomExact, prov, c.name, true)
			return Match{Price: best.price, Rule: RuleCustomExact, Provider: prov, Model: c.name}, true
		}
		for i := 0; i < len(s.prefix); {
			// Rules of equal prefix length compete with each other; longer ones won already.
			j := i
			for j < len(s.prefix) && len(s.prefix[j].model) == len(s.prefix[i].model) {
				j++
			}
			if best, ok := pick(s.prefix[i:j], prov, at, func(cp customPrice) bool { return strings.HasPrefix(c.name, cp.model) }); ok {
				record(steps, "custom", RuleCustomPrefix, prov, c.name, true)
				return Match{Price: best.price, Rule: RuleCustomPrefix, Provider: prov, Model: c.name}, true
			}
			i = j
		}
		if best, ok := pick(s.regex, prov, at, func(cp customPrice) bool { return cp.re.MatchString(c.name) }); ok {
			record(steps, "custom", RuleCustomRegex, prov, c.name, true)
			return Match{Price: best.price, Rule: RuleCustomRegex, Provider: prov, Model: c.name}, true
		}
		record(steps, "custom", c.rule, prov, c.name, false)
	}
	return Match{}, false
}

func pick(list []customPrice, prov string, at time.Time, ok func(customPrice) bool) (customPrice, bool) {
	var best customPrice
	found := false
	for _, cp := range list {
		if cp.provider != "" && cp.provider != prov {
			continue
		}
		if !at.IsZero() && cp.price.EffectiveFrom.After(at) {
			continue
		}
		if ok != nil && !ok(cp) {
			continue
		}
		if !found || better(cp, best) {
			best, found = cp, true
		}
	}
	return best, found
}

func better(a, b customPrice) bool {
	if (a.provider != "") != (b.provider != "") {
		return a.provider != ""
	}
	if !a.price.EffectiveFrom.Equal(b.price.EffectiveFrom) {
		return a.price.EffectiveFrom.After(b.price.EffectiveFrom)
	}
	return a.price.CreatedAt.After(b.price.CreatedAt)
}
