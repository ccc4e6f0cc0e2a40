package replay

import (
	"context"
	"errors"
)

// EstimateRequest is what POST /api/v1/replay/estimate takes.
type EstimateRequest struct {
	SetID     string    `json:"set_id"`
	Overrides Overrides `json:"overrides"`
}

// Estimate is the expected cost of a live run, before it is started.
type Estimate struct {
	SetID      string `json:"set_id"`
	Items      int    `json:"items"`
	Replayable int    `json:"replayable"`
	// CostUSD is the expected cost of the priced items; nil when none could be priced.
	CostUSD         *float64 `json:"estimated_cost_usd"`
	OriginalCostUSD *float64 `json:"original_cost_usd"`
	Unpriced        int      `json:"unpriced_items"`
	InputTokens     int64    `json:"estimated_input_tokens"`
	OutputTokens    int64    `json:"estimated_output_tokens"`
	Method          string   `json:"method"`
	// MissingKeys names the variables a live run of this set would need and that are not set.
	MissingKeys []string `json:"missing_keys"`
}

// Estimate prices a live run of a set with overrides without calling anyone: each
// replayable item's captured input tokens scaled by how the overrides change the prompt's
// length, and its captured output tokens capped by the max-tokens bound, priced for the
// target model.
func (s *Service) Estimate(ctx context.Context, project string, req EstimateRequest) (Estimate, error) {
	if err := req.Overrides.Validate(); err != nil {
		return Estimate{}, err
	}
	items, err := s.items(ctx, project, req.SetID)
	if err != nil {
		return Estimate{}, err
	}
	e := Estimate{SetID: req.SetID, Items: len(items), MissingKeys: []string{},
		Method: "captured token counts; input scaled by the prompt's length change, output capped at max_tokens; priced from the price table"}
	var cost, orig float64
	priced, origPriced := 0, 0
	missing := map[string]bool{}
	for i := range items {
		c := &items[i].Capture
		if !c.Replayable {
			continue
		}
		e.Replayable++
		provider, model := req.Overrides.target(c)
		r := req.Overrides.request(c)
		in := scaleTokens(c.Usage.InputTokens, promptChars(c.System, c.Messages), promptChars(r.System, r.Messages))
		out := c.Usage.OutputTokens
		if out <= 0 {
			out = int64((len(c.Response) + 3) / 4)
		}
		if r.MaxTokens > 0 {
			out = min(out, r.MaxTokens)
		}
		e.InputTokens += in
		e.OutputTokens += out
		if p := s.price(ctx, project, provider, model, usage(in, out)); p != nil {
			cost += *p
			priced++
		} else {
			e.Unpriced++
		}
		if c.CostUSD != nil {
			orig += *c.CostUSD
			origPriced++
		}
		if provider != "" && !missing[provider] && s.cfg.Providers != nil {
			if _, err := s.cfg.Providers.Provider(provider, req.Overrides.BaseURL); errors.Is(err, ErrMissingKey) {
				missing[provider] = true
				if v := keyVar(provider); v != "" {
					e.MissingKeys = append(e.MissingKeys, v)
				}
			}
		}
	}
	if priced > 0 {
		e.CostUSD = f64(cost)
	}
	if origPriced > 0 {
		e.OriginalCostUSD = f64(orig)
	}
	return e, nil
}
