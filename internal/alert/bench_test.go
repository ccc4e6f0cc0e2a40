package alert

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// BenchmarkObserve measures Observe per span: batches of 100 LLM spans over 50 keys with
// the default rules, baselines warm, no alert firing (the steady state).
func BenchmarkObserve(b *testing.B) {
	st := newFakeStore()
	c := &clock{t: t0}
	e := New(Config{}, st, c.now, nil, nil)
	h := &harness{store: st, clock: c, e: e}
	batches := make([]store.Batch, 64)
	for i := range batches {
		for j := range 100 {
			h.n++
			sp := h.span(call{cost: 0.01, quality: q(0.9), model: fmt.Sprintf("m%d", j%50)})
			batches[i].Spans = append(batches[i].Spans, sp)
		}
	}
	ctx := context.Background()
	for _, bt := range batches[:32] { // warm the baselines
		e.Observe(ctx, bt)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		bt := batches[i%len(batches)]
		// New span ids each round, so the redelivery filter does not skip them.
		for j := range bt.Spans {
			n++
			bt.Spans[j].SpanID = fmt.Sprintf("%016x", n)
		}
		c.add(time.Millisecond)
		e.Observe(ctx, bt)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/span")
}
