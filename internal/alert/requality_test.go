package alert

import (
	"context"
	"testing"

	"github.com/use-lumina/lumina/internal/store"
)

func TestCostSpikeMarksTheExpensiveSpan(t *testing.T) {
	h := newHarness(t, costRule(10))
	h.observe(repeat(20, call{cost: 1})...)
	// The hook asks right after Observe, as the worker's judge hook does.
	check := func(name string, b store.Batch, want bool) {
		t.Helper()
		if got := h.e.CostSpike(&b.Spans[0]); got != want {
			t.Errorf("%s: CostSpike got %v, want %v", name, got, want)
		}
	}
	check("a cheap span, no alert open", h.observe(call{cost: 1}), false)
	check("the span that opened the alert", h.observe(call{cost: 20}), true) // rolling mean 2.9 > 1.2
	check("a cheap span while the alert is open", h.observe(call{cost: 1}), false)
	if got := h.open(store.RuleCostSpike); len(got) != 1 {
		t.Fatalf("got %d open cost alerts, want 1 (the checks above ran while it was open)", len(got))
	}
}

func TestUpdateQualityFeedsTheQualityRule(t *testing.T) {
	rule := store.AlertRule{Type: store.RuleQualityDrop, Threshold: 0.7, WindowRequests: 5, MinSamples: 5}
	h := newHarness(t, rule)
	// Five requests tier 1 found acceptable (0.75): no alert.
	b := h.observe(repeat(5, call{cost: 1, quality: q(0.75)})...)
	if got := len(h.open(store.RuleQualityDrop)); got != 0 {
		t.Fatalf("after tier 1: got %d quality alerts, want 0", got)
	}
	// The judge says one of them is wrong: the rolling mean falls to (4×0.75+0.2)/5 = 0.64.
	s := b.Spans[0]
	k, _, _ := sampleOf(&s)
	h.e.UpdateQuality(context.Background(), k, s.TraceID, s.SpanID, q(0.2))
	if got := h.open(store.RuleQualityDrop); len(got) != 1 || got[0].Observed != 0.64 || got[0].TraceID == "" {
		t.Fatalf("after tier 2: got %v, want one quality alert observing 0.64", got)
	}
	// An unknown span changes nothing.
	h.e.UpdateQuality(context.Background(), k, "nope", "nope", q(1))
	if got := h.open(store.RuleQualityDrop); len(got) != 1 || got[0].Count != 1 {
		t.Errorf("unknown span: got %v, want the same alert, not counted again", got)
	}
	// The judge clears the span again: the mean is back to 0.75 and the alert resolves.
	h.e.UpdateQuality(context.Background(), k, s.TraceID, s.SpanID, q(0.75))
	if got := h.open(store.RuleQualityDrop); len(got) != 0 {
		t.Errorf("after the score recovered: got %d open quality alerts, want 0", len(got))
	}
}
