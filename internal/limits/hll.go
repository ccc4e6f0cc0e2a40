package limits

import (
	"hash/fnv"
	"math"
)

// hllPrecision gives 2^14 one-byte registers (16 KiB per project and day) and a standard
// error of 1.04/√16384 ≈ 0.81 %.
const hllPrecision = 14

const hllRegisters = 1 << hllPrecision

// hll is a HyperLogLog sketch of distinct trace ids: how unlimited projects are counted, so
// that their memory stays at 16 KiB whatever their traffic (a set would keep every id of
// the day). Below a few thousand ids its linear-counting estimate is exact in practice.
//
// The estimate's two inputs (the sum of 2^-register and the empty registers) are kept up to
// date as registers change, so counting, which every admission does, costs nothing.
type hll struct {
	reg   [hllRegisters]uint8
	sum   float64 // Σ 2^-reg[i]
	zeros int     // registers still 0
}

// newHLL returns a sketch with the given registers (nil: empty).
func newHLL(reg []uint8) *hll {
	h := &hll{}
	copy(h.reg[:], reg)
	for _, r := range h.reg {
		h.sum += math.Ldexp(1, -int(r))
		if r == 0 {
			h.zeros++
		}
	}
	return h
}

// add records id; it reports whether the sketch changed.
func (h *hll) add(id string) bool {
	x := hashID(id)
	i := x >> (64 - hllPrecision)
	rank := uint8(1)
	for w := x << hllPrecision; rank <= 64-hllPrecision && w&(1<<63) == 0; w <<= 1 {
		rank++
	}
	old := h.reg[i]
	if rank <= old {
		return false
	}
	h.reg[i] = rank
	h.sum += math.Ldexp(1, -int(rank)) - math.Ldexp(1, -int(old))
	if old == 0 {
		h.zeros--
	}
	return true
}

// count estimates the distinct ids added, rounded to a whole trace.
func (h *hll) count() int64 {
	m := float64(hllRegisters)
	est := 0.7213 / (1 + 1.079/m) * m * m / h.sum
	if est <= 2.5*m && h.zeros > 0 {
		est = m * math.Log(m/float64(h.zeros)) // linear counting: exact-ish for small counts
	}
	return int64(math.Round(est))
}

// hashID is a 64-bit hash of a trace id: FNV-1a, then the SplitMix64 finalizer, whose
// avalanche the register index and rank need (FNV's high bits vary too little on short,
// similar ids).
func hashID(id string) uint64 {
	f := fnv.New64a()
	f.Write([]byte(id))
	x := f.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
