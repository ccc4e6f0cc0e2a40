package cost

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// PriceSource supplies a project's custom prices. The store implements it.
type PriceSource interface {
	// Prices returns every custom price of the project, all versions.
	Prices(ctx context.Context, projectID string) ([]genai.Price, error)
}

// CustomPriceTTL is how long a project's custom prices are cached before they are read
// again. Invalidate drops them sooner, after a write through the API.
const CustomPriceTTL = 5 * time.Second

// Calculator fills in the cost of GenAI calls from a project's custom prices and the
// built-in table. It is safe for concurrent use; Apply runs on every LLM span.
type Calculator struct {
	table  *Table
	custom PriceSource
	now    func() time.Time

	mu       sync.RWMutex
	projects map[string]*projectPrices
}

// projectPrices is one project's cached custom prices. refresh serializes reads of the
// source so that an expired entry is refreshed by one caller while the others keep
// using the old set.
type projectPrices struct {
	refresh sync.Mutex
	snap    atomic.Pointer[snapshot] // nil until the first successful read
}

type snapshot struct {
	set     *customSet
	fetched time.Time
}

// NewCalculator returns a Calculator over table (nil means no built-in prices) and custom
// (nil means no custom prices). now gives the time used for custom-price caching and for
// Apply and Resolve; nil means time.Now.
func NewCalculator(table *Table, custom PriceSource, now func() time.Time) *Calculator {
	if table == nil {
		table = &Table{index: map[pkey]*priceSet{}, aliases: map[pkey]string{}, byID: map[string]genai.Price{}}
	}
	if now == nil {
		now = time.Now
	}
	return &Calculator{table: table, custom: custom, now: now, projects: map[string]*projectPrices{}}
}

// Table returns the built-in price table, for listing built-in prices.
func (c *Calculator) Table() *Table { return c.table }

// Invalidate drops the cached custom prices of a project, so the next call reads them
// again. Call it after creating or deleting a custom price.
func (c *Calculator) Invalidate(projectID string) {
	c.mu.Lock()
	delete(c.projects, projectID)
	c.mu.Unlock()
}

// Apply fills call.Cost for a model call (call.IsModelCall()) at the current time; other
// calls are left alone. See ApplyAt.
func (c *Calculator) Apply(ctx context.Context, projectID string, call *genai.Call) error {
	return c.ApplyAt(ctx, projectID, call, c.now())
}

// ApplyAt fills call.Cost for a model call as priced at time at (the span's start, so a
// price change or a custom price's EffectiveFrom applies to the spans after it).
//
// The response model is tried before the request model; custom prices before built-in
// ones. With a price, the cost is computed (Source computed) and the client-reported
// cost, if any, stays in ClientUSD beside it. Without a price, a client-reported cost is
// used as is (Source client); with neither the call is unpriced: TotalUSD nil, never $0.
// A call that reported no usage at all cannot be computed either: it is unpriced (or
// client) and PriceID still names the price that would have applied.
//
// It returns an error only when the project's custom prices cannot be read and none
// are cached; call.Cost is then unchanged.
func (c *Calculator) ApplyAt(ctx context.Context, projectID string, call *genai.Call, at time.Time) error {
	if !call.IsModelCall() {
		return nil
	}
	set, err := c.customPrices(ctx, projectID)
	if err != nil {
		return err
	}
	client := call.Cost.ClientUSD
	m, ok := c.find(set, call.Provider, call.ResponseModel, call.RequestModel, at)
	switch {
	case ok && call.Usage.Reported:
		op := call.Operation
		if call.Type == genai.TypeEmbedding || m.Embedding {
			op = OpEmbeddings
		}
		cost := Compute(m.Price, call.Usage, op)
		cost.ClientUSD = client
		call.Cost = cost
	case client != nil:
		call.Cost = genai.Cost{TotalUSD: ptr(*client), Source: genai.CostClient, ClientUSD: client}
	default:
		call.Cost = genai.Cost{Source: genai.CostUnpriced}
	}
	if ok && !call.Usage.Reported {
		call.Cost.PriceID, call.Cost.PriceSource = m.Price.ID, priceSource(m.Price)
	}
	return nil
}

