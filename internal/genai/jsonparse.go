package genai

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// parseJSON decodes a JSON document into the values encoding/json produces for an `any`
// target (map[string]any, []any, string, float64, bool, nil). Message attributes are decoded
// on every span the worker normalizes, and this is several times faster than
// json.Unmarshal into `any`; FuzzParseJSON checks it agrees with encoding/json.
func parseJSON(s string) (any, error) {
	p := jsonParser{s: s}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, errJSONSyntax
	}
	return v, nil
}

var errJSONSyntax = errors.New("invalid JSON")

// maxJSONDepth bounds nesting, as encoding/json does (10000).
const maxJSONDepth = 10000

type jsonParser struct {
	s string
	i int
	// lenient makes the end of input close every open string, array and object instead of
	// failing: a prefix-truncated document still yields what it held. truncated reports it.
	lenient, truncated bool
}

// parseJSONPrefix decodes a JSON document that may have been cut short (OpenLLMetry cuts
// attributes at OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT; Lumina's own limits append a marker).
// It returns the value the prefix describes and whether the input was cut; a Lumina
// truncation marker at the end is ignored. Syntax errors other than the early end still fail.
func parseJSONPrefix(s string) (any, bool, error) {
	if i := strings.LastIndex(s, "…[truncated by Lumina: "); i >= 0 && strings.HasSuffix(s, " bytes]") {
		s = s[:i]
	}
	p := jsonParser{s: s, lenient: true}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, false, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, false, errJSONSyntax
	}
	return v, p.truncated, nil
}

// eof handles the end of input inside a value: an error, or in lenient mode the end of
// the document.
func (p *jsonParser) eof() error {
	if p.lenient {
		p.truncated = true
		return nil
	}
	return errJSONSyntax
}

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (any, error) {
	if p.i >= len(p.s) {
		return nil, p.eof()
	}
	if depth > maxJSONDepth {
		return nil, errJSONSyntax
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.str()
	case c == 't':
		return p.literal("true", true)
	case c == 'f':
		return p.literal("false", false)
	case c == 'n':
		return p.literal("null", nil)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, errJSONSyntax
}

func (p *jsonParser) literal(word string, v any) (any, error) {
	if !strings.HasPrefix(p.s[p.i:], word) {
		if rest := p.s[p.i:]; p.lenient && strings.HasPrefix(word, rest) {
			p.i = len(p.s)
			return nil, p.eof()
		}
		return nil, errJSONSyntax
	}
	p.i += len(word)
	return v, nil
}

func (p *jsonParser) object(depth int) (any, error) {
	p.i++ // {
	m := make(map[string]any, 4)
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		p.space()
		if p.i >= len(p.s) {
			return m, p.eof()
		}
		if p.s[p.i] != '"' {
			return nil, errJSONSyntax
		}
		k, err := p.str()
		if err != nil || p.truncated {
			return m, err
		}
		p.space()
		if p.i >= len(p.s) {
			return m, p.eof()
		}
		if p.s[p.i] != ':' {
			return nil, errJSONSyntax
		}
		p.i++
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.truncated {
			if v != nil {
				m[k] = v
			}
			return m, nil
		}
		m[k] = v
		p.space()
		if p.i >= len(p.s) {
			return m, p.eof()
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return m, nil
		default:
			return nil, errJSONSyntax
		}
	}
}

func (p *jsonParser) array(depth int) (any, error) {
	p.i++ // [
	out := make([]any, 0, 4)
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return out, nil
	}
	for {
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.truncated {
			if v != nil {
				out = append(out, v)
			}
			return out, nil
		}
		out = append(out, v)
		p.space()
		if p.i >= len(p.s) {
			return out, p.eof()
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return out, nil
		default:
			return nil, errJSONSyntax
		}
	}
}

