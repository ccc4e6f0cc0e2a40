package postgres

import (
	"math"
	"math/bits"
)

// rollupPlan splits an Overview window into what the model and trace rollups answer exactly
// and what the counted spans and traces must: a rollup slot can stand for its rows only when
// it lies inside the window and inside one bucket (each bucket's cost is a figure of its own).
type rollupPlan struct {
	// Slots [slotLo[i], slotHi[i]) all lie in bucket slotBucket[i].
	slotBucket, slotLo, slotHi []int64
	// Start times [rawLo[i], rawHi[i]) are read from the spans, in order, not adjacent.
	rawLo, rawHi []int64
}

// planRollups plans the window [since, until) of n buckets of width ns. Per bucket there is
// at most one run of whole slots and two raw pieces, at its ends: for the dashboard's
// windows, whose bounds and bucket widths are whole slots, there is no raw piece at all.
func planRollups(since, until, width int64, n int) rollupPlan {
	var p rollupPlan
	span := until - since
	if span <= 0 || span > math.MaxInt64/2 || width <= 0 {
		// A window of centuries (or one whose length overflows): read it from the spans.
		return rollupPlan{rawLo: []int64{since}, rawHi: []int64{until}}
	}
	raw := func(lo, hi int64) {
		if lo >= hi {
			return
		}
		if k := len(p.rawHi); k > 0 && p.rawHi[k-1] == lo {
			p.rawHi[k-1] = hi
			return
		}
		p.rawLo, p.rawHi = append(p.rawLo, lo), append(p.rawHi, hi)
	}
	for b := range int64(n) {
		if b*width >= span {
			break // the rounded-up width leaves the last buckets empty
		}
		lo, hi := since+b*width, until
		if (b+1)*width < span {
			hi = since + (b+1)*width
		}
		first, end := slotCeil(lo), slotOf(hi) // whole slots [first, end)
		if first >= end {
			raw(lo, hi)
			continue
		}
		raw(lo, first*rollupSlotNS)
		p.slotBucket, p.slotLo, p.slotHi = append(p.slotBucket, b), append(p.slotLo, first), append(p.slotHi, end)
		raw(end*rollupSlotNS, hi)
	}
	return p
}

// bucketStart is where bucket b of the window [since, until) in buckets of width starts,
// or until if that is at or after until; exact for any window (128-bit arithmetic).
func bucketStart(since, until, width, b int64) int64 {
	span := uint64(until) - uint64(since) // until ≥ since, so exact
	hi, off := bits.Mul64(uint64(b), uint64(width))
	if hi != 0 || off >= span {
		return until
	}
	return int64(uint64(since) + off)
}
