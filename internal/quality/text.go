package quality

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxTokenBytes bounds the text the token functions read: a response far longer than any
// reference adds nothing to a similarity estimate but would add to the per-span cost.
const maxTokenBytes = 64 << 10

// stopwordList is dropped from token sets: stop words carry no content, and keeping them
// makes any two English texts look alike.
const stopwordList = `a an the and or but if then so of to in on at by for with from as is are was were be been
	being it its this that these those there here i you we they he she me my your our their his her them us do does did
	have has had can could will would should may might must not no yes than too very just also into about over under
	which who whom what when where why how all any each some such only own same other more most up down out off again
	s t ll re ve d m`

// maxStopwordLen is the longest stop word: longer tokens are never looked up.
const maxStopwordLen = 6

// stopwords is an open-addressing set of the stop words, each packed into a uint64 by
// packWord. It replaces a map[string]struct{}: the lookup runs once per token of every
// scored response, and hashing a packed word is one multiplication.
var stopwords = func() (t [256]uint64) {
	for _, w := range strings.Fields(stopwordList) { // TestStopwords checks their lengths
		k := packWord([]byte(w))
		i := stopwordSlot(k)
		for t[i] != 0 {
			i = (i + 1) % uint64(len(t))
		}
		t[i] = k
	}
	return t
}()

// packWord packs a word of 1..maxStopwordLen bytes and its length into a non-zero uint64.
func packWord(w []byte) uint64 {
	k := uint64(len(w)) << 56
	for i, b := range w {
		k |= uint64(b) << (8 * i)
	}
	return k
}

func stopwordSlot(k uint64) uint64 { return (k * 0x9e3779b97f4a7c15) >> 56 }

// isStopword reports whether w is a stop word.
func isStopword(w []byte) bool {
	if len(w) == 0 || len(w) > maxStopwordLen {
		return false
	}
	k := packWord(w)
	for i := stopwordSlot(k); ; i = (i + 1) % uint64(len(stopwords)) {
		switch stopwords[i] {
		case k:
			return true
		case 0:
			return false
		}
	}
}

// forEachToken calls fn with each content token of s: lower-cased runs of letters and
// digits, stop words dropped, light suffix stemming (clicking → click, settings → setting),
// so a reworded answer keeps most of its tokens. It reads at most maxTokenBytes of s. The
// slice passed to fn is reused: fn must copy what it keeps.
func forEachToken(s string, fn func(tok []byte)) {
	if len(s) > maxTokenBytes {
		s = s[:maxTokenBytes]
	}
	var buf [64]byte
	tok := buf[:0]
	flush := func() {
		if len(tok) == 0 {
			return
		}
		w := stem(tok)
		tok = tok[:0]
		if isStopword(w) {
			return
		}
		fn(w)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				tok = append(tok, c)
			case 'A' <= c && c <= 'Z':
				tok = append(tok, c+'a'-'A')
			default:
				flush()
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			tok = utf8.AppendRune(tok, unicode.ToLower(r))
		} else {
			flush()
		}
	}
	flush()
}

// stem strips a few common English suffixes, in place. It is deliberately crude: it only
// has to map inflections of one word to one token, not produce real stems. The first of
// "ing", "edly", "ed", "ies" (→ "y"), "es", "s", "ly" that ends w and leaves at least three
// bytes is cut; the switch on the last byte tries them in that order.
func stem(w []byte) []byte {
	n := len(w)
	if n <= 4 {
		return w
	}
	switch w[n-1] {
	case 'g': // "ing"
		if n >= 6 && w[n-3] == 'i' && w[n-2] == 'n' {
			return w[:n-3]
		}
	case 'y': // "edly", then "ly"
		if n >= 7 && w[n-4] == 'e' && w[n-3] == 'd' && w[n-2] == 'l' {
			return w[:n-4]
		}
		if w[n-2] == 'l' {
			return w[:n-2]
		}
	case 'd': // "ed"
		if w[n-2] == 'e' {
			return w[:n-2]
		}
	case 's': // "ies", then "es", then "s"
		if n >= 6 && w[n-3] == 'i' && w[n-2] == 'e' {
			return append(w[:n-3], 'y')
		}
		if w[n-2] == 'e' {
			return w[:n-2]
		}
		return w[:n-1]
	}
	return w
}

// tokens returns s's content tokens in order.
func tokens(s string) []string {
	var out []string
	forEachToken(s, func(t []byte) { out = append(out, string(t)) })
	return out
}

// normalizeSpace lower-cases s and collapses runs of white space to one space, so prompts
// that differ only in spacing or case hash alike.
func normalizeSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.TrimSpace(s) {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// fnvOffset and fnvPrime are FNV-1a's 64-bit parameters.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// hashNormalized is fnv64(normalizeSpace(s)) without building the string.
func hashNormalized(s string) uint64 {
	n := normHash{h: fnvOffset}
	n.write(s)
	return n.h
}

// normHash is FNV-1a over text as normalizeSpace folds it, fed in pieces: write(a) then
// write(b) hashes normalizeSpace(a+b) whenever the pieces are not cut inside a UTF-8
// sequence (ASCII bytes never are: they are never part of one).
type normHash struct {
	h              uint64
	space, started bool // a space is pending; something was written
}

// foldByte is what normHash hashes for each byte: an ASCII byte lower-cased, foldSpace for
// ASCII white space (unicode.IsSpace below U+0080), foldRune for the bytes of UTF-8
// sequences. Both markers are above any ASCII byte.
var foldByte = func() (t [256]byte) {
	for c := range t {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = foldRune
		case c == ' ', c == '\t', c == '\n', c == '\v', c == '\f', c == '\r':
			t[c] = foldSpace
		case 'A' <= c && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		default:
			t[c] = byte(c)
		}
	}
	return t
}()

const (
	foldSpace = 0x80
	foldRune  = 0xff
)

func (n *normHash) write(s string) {
	h, space, started := n.h, n.space, n.started
	for i := 0; i < len(s); {
		switch f := foldByte[s[i]]; f {
		case foldSpace:
			i++
			space = started
		case foldRune:
			r, size := utf8.DecodeRuneInString(s[i:])
			i += size
			if unicode.IsSpace(r) {
				space = started
				continue
			}
			if space {
				h = (h ^ ' ') * fnvPrime
				space = false
			}
			started = true
			var rb [utf8.UTFMax]byte
			for _, b := range rb[:utf8.EncodeRune(rb[:], unicode.ToLower(r))] {
				h = (h ^ uint64(b)) * fnvPrime
			}
		default:
			if space {
				h = (h ^ ' ') * fnvPrime
				space = false
			}
			started = true
			h = (h ^ uint64(f)) * fnvPrime
			// The rest of the run of plain ASCII, without the checks above.
			for i++; i < len(s); i++ {
				f = foldByte[s[i]]
				if f >= foldSpace {
					break
				}
				h = (h ^ uint64(f)) * fnvPrime
			}
		}
	}
	n.h, n.space, n.started = h, space, started
}
