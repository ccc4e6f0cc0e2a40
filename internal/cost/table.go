// Package cost prices GenAI calls: an embedded table of built-in model prices generated
// from public price data, per-project custom prices that win over it, the matching of a
// provider and model name to a price, and the computation of a call's USD cost with its
// provenance. See docs/costs.md.
package cost

//go:generate go run ./internal/gen -sources sources -out prices.json -report price-disagreements.md

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

//go:embed prices.json
var pricesJSON []byte

// Table is an immutable set of built-in prices with the indexes that match model names
// to them. It is safe for concurrent use; it remembers how names resolved (a bounded,
// internal memo) so that repeated names cost one map lookup.
type Table struct {
	prices  []genai.Price          // every version, sorted by provider, model, EffectiveFrom
	index   map[pkey]*priceSet     // canonical provider + lower-case model → versions
	aliases map[pkey]string        // provider + alias → model
	sources []Source               // the data files the table was generated from
	modes   map[string]bool        // price ID → priced as an embedding
	byID    map[string]genai.Price // price ID → price
	names   nameCache              // model name → candidates, so hot spans skip the rewriting
	// resolved memoizes find for names that need rewriting; valid because timeless.
	resolved memo
	timeless bool // every price set's first version is undated
}

// nameCacheSize bounds the memo of candidate names: past it, new names are rewritten on
// every call instead of remembered, so hostile model names cannot grow memory.
const nameCacheSize = 50_000

// memo is a bounded concurrent map: past nameCacheSize entries it stops remembering.
type memo struct {
	m sync.Map
	n atomic.Int64
}

func (c *memo) store(k, v any) {
	if c.n.Load() < nameCacheSize {
		if _, loaded := c.m.LoadOrStore(k, v); !loaded {
			c.n.Add(1)
		}
	}
}

// nameCache memoizes candidates(model). candidates is a pure function of the name, so a
// cached entry never goes stale.
type nameCache struct{ memo }

func (c *nameCache) get(model string) []candidate {
	if v, ok := c.m.Load(model); ok {
		return v.([]candidate)
	}
	cands := candidates(model)
	c.store(model, cands)
	return cands
}

// Source is one data file the built-in table was generated from.
type Source struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

type pkey struct{ provider, model string }

// priceSet holds the versions of one model's price, oldest EffectiveFrom first.
type priceSet struct {
	versions  []genai.Price
	embedding bool
}

// at returns the version in effect at t: the latest whose EffectiveFrom is not after t.
// A zero t means the newest version.
func (s *priceSet) at(t time.Time) (genai.Price, bool) {
	if t.IsZero() {
		return s.versions[len(s.versions)-1], true
	}
	for i := len(s.versions) - 1; i >= 0; i-- {
		if !s.versions[i].EffectiveFrom.After(t) {
			return s.versions[i], true
		}
	}
	return genai.Price{}, false
}

type fileTable struct {
	Sources []Source `json:"sources"`
	Prices  []struct {
		ID           string   `json:"id"`
		Provider     string   `json:"provider"`
		Model        string   `json:"model"`
		Mode         string   `json:"mode"`
		From         string   `json:"from"`
		Input        float64  `json:"in"`
		Output       float64  `json:"out"`
		CacheRead    *float64 `json:"cache_read"`
		CacheWrite   *float64 `json:"cache_write"`
		CacheWrite1h *float64 `json:"cache_write_1h"`
		Reasoning    *float64 `json:"reasoning"`
		Tiers        []struct {
			Above        int64    `json:"above"`
			Input        float64  `json:"in"`
			Output       float64  `json:"out"`
			CacheRead    *float64 `json:"cache_read"`
			CacheWrite   *float64 `json:"cache_write"`
			CacheWrite1h *float64 `json:"cache_write_1h"`
		} `json:"tiers"`
		Source string `json:"src"`
	} `json:"prices"`
	Aliases []struct {
		Provider string `json:"provider"`
		Alias    string `json:"alias"`
		Model    string `json:"model"`
	} `json:"aliases"`
}

// Builtin parses the embedded price table. Each call returns a new Table; parse it once
// at start-up and share it.
func Builtin() (*Table, error) {
	t, err := parseTable(pricesJSON)
	if err != nil {
		return nil, fmt.Errorf("parse embedded price table: %w", err)
	}
	return t, nil
}

