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
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
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
func sketchText(s string) textSketch {
	var weights [64]int32
	var sk textSketch
	mh := make([]uint32, 0, minHashK+1)
	forEachToken(s, func(tok []byte) {
		h := mix64(fnv64(tok))
		sk.tokens++
		for i := range weights {
			if h&(1<<uint(i)) != 0 {
				weights[i]++
			} else {
				weights[i]--
			}
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
	for i, w := range weights {
		if w > 0 {
			sk.simhash |= 1 << uint(i)
		}
	}
	sk.minhash = mh
	return sk
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
	// merging the two sketches yields the union's sketch exactly.
	var i, j, union, both int
	for union < minHashK && (i < len(a) || j < len(b)) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			i++
		case i == len(a) || b[j] < a[i]:
			j++
		default:
			i++
			j++
			both++
		}
		union++
	}
	if union == 0 {
		return 0
	}
	return float64(both) / float64(union)
}