// strClass sorts the bytes of a JSON string for str's fast path: plain ASCII (0), above
// ASCII (strHigh), or the end of the plain run (strStop: a quote, a backslash, a control
// character).
var strClass = func() (t [256]byte) {
	for c := range t {
		switch {
		case c == '"' || c == '\\' || c < 0x20:
			t[c] = strStop
		case c >= utf8.RuneSelf:
			t[c] = strHigh
		}
	}
	return t
}()

const (
	strHigh = 1
	strStop = 2
)

// str reads a string starting at the opening quote.
func (p *jsonParser) str() (string, error) {
	p.i++ // "
	start := p.i
	// Fast path: no escapes, valid UTF-8, no control characters. UTF-8 is only checked when
	// the string has a byte above ASCII.
	var high byte
	i, src := p.i, p.s
	for ; i < len(src); i++ {
		k := strClass[src[i]]
		if k == strStop {
			break
		}
		high |= k
	}
	p.i = i
	if p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '"':
			s := p.s[start:p.i]
			p.i++
			if high != 0 && !utf8.ValidString(s) {
				return fixUTF8(s), nil
			}
			return s, nil
		case c < 0x20:
			return "", errJSONSyntax
		}
	}
	if p.i >= len(p.s) {
		return fixUTF8Prefix(p.s[start:]), p.eof()
	}
	var b strings.Builder
	b.WriteString(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			s := b.String()
			if !utf8.ValidString(s) {
				s = fixUTF8(s)
			}
			return s, nil
		case c < 0x20:
			return "", errJSONSyntax
		case c != '\\':
			b.WriteByte(c)
			p.i++
			continue
		}
		p.i++ // backslash
		if p.i >= len(p.s) {
			return b.String(), p.eof()
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				if p.lenient && p.i+4 > len(p.s) {
					p.i = len(p.s)
					return b.String(), p.eof()
				}
				return "", errJSONSyntax
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if strings.HasPrefix(p.s[p.i:], `\u`) {
					save := p.i
					p.i += 2
					if r2, ok = p.hex4(); !ok {
						if p.lenient && p.i+4 > len(p.s) {
							p.i = len(p.s)
							return b.String(), p.eof()
						}
						return "", errJSONSyntax
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b.WriteRune(dec)
						continue
					}
					p.i = save
				}
				r = utf8.RuneError
			}
			b.WriteRune(r)
		default:
			return "", errJSONSyntax
		}
	}
	return fixUTF8Prefix(b.String()), p.eof()
}

// fixUTF8Prefix drops a rune cut in half at the end of a truncated string, then fixes the
// rest like fixUTF8.
func fixUTF8Prefix(s string) string {
	for n := 1; n < utf8.UTFMax && n <= len(s); n++ {
		if utf8.RuneStart(s[len(s)-n]) {
			if !utf8.FullRuneInString(s[len(s)-n:]) {
				s = s[:len(s)-n]
			}
			break
		}
	}
	if !utf8.ValidString(s) {
		return fixUTF8(s)
	}
	return s
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	n, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}

// number reads a JSON number with the grammar's strictness (no leading zeros, no "+", no
// bare "."), as a float64 like encoding/json.
func (p *jsonParser) number() (any, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		if n == 0 && p.lenient && p.i >= len(p.s) {
			n = -1 // cut inside the number: "-", "1.", "1e"
		}
		return n
	}
	need := func(n int) error {
		switch {
		case n < 0:
			return p.eof()
		case n == 0:
			return errJSONSyntax
		}
		return nil
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if n := digits(); n <= 0 {
		return nil, need(n)
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if n := digits(); n <= 0 {
			return nil, need(n)
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if n := digits(); n <= 0 {
			return nil, need(n)
		}
	}
	f, err := strconv.ParseFloat(p.s[start:p.i], 64)
	if err != nil {
		return nil, errJSONSyntax // out of range, as encoding/json rejects it
	}
	return f, nil
}

// fixUTF8 replaces each invalid byte with U+FFFD, as encoding/json does.
func fixUTF8(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	return b.String()
}
