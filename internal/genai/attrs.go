package genai

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Lenient typed getters (conventions §10.1). Producers send numbers as strings, doubles or
// protobufjs {high, low} objects, booleans as "True"/"False", and "", "none" or "null" for
// missing values; every reader goes through these helpers so no attribute's declared type is
// trusted.

// absentString reports whether s is one of the spellings producers use for "no value".
func absentString(s string) bool {
	if len(s) > 12 {
		return false // fast path: every absent spelling is short
	}
	s = strings.TrimSpace(s)
	for _, a := range absentSpellings {
		if strings.EqualFold(s, a) {
			return true
		}
	}
	return false
}

var absentSpellings = []string{"", "none", "null", "nil", "undefined", "<nil>", "n/a"}

// asString returns v as a string. Scalars are formatted, structured values are JSON-encoded;
// absent values report false.
func asString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		if absentString(x) {
			return "", false
		}
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case []byte:
		if len(x) == 0 {
			return "", false
		}
		return string(x), true
	case []any:
		if len(x) == 0 {
			return "", false
		}
	case map[string]any:
		if len(x) == 0 {
			return "", false
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// asInt returns v as an integer: int64, whole doubles, numeric strings and {high, low}
// Long objects are accepted; negative and non-finite values are rejected.
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, x >= 0
	case int:
		return int64(x), x >= 0
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 || x > math.MaxInt64/2 {
			return 0, false
		}
		return int64(math.Round(x)), true
	case string:
		s := strings.TrimSpace(x)
		if absentString(s) {
			return 0, false
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, n >= 0
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return asInt(f)
		}
		if strings.HasPrefix(s, "{") {
			if m, err := parseJSON(s); err == nil {
				return asInt(m)
			}
		}
	case map[string]any:
		// protobufjs Long: {low, high, unsigned}.
		lo, okLo := x["low"]
		hi, okHi := x["high"]
		if !okLo || !okHi {
			return 0, false
		}
		l, ok1 := asFloat(lo)
		h, ok2 := asFloat(hi)
		if !ok1 || !ok2 {
			return 0, false
		}
		n := int64(h)<<32 | int64(uint32(int64(l)))
		return n, n >= 0
	}
	return 0, false
}

// asFloat returns v as a float64 from any numeric form or numeric string.
func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case string:
		s := strings.TrimSpace(x)
		if absentString(s) {
			return 0, false
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, false
		}
		return f, true
	case map[string]any:
		if n, ok := asInt(x); ok {
			return float64(n), true
		}
	}
	return 0, false
}

// asBool returns v as a boolean: true/false in any case, 1/0, yes/no.
func asBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case int64:
		return x != 0, true
	case float64:
		return x != 0, true
	case string:
		switch strings.TrimSpace(strings.ToLower(x)) {
		case "true", "1", "yes", "y", "t":
			return true, true
		case "false", "0", "no", "n", "f":
			return false, true
		}
	}
	return false, false
}

// asStrings returns v as a list of strings: a real array, a JSON-encoded array, a
// comma-joined string or a single scalar. Absent entries are dropped.
func asStrings(v any) ([]string, bool) {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := asString(e); ok {
				out = append(out, s)
			}
		}
		return out, len(out) > 0
	case []string:
		return x, len(x) > 0
	case string:
		s := strings.TrimSpace(x)
		if absentString(s) {
			return nil, false
		}
		if strings.HasPrefix(s, "[") || strings.HasPrefix(s, `"`) {
			if dec, err := parseJSON(s); err == nil {
				return asStrings(dec)
			}
		}
		parts := strings.Split(s, ",")
		out := make([]string, 0, len(parts))
		for _, p := range parts {
			if p = strings.TrimSpace(p); !absentString(p) {
				out = append(out, p)
			}
		}
		return out, len(out) > 0
	}
	if s, ok := asString(v); ok {
		return []string{s}, true
	}
	return nil, false
}

// decodeJSON returns a structured value: maps and arrays are returned as they are, strings
// holding JSON are decoded (twice when double-encoded). ok is false when v is neither.
func decodeJSON(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any, []any:
		return x, true
	case []byte:
		return decodeJSON(string(x))
	case string:
		for range 3 {
			s := strings.TrimSpace(x)
			if s == "" || (s[0] != '{' && s[0] != '[' && s[0] != '"') {
				return nil, false
			}
			out, err := parseJSON(s)
			if err != nil {
				return nil, false
			}
			inner, isString := out.(string)
			if !isString {
				return out, true
			}
			if t := strings.TrimSpace(inner); t == "" || (t[0] != '{' && t[0] != '[' && t[0] != '"') {
				return inner, true // a JSON-encoded plain string
			}
			x = inner // double-encoded: decode again
		}
	}
	return nil, false
}

// jsonText returns v as text for display: strings unchanged, structured values JSON-encoded.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	s, _ := asString(v)
	return s
}

// mapGet follows a dotted path through nested maps ("usage.cache_read_input_tokens").
func mapGet(m map[string]any, path ...string) (any, bool) {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[p]; !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}
