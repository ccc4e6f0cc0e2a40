package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/use-lumina/lumina/internal/store"
)

// TestPutBaselinesConcurrently saves the same baselines from two sessions at once, each in
// its own order, as two worker processes do: they must wait for each other, never deadlock.
func TestPutBaselinesConcurrently(t *testing.T) {
	s := openTemp(t, defaultConfig())
	ctx := context.Background()
	var bs []store.Baseline
	for i := range 40 {
		bs = append(bs, store.Baseline{ProjectID: "p", Service: "svc", Endpoint: fmt.Sprintf("ep-%02d", i), Model: "m", Metric: "cost"})
	}
	reversed := slices.Clone(bs)
	slices.Reverse(reversed)
	for round := range 20 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, order := range [][]store.Baseline{bs, reversed} {
			wg.Go(func() { errs[i] = s.PutBaselines(ctx, order) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}
