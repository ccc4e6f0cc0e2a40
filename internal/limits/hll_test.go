package limits

import (
	"fmt"
	"math"
	"testing"
)

func TestHLLCountsDistinctIDs(t *testing.T) {
	for _, n := range []int{0, 1, 3, 100, 5000, 200_000} {
		h := newHLL(nil)
		for i := range n {
			id := fmt.Sprintf("%032x", i*7919+1)
			h.add(id)
			h.add(id) // a trace's later spans add nothing
		}
		got := h.count()
		if reread := newHLL(h.reg[:]).count(); reread != got {
			t.Errorf("%d distinct ids: %d from the running sums, %d from the registers", n, got, reread)
		}
		tolerance := max(0.5, 0.03*float64(n)) // exact while small; ~0.8 % standard error at scale
		if math.Abs(float64(got)-float64(n)) > tolerance {
			t.Errorf("%d distinct ids: estimate %d, want within %.0f", n, got, tolerance)
		}
	}
}
