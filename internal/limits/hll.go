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
type hll struct {
	reg [hllRegisters]uint8
}

// add records id; it reports whether the sketch changed.
func (h *hll) add(id string) bool {
	x := hashID(id)
	i := x >> (64 - hllPrecision)
	rank := uint8(1)
	for w := x << hllPrecision; rank <= 64-hllPrecision && w&(1<<63) == 0; w <<= 1 {
		rank++
	}
	if rank > h.reg[i] {
		h.reg[i] = rank
		return true
	}
	return false
}

// count estimates the distinct ids added, rounded to a whole trace.
func (h *hll) count() int64 {
	sum, zeros := 0.0, 0
	for _, r := range h.reg {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	m := float64(hllRegisters)
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		est = m * math.Log(m/float64(zeros)) // linear counting: exact-ish for small counts
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
