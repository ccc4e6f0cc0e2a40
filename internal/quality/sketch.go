package quality

import (
	"math/bits"
	"slices"
)

// minHashK is the size of a bottom-k MinHash sketch: the k smallest distinct token hashes.
// 64 × 4 bytes per response keeps references small while the Jaccard estimate stays within
// a few percent for the response sizes LLM endpoints produce (exact below 64 tokens).
const minHashK = 64

// fnv64 is FNV-1a over s: stable across processes and releases, so stored sketches and
// hashes stay comparable.
func fnv64[T string | []byte](s T) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// mix64 is a 64-bit finalizer (splitmix64) spreading FNV's low-entropy high bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// textSketch is computed once per response: a 64-bit SimHash (stored on the span) and a
// bottom-k MinHash (kept with in-memory references) over the response's content tokens.
type textSketch struct {
	simhash uint64
	minhash []uint32 // sorted ascending, distinct, at most minHashK
	tokens  int      // content tokens seen
}

// sketchText computes the sketches of s in one pass over its tokens.
//
// The SimHash weight of bit i is (tokens with bit i set) − (tokens without it). Rather
// than updating 64 counters per token, the set bits are counted eight at a time in the
// bytes of lanes (byte k of lanes[j] counts bit 8k+j) and moved to 32-bit counts every 255
// tokens, before a byte can overflow.
func sketchText(s string) textSketch {
	var lanes [8]uint64
	var set [64]int32
	inLanes := 0
	var sk textSketch
	mh := make([]uint32, 0, minHashK+1)
	forEachToken(s, func(tok []byte) {
		h := mix64(fnv64(tok))
		sk.tokens++
		for j := range lanes {
			lanes[j] += h >> j & 0x0101010101010101
		}
		if inLanes++; inLanes == 255 {
			drainLanes(&lanes, &set)
			inLanes = 0
		}
		v := uint32(h >> 32)
		if len(mh) == minHashK && v >= mh[len(mh)-1] {
			return
		}
		i, found := slices.BinarySearch(mh, v)
		if found {
			return
		}
		mh = slices.Insert(mh, i, v)
		if len(mh) > minHashK {
			mh = mh[:minHashK]
		}
	})
	drainLanes(&lanes, &set)
	for i, n := range set {
		if 2*n > int32(sk.tokens) { // set − (tokens − set) > 0
			sk.simhash |= 1 << uint(i)
		}
	}
	sk.minhash = mh
	return sk
}

// drainLanes adds the per-byte bit counts of lanes to set and clears them.
func drainLanes(lanes *[8]uint64, set *[64]int32) {
	for j, l := range lanes {
		for k := range 8 {
			set[8*k+j] += int32(byte(l >> (8 * k)))
		}
		lanes[j] = 0
	}
}

// SimHashSimilarity compares two 64-bit SimHash sketches (genai.Quality.Sketch): 1 for
// identical sketches, about 0.5 for unrelated texts, 0 for opposite ones.
func SimHashSimilarity(a, b uint64) float64 {
	return 1 - float64(bits.OnesCount64(a^b))/64
}

// minHashJaccard estimates the Jaccard similarity of the token sets behind two bottom-k
// sketches: of the k smallest hashes of the union, the share present in both. It is exact
// when both sets have fewer than k tokens. Two empty sets are identical.
func minHashJaccard(a, b []uint32) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	// The k smallest hashes of the union are each among the k smallest of A or of B, so
	// merging the two sketches yields the union's sketch exactly. The merge steps without
	// branches while both have hashes left; then the rest of one only adds to the union.
	var i, j, union, both int
	for union < minHashK && i < len(a) && j < len(b) {
		x, y := a[i], b[j]
		both += b2i(x == y)
		i += b2i(x <= y)
		j += b2i(y <= x)
		union++
	}
	union += min(minHashK-union, len(a)-i+len(b)-j)
	if union == 0 {
		return 0
	}
	return float64(both) / float64(union)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
