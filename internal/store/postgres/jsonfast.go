package postgres

import (
	"encoding/base64"
	"math"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// appendJSON appends the JSON encoding of a generic value (what pdata's AsRaw and JSON
// decoding produce: maps, slices, strings, numbers, bools, nil) to dst, several times
// faster than encoding/json, which reflects and sorts map keys (jsonb sorts them itself).
// It reports false for a type it does not know; the caller then uses encoding/json.
// The output is what marshalJSON would store: NUL becomes U+FFFD, invalid UTF-8 becomes
// U+FFFD, and non-finite floats become their names.
func appendJSON(dst []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case string:
		return appendJSONString(dst, x), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case float64:
		return appendFloat(dst, x, 64), true
	case float32:
		return appendFloat(dst, float64(x), 32), true
	case int64:
		return strconv.AppendInt(dst, x, 10), true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), true
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case uint64:
		return strconv.AppendUint(dst, x, 10), true
	case []byte:
		if x == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, '"'), true
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '{')
		first := true
		for k, e := range x {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = appendJSON(dst, e); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	case []any:
		if x == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendJSON(dst, e); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	case []string:
		if x == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, e)
		}
		return append(dst, ']'), true
	}
	return dst, false
}

// appendFloat writes f as the shortest decimal that parses back to it, as encoding/json
// does; NaN and ±Inf, which JSON lacks, are written as strings.
func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.AppendQuote(dst, strconv.FormatFloat(f, 'g', -1, bits))
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	return strconv.AppendFloat(dst, f, format, -1, bits)
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case 0:
				dst = append(dst, `\ufffd`...) // jsonb cannot hold \u0000
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonEncoder encodes the free-form values of one batch into a shared arena, so a batch
// of spans costs a few large allocations rather than one per value.
type jsonEncoder struct {
	arena  []byte
	shared map[uintptr][]byte // by map identity: a resource shared by many spans
}

// value encodes v for a json or jsonb column, as marshalJSON does; nil means SQL NULL.
func (e *jsonEncoder) value(v any) ([]byte, error) {
	start := len(e.arena)
	arena, ok := appendJSON(e.arena, v)
	if !ok {
		return marshalJSON(v)
	}
	e.arena = arena
	b := arena[start:len(arena):len(arena)]
	if string(b) == "null" {
		e.arena = e.arena[:start]
		return nil, nil
	}
	return b, nil
}

// sharedMap encodes a map that many records of one OTLP request share, once per batch.
func (e *jsonEncoder) sharedMap(m map[string]any) ([]byte, error) {
	if m == nil {
		return nil, nil
	}
	if e.shared == nil {
		e.shared = map[uintptr][]byte{}
	}
	key := reflect.ValueOf(m).Pointer()
	if b, ok := e.shared[key]; ok {
		return b, nil
	}
	b, err := e.value(m)
	if err != nil {
		return nil, err
	}
	e.shared[key] = b
	return b, nil
}