func parseTable(b []byte) (*Table, error) {
	var f fileTable
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	t := &Table{
		index:   make(map[pkey]*priceSet, len(f.Prices)),
		aliases: make(map[pkey]string, len(f.Aliases)),
		sources: f.Sources,
		modes:   map[string]bool{},
		byID:    make(map[string]genai.Price, len(f.Prices)),
	}
	for _, r := range f.Prices {
		p := genai.Price{
			ID:                  r.ID,
			Provider:            r.Provider,
			Model:               r.Model,
			MatchType:           MatchExact,
			InputPerMTok:        r.Input,
			OutputPerMTok:       r.Output,
			CacheReadPerMTok:    r.CacheRead,
			CacheWritePerMTok:   r.CacheWrite,
			CacheWrite1hPerMTok: r.CacheWrite1h,
			ReasoningPerMTok:    r.Reasoning,
			Source:              r.Source,
		}
		if r.From != "" {
			from, err := time.Parse(time.DateOnly, r.From)
			if err != nil {
				return nil, fmt.Errorf("price %q: effective date: %w", r.ID, err)
			}
			p.EffectiveFrom = from
		}
		for _, x := range r.Tiers {
			pt := genai.PriceTier{
				AboveInputTokens:  x.Above,
				InputPerMTok:      x.Input,
				OutputPerMTok:     x.Output,
				CacheReadPerMTok:  x.CacheRead,
				CacheWritePerMTok: x.CacheWrite,
			}
			// genai.PriceTier has no 1-hour write price: Compute derives it from the
			// tier's 5-minute write and the base 1h/5m ratio. Refuse data it would misprice.
			if x.CacheWrite1h != nil {
				if got := tierCacheWrite1h(p, pt); !near(got, *x.CacheWrite1h) {
					return nil, fmt.Errorf("price %q: tier above %d: 1h cache write %v, derived %v", r.ID, x.Above, *x.CacheWrite1h, got)
				}
			}
			p.Tiers = append(p.Tiers, pt)
		}
		if err := ValidatePrice(p); err != nil {
			return nil, fmt.Errorf("price %q: %w", r.ID, err)
		}
		k := pkey{r.Provider, r.Model}
		s := t.index[k]
		if s == nil {
			s = &priceSet{}
			t.index[k] = s
		}
		s.versions = append(s.versions, p)
		s.embedding = s.embedding || r.Mode == "embedding"
		t.modes[p.ID] = r.Mode == "embedding"
		t.byID[p.ID] = p
		t.prices = append(t.prices, p)
	}
	t.timeless = true
	for _, s := range t.index {
		slices.SortStableFunc(s.versions, func(a, b genai.Price) int { return a.EffectiveFrom.Compare(b.EffectiveFrom) })
		t.timeless = t.timeless && s.versions[0].EffectiveFrom.IsZero()
	}
	for _, a := range f.Aliases {
		if _, ok := t.index[pkey{a.Provider, a.Model}]; !ok {
			return nil, fmt.Errorf("alias %q: no price for %s/%s", a.Alias, a.Provider, a.Model)
		}
		t.aliases[pkey{a.Provider, a.Alias}] = a.Model
	}
	return t, nil
}

// Prices returns every built-in price, every version of each, sorted by provider, model
// and EffectiveFrom. The slice is a copy; the caller may keep it.
func (t *Table) Prices() []genai.Price {
	out := make([]genai.Price, len(t.prices))
	copy(out, t.prices)
	return out
}

// Price returns the built-in price with the given ID ("openai/gpt-4o",
// "openai/o3#2025-06-10").
func (t *Table) Price(id string) (genai.Price, bool) {
	p, ok := t.byID[id]
	return p, ok
}

// Embedding reports whether the built-in price with the given ID is an embedding price,
// billed on input tokens only.
func (t *Table) Embedding(id string) bool { return t.modes[id] }

// Len reports how many prices (all versions) the table holds.
func (t *Table) Len() int { return len(t.prices) }

// Models reports how many distinct provider and model pairs the table prices.
func (t *Table) Models() int { return len(t.index) }

// Sources lists the data files the table was generated from, with their SHA-256.
func (t *Table) Sources() []Source { return slices.Clone(t.sources) }

// Providers lists the providers that have built-in prices, sorted.
func (t *Table) Providers() []string {
	seen := map[string]bool{}
	var out []string
	for k := range t.index {
		if !seen[k.provider] {
			seen[k.provider] = true
			out = append(out, k.provider)
		}
	}
	slices.SortFunc(out, strings.Compare)
	return out
}
