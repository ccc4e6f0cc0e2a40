package lumina

import (
	"encoding/json"
	"strconv"
	"strings"
)

// scanChunkChoices decodes the choices array of a streamed Chat Completions chunk into out
// (whose storage it reuses) with the scanner, producing what json.Unmarshal would. It reports
// false for anything it would not decode exactly as encoding/json does (invalid JSON, a key
// with an escape or in another case than the field's, a value of an unexpected type), and the
// caller decodes the array with encoding/json. Stream chunks are small and many, and
// encoding/json's reflection cost about 6 allocations per chunk.
func scanChunkChoices(arr []byte, out []chatChunkChoice) ([]chatChunkChoice, bool) {
	if !validJSON(arr) {
		return out, false
	}
	if string(arr) == "null" {
		return out[:0], true
	}
	if len(arr) == 0 || arr[0] != '[' {
		return out, false
	}
	ok := true
	eachElement(arr, func(el []byte) {
		if !ok {
			return
		}
		var ch chatChunkChoice
		if ok = scanObject(el, func(key, v []byte) bool {
			switch string(key) {
			case "index":
				return scanInt(v, &ch.Index)
			case "finish_reason":
				return scanString(v, &ch.FinishReason)
			case "delta":
				return scanDelta(v, &ch.Delta) // a repeated key merges, as in encoding/json
			}
			return !foldsTo(key, "index", "finish_reason", "delta")
		}); ok {
			out = append(out, ch)
		}
	})
	return out, ok
}

func scanDelta(v []byte, d *chatChunkDelta) bool {
	return scanObject(v, func(key, v []byte) bool {
		switch string(key) {
		case "content":
			return scanStringPtr(v, &d.Content)
		case "reasoning_content":
			return scanString(v, &d.Reasoning)
		case "refusal":
			return scanStringPtr(v, &d.Refusal)
		case "tool_calls":
			d.ToolCalls = nil
			if string(v) == "null" {
				return true
			}
			if v[0] != '[' {
				return false
			}
			ok := true
			eachElement(v, func(el []byte) {
				if !ok {
					return
				}
				var tc chatToolCall
				if ok = scanToolCall(el, &tc); ok {
					d.ToolCalls = append(d.ToolCalls, tc)
				}
			})
			if ok && d.ToolCalls == nil {
				d.ToolCalls = []chatToolCall{}
			}
			return ok
		}
		return !foldsTo(key, "content", "reasoning_content", "refusal", "tool_calls")
	})
}

func scanToolCall(v []byte, tc *chatToolCall) bool {
	return scanObject(v, func(key, v []byte) bool {
		switch string(key) {
		case "index":
			return scanInt(v, &tc.Index)
		case "id":
			return scanString(v, &tc.ID)
		case "function":
			return scanObject(v, func(key, v []byte) bool {
				switch string(key) {
				case "name":
					return scanString(v, &tc.Function.Name)
				case "arguments":
					return scanString(v, &tc.Function.Arguments)
				}
				return !foldsTo(key, "name", "arguments")
			})
		}
		return !foldsTo(key, "index", "id", "function")
	})
}

// scanObject calls fn for each field of the object v (null: none) until fn returns false,
// and reports whether every field was handled. A key with an escape is not handled: its
// decoded form is unknown here.
func scanObject(v []byte, fn func(key, value []byte) bool) bool {
	if string(v) == "null" {
		return true
	}
	ok := true
	walked := eachField(v, func(key, value []byte) bool {
		if strings.IndexByte(string(key), '\\') >= 0 || !fn(key, value) {
			ok = false
		}
		return ok
	})
	return ok && walked
}

// foldsTo reports whether key, not one of names, still matches one of them the way
// encoding/json matches keys (case-insensitively).
func foldsTo(key []byte, names ...string) bool {
	for _, n := range names {
		if strings.EqualFold(string(key), n) {
			return true
		}
	}
	return false
}

// scanInt decodes a JSON integer or null (which leaves *dst alone) into an int.
func scanInt(v []byte, dst *int) bool {
	if string(v) == "null" {
		return true
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return false
	}
	*dst = n
	return true
}

// scanString decodes a JSON string or null (which leaves *dst alone).
func scanString(v []byte, dst *string) bool {
	if string(v) == "null" {
		return true
	}
	s, ok := decodeString(v)
	if ok {
		*dst = s
	}
	return ok
}

// scanStringPtr decodes a JSON string into a new *string, or null into nil.
func scanStringPtr(v []byte, dst **string) bool {
	if string(v) == "null" {
		*dst = nil
		return true
	}
	s, ok := decodeString(v)
	if ok {
		*dst = &s
	}
	return ok
}

// decodeString decodes a JSON string: printable ASCII without escapes is copied, anything
// else (escapes, UTF-8, which encoding/json checks and repairs) goes through encoding/json.
func decodeString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	plain := true
	for _, c := range v[1 : len(v)-1] {
		if c < 0x20 || c > 0x7e || c == '\\' || c == '"' {
			plain = false
			break
		}
	}
	if plain {
		return string(v[1 : len(v)-1]), true
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}
