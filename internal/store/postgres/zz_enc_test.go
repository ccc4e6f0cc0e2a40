package postgres

import (
	"testing"
	"time"
)

func BenchmarkZZEncode(b *testing.B) {
	batch := benchBatch(1, 1000, time.Now())
	spans := uniqueSpans(batch.Spans)
	counted := make([]bool, len(spans))
	b.ResetTimer()
	for b.Loop() {
		if _, err := newSpanRows(spans, counted); err != nil {
			b.Fatal(err)
		}
	}
}
