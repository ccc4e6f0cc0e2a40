package web

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// BenchmarkPages measures the main pages over 20,000 traces (40,000 spans) in one day:
//
//	go test ./internal/web -run '^$' -bench Pages -benchtime 20x
func BenchmarkPages(b *testing.B) {
	srv := newTestServer(b, func() time.Time { return testNow }, nil)
	const traces = 20000
	batch := make([]genai.Span, 0, 2000)
	for i := range traces {
		start := testNow.Add(-time.Duration(i) * 4 * time.Second)
		sp := unpricedTrace(1000+i, start)
		sp[0].GenAI.Cost = genai.Cost{TotalUSD: f64(0.001), Source: genai.CostComputed}
		sp[0].ServiceName = fmt.Sprintf("svc-%d", i%7)
		batch = append(batch, sp...)
		if len(batch) == cap(batch) {
			if err := srv.store.Write(context.Background(), store.Batch{Spans: batch}); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for _, path := range []string{"/", "/traces", "/traces?service=svc-3&sort=duration", "/cost", "/cost?window=7d"} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				res, err := srv.Client().Get(srv.URL + path)
				if err != nil || res.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: %v %v", path, res.StatusCode, err)
				}
				res.Body.Close()
			}
		})
	}
}
