package lumina

import "bytes"

// A minimal, allocation-free scanner over the top level of a JSON object, so the transport
// decodes only the few small values a span needs (usage, model, finish reasons) instead of a
// whole response body with encoding/json. Malformed input makes it stop; callers then record
// less, never wrong values: each value it yields is a complete JSON value, and is decoded
// with encoding/json.

// eachField calls fn with the raw key (without quotes, escapes kept) and the raw value of each
// field of the JSON object obj, until fn returns false. It reports whether obj was an object
// it could walk to the end.
func eachField(obj []byte, fn func(key, value []byte) bool) bool {
	return (*jsonIndex)(nil).eachField(obj, fn)
}

// eachField is the package's eachField, skipping nested values with the index x (which may
// be nil).
func (x *jsonIndex) eachField(obj []byte, fn func(key, value []byte) bool) bool {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return false
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return true
	}
	for i < len(obj) {
		if obj[i] != '"' {
			return false
		}
		end := skipString(obj, i)
		if end < 0 {
			return false
		}
		key := obj[i+1 : end-1]
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return false
		}
		i = skipSpace(obj, i+1)
		vend := x.skipValue(obj, i)
		if vend < 0 {
			return false
		}
		if !fn(key, obj[i:vend]) {
			return true
		}
		i = skipSpace(obj, vend)
		if i >= len(obj) {
			return false
		}
		switch obj[i] {
		case ',':
			i = skipSpace(obj, i+1)
		case '}':
			return true
		default:
			return false
		}
	}
	return false
}

// eachElement calls fn with each element of the JSON array arr.
func eachElement(arr []byte, fn func(value []byte)) {
	(*jsonIndex)(nil).eachElement(arr, fn)
}

// eachElement is the package's eachElement, skipping nested values with the index x (which
// may be nil).
func (x *jsonIndex) eachElement(arr []byte, fn func(value []byte)) {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return
	}
	i = skipSpace(arr, i+1)
	for i < len(arr) && arr[i] != ']' {
		end := x.skipValue(arr, i)
		if end < 0 {
			return
		}
		fn(arr[i:end])
		i = skipSpace(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = skipSpace(arr, i+1)
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"', or -1. It jumps
// from quote to quote (bytes.IndexByte is vectorized: message text is most of a body) and
// ends at the first quote preceded by an even number of backslashes.
func skipString(b []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		escaped := false
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			escaped = !escaped
		}
		if !escaped {
			return j + 1
		}
		j++
	}
}

// skipValue returns the index after the value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end := skipString(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// plainString returns a JSON string value without its quotes when it has no escapes (ids,
// model names, finish reasons never do), and false otherwise.
func plainString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	for _, c := range v[1 : len(v)-1] {
		if c == '\\' {
			return "", false
		}
	}
	return string(v[1 : len(v)-1]), true
}
