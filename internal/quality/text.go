package quality

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxTokenBytes bounds the text the token functions read: a response far longer than any
// reference adds nothing to a similarity estimate but would add to the per-span cost.
const maxTokenBytes = 64 << 10

// stopwords are dropped from token sets: they carry no content, and keeping them makes any
// two English texts look alike.
var stopwords = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, w := range strings.Fields(`a an the and or but if then so of to in on at by for with from as is are was were be been
		being it its this that these those there here i you we they he she me my your our their his her them us do does did
		have has had can could will would should may might must not no yes than too very just also into about over under
		which who whom what when where why how all any each some such only own same other more most up down out off again
		s t ll re ve d m`) {
		m[w] = struct{}{}
	}
	return m
}()

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
		if _, stop := stopwords[string(w)]; stop { // no allocation: map lookup by []byte
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
// has to map inflections of one word to one token, not produce real stems.
func stem(w []byte) []byte {
	if len(w) <= 4 {
		return w
	}
	for _, suf := range [...]string{"ing", "edly", "ed", "ies", "es", "s", "ly"} {
		if bytes.HasSuffix(w, []byte(suf)) && len(w)-len(suf) >= 3 {
			base := w[:len(w)-len(suf)]
			if suf == "ies" {
				return append(base, 'y')
			}
			return base
		}
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

// hashNormalized is fnv64(normalizeSpace(s)) without building the string.
func hashNormalized(s string) uint64 {
	h := uint64(14695981039346656037)
	write := func(b byte) {
		h ^= uint64(b)
		h *= 1099511628211
	}
	space, started := false, false
	var rb [utf8.UTFMax]byte
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = started
			continue
		}
		if space {
			write(' ')
			space = false
		}
		started = true
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			write(byte(r))
			continue
		}
		n := utf8.EncodeRune(rb[:], unicode.ToLower(r))
		for _, b := range rb[:n] {
			write(b)
		}
	}
	return h
}
