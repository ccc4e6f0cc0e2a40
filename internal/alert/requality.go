package alert

import (
	"context"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// CostSpike reports whether s, a span Observe has seen, tripped a cost-spike rule: a
// cost_spike or cost_and_quality alert is open on its key and the span's own cost is above
// that alert's threshold (the baseline × (1 + threshold)). Tier 2 judges such spans.
func (e *Engine) CostSpike(s *genai.Span) bool {
	k, sm, ok := sampleOf(s)
	if !ok || !sm.hasCost {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.rules[k.Project] {
		if !r.Enabled || (r.Type != store.RuleCostSpike && r.Type != store.RuleCostAndQuality) {
			continue
		}
		if a := e.open[openID{rule: r.ID, key: k}]; a != nil && a.Threshold > 0 && sm.cost > a.Threshold {
			return true
		}
	}
	return false
}

// UpdateQuality replaces the quality score of a request already observed (the tier-2
// verdict replacing its tier-1 score) and evaluates the key's rules again, so quality_drop
// and cost_and_quality consume the final score. A request no longer in its key's window
// (or a key forgotten) changes nothing. The baselines keep the score they learned first.
func (e *Engine) UpdateQuality(ctx context.Context, k Key, traceID, spanID string, score *float64) {
	e.mu.Lock()
	ks := e.keys[k]
	found := false
	if ks != nil {
		for i := 0; i < ks.win.n; i++ {
			s := &ks.win.buf[(ks.win.next-1-i+2*len(ks.win.buf))%len(ks.win.buf)]
			if s.spanID == spanID && s.traceID == traceID {
				s.hasQuality = score != nil
				if score != nil {
					s.quality = *score
				}
				found = true
				break
			}
		}
	}
	if !found {
		e.mu.Unlock()
		return
	}
	var fx effects
	e.evaluateKey(ks, e.now(), &fx)
	e.collect(&fx)
	e.flush(ctx, fx)
}