// find resolves the price for a call: custom prices for each model name, then built-in
// prices for each.
func (c *Calculator) find(set *customSet, provider, responseModel, requestModel string, at time.Time) (Match, bool) {
	req := NormalizeProvider(provider)
	models := [2]string{responseModel, requestModel}
	n := 2
	if requestModel == "" || strings.EqualFold(requestModel, responseModel) {
		n = 1
	}
	if responseModel == "" {
		models[0], n = requestModel, 1
	}
	custom := set != nil && !set.empty()
	var cands [2][]candidate
	if custom {
		for i, m := range models[:n] {
			cands[i] = c.table.names.get(m)
			if match, ok := set.match(req, cands[i], at, nil); ok {
				return match, true
			}
		}
	}
	for _, m := range models[:n] {
		if match, ok := c.table.find(req, m, at); ok {
			return match, true
		}
	}
	return Match{}, false
}

// Resolution explains how a provider and model resolve to a price, for
// GET /api/v1/prices/resolve.
type Resolution struct {
	Provider string `json:"provider"` // normalized
	Model    string `json:"model"`    // as given
	Found    bool   `json:"found"`
	Custom   bool   `json:"custom"`
	Rule     Rule   `json:"rule,omitempty"`
	// MatchedProvider and MatchedModel are the provider and name the price was found
	// under, after fallbacks and rewrites.
	MatchedProvider string       `json:"matched_provider,omitempty"`
	MatchedModel    string       `json:"matched_model,omitempty"`
	Embedding       bool         `json:"embedding,omitempty"`
	Price           *genai.Price `json:"price,omitempty"`
	// Steps lists every attempt in order, the last one being the match when Found.
	Steps []Step `json:"steps"`
}

// Resolve explains which price a call from provider with model would get now in
// project projectID: custom or built-in, which rule matched, and every step tried.
func (c *Calculator) Resolve(ctx context.Context, projectID, provider, model string) (Resolution, error) {
	set, err := c.customPrices(ctx, projectID)
	if err != nil {
		return Resolution{}, err
	}
	req := NormalizeProvider(provider)
	res := Resolution{Provider: req, Model: model, Steps: []Step{}}
	at := c.now()
	cands := c.table.names.get(model)
	m, ok := set.match(req, cands, at, &res.Steps)
	res.Custom = ok
	if !ok {
		m, ok = c.table.lookup(req, cands, at, &res.Steps)
	}
	if ok {
		p := m.Price
		res.Found, res.Rule, res.MatchedProvider, res.MatchedModel, res.Embedding, res.Price = true, m.Rule, m.Provider, m.Model, m.Embedding, &p
	}
	return res, nil
}

// customPrices returns the project's compiled custom prices, from the cache while they
// are fresh. When a refresh fails and an older set is cached, the older set is used.
func (c *Calculator) customPrices(ctx context.Context, projectID string) (*customSet, error) {
	if c.custom == nil {
		return nil, nil
	}
	now := c.now()
	c.mu.RLock()
	pp := c.projects[projectID]
	c.mu.RUnlock()
	if pp != nil {
		if set, fresh := pp.get(now); fresh {
			return set, nil
		}
	} else {
		c.mu.Lock()
		if pp = c.projects[projectID]; pp == nil {
			pp = &projectPrices{}
			c.projects[projectID] = pp
		}
		c.mu.Unlock()
	}

	if !pp.refresh.TryLock() {
		// Another caller is refreshing: use the old set if there is one, else wait.
		if set, ok := pp.stale(); ok {
			return set, nil
		}
		pp.refresh.Lock()
	}
	defer pp.refresh.Unlock()
	if set, fresh := pp.get(now); fresh {
		return set, nil
	}
	prices, err := c.custom.Prices(ctx, projectID)
	if err != nil {
		if set, ok := pp.stale(); ok {
			return set, nil
		}
		return nil, fmt.Errorf("read custom prices of project %q: %w", projectID, err)
	}
	set := compileCustom(prices)
	pp.snap.Store(&snapshot{set: set, fetched: now})
	return set, nil
}

// get returns the cached set when it is younger than CustomPriceTTL.
func (pp *projectPrices) get(now time.Time) (*customSet, bool) {
	s := pp.snap.Load()
	if s == nil || now.Sub(s.fetched) >= CustomPriceTTL || now.Before(s.fetched) {
		return nil, false
	}
	return s.set, true
}

// stale returns the cached set whatever its age.
func (pp *projectPrices) stale() (*customSet, bool) {
	s := pp.snap.Load()
	if s == nil {
		return nil, false
	}
	return s.set, true
}

func (s *customSet) empty() bool {
	return len(s.exact) == 0 && len(s.prefix) == 0 && len(s.regex) == 0
}
