package lumina

import (
	"slices"
	"sync"
)

// jsonIndex records where every object and array of one JSON text ends, found in a single
// pass. The scanner walks a body level by level (body → choices → choice → message → tool
// calls), and without the index each level walks again, byte by byte, all that the levels
// below it hold; with it, skipping a nested value is a lookup. A nil *jsonIndex walks, and so
// does a lookup the index cannot answer exactly as the walk would (a slice of another text, a
// position the index did not see open a container), so results never depend on the index.
//
// A jsonIndex is used by one goroutine at a time.
type jsonIndex struct {
	text  []byte  // the indexed text
	opens []int32 // offsets of '{' and '[' outside strings, ascending
	ends  []int32 // for each open, the offset after its close; -1 when it never closes
	stack []int32 // scratch for indexing
}

// minIndexed is the smallest text worth indexing: below it, one walk per level costs less than
// the index.
const minIndexed = 256

var indexPool = sync.Pool{New: func() any { return new(jsonIndex) }}

// indexJSON returns the index of text, or nil when text is too small to be worth one; release
// it with release.
func indexJSON(text []byte) *jsonIndex {
	if len(text) < minIndexed || len(text) > 1<<30 {
		return nil
	}
	x := indexPool.Get().(*jsonIndex)
	x.text = text
	x.opens, x.ends, x.stack = x.opens[:0], x.ends[:0], x.stack[:0]
	// Pair brackets as skipValue counts them: any close ends the innermost open container,
	// whatever its kind, and strings are skipped as skipString does.
	for j := 0; j < len(text); j++ {
		switch text[j] {
		case '"':
			end := skipString(text, j)
			if end < 0 {
				return x // the containers still open never close: their ends stay -1
			}
			j = end - 1
		case '{', '[':
			x.stack = append(x.stack, int32(len(x.opens)))
			x.opens = append(x.opens, int32(j))
			x.ends = append(x.ends, -1)
		case '}', ']':
			if n := len(x.stack); n > 0 {
				x.ends[x.stack[n-1]] = int32(j + 1)
				x.stack = x.stack[:n-1]
			}
		}
	}
	return x
}

// release returns x to the pool; x must not be used after.
func (x *jsonIndex) release() {
	if x == nil {
		return
	}
	x.text = nil
	if cap(x.opens) <= 1<<14 {
		indexPool.Put(x)
	}
}

// containerEnd returns what skipValue(b, i) returns for the object or array at b[i], and
// false when the index cannot say (b is not a slice of the indexed text, or b[i] is not an
// open it recorded, or its close lies beyond b).
func (x *jsonIndex) containerEnd(b []byte, i int) (int, bool) {
	if x == nil || cap(b) == 0 || cap(b) > cap(x.text) {
		return 0, false
	}
	// b shares x.text's storage when their storage ends at the same byte; b[0] is then at
	// this offset of x.text.
	if &b[:cap(b)][cap(b)-1] != &x.text[:cap(x.text)][cap(x.text)-1] {
		return 0, false
	}
	base := cap(x.text) - cap(b)
	off := base + i
	if off >= len(x.text) {
		return 0, false
	}
	k, found := slices.BinarySearch(x.opens, int32(off))
	if !found {
		return 0, false
	}
	end := int(x.ends[k])
	if end < 0 {
		if base+len(b) <= len(x.text) {
			return -1, true // it does not close within x.text, so not within b either
		}
		return 0, false
	}
	if end-base > len(b) {
		return 0, false // b was cut before the close: the walk would not find it
	}
	return end - base, true
}

// skipValue returns the index after the value starting at b[i], or -1, as the package's
// skipValue does.
func (x *jsonIndex) skipValue(b []byte, i int) int {
	if x != nil && i < len(b) && (b[i] == '{' || b[i] == '[') {
		if end, ok := x.containerEnd(b, i); ok {
			return end
		}
	}
	return skipValue(b, i)
}
