package lumina

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
)

func optFloat(c *call, k string, v *float64) {
	if v != nil {
		c.float(k, *v)
	}
}

func stringSlice(k string, v []string) attribute.KeyValue { return attribute.StringSlice(k, v) }

func boolTrue(k string) attribute.KeyValue { return attribute.Bool(k, true) }

// stringList reads a JSON string or array of strings.
func stringList(raw json.RawMessage) []string {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	var list []string
	_ = json.Unmarshal(raw, &list)
	return list
}

// outputType maps a response format to gen_ai.output.type.
func outputType(format string) string {
	switch format {
	case "json_object", "json_schema", "json":
		return "json"
	case "text", "":
		return "text"
	}
	return format
}

// finishReason maps a provider's finish reason to the conventions' values.
func finishReason(r string) string {
	switch r {
	case "stop", "end_turn", "stop_sequence", "completed", "pause_turn":
		return "stop"
	case "length", "max_tokens", "max_output_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_calls", "function_call", "tool_use", "tool_call":
		return "tool_call"
	case "content_filter", "refusal":
		return "content_filter"
	case "":
		return "error"
	}
	return r
}

// tailValue returns the JSON value of the last "key": in tail, the end of a body too large
// to parse whole, or nil.
func tailValue(tail []byte, key string) json.RawMessage {
	i := bytes.LastIndex(tail, []byte(`"`+key+`"`))
	if i < 0 {
		return nil
	}
	rest := bytes.TrimLeft(tail[i+len(key)+2:], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return nil
	}
	var v json.RawMessage
	if json.NewDecoder(bytes.NewReader(rest[1:])).Decode(&v) != nil {
		return nil
	}
	return v
}

// nonNullKey reports whether data, a JSON object, may have key with a value other than null.
// It errs towards true (a match inside a string counts), so a caller that skips decoding on
// false never misses the key.
func nonNullKey(data []byte, key string) bool {
	pat := []byte(`"` + key + `"`)
	for {
		i := bytes.Index(data, pat)
		if i < 0 {
			return false
		}
		data = data[i+len(pat):]
		rest := bytes.TrimLeft(data, " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			rest = bytes.TrimLeft(rest[1:], " \t\r\n")
			if !bytes.HasPrefix(rest, []byte("null")) {
				return true
			}
		}
	}
}

// jsonString decodes a JSON string value; anything else (null) gives "".
func jsonString(v []byte) string {
	if s, ok := plainString(v); ok {
		return s
	}
	if s, ok := unquoteSimple(v); ok {
		return s
	}
	var s string
	_ = json.Unmarshal(v, &s)
	return s
}

// unquoteSimple decodes a JSON string whose escapes are all single characters (\" \\ \/
// \b \f \n \r \t: a tool call's JSON arguments, text with line breaks) and whose other
// bytes are valid UTF-8 without control characters, exactly as encoding/json does; anything
// else (\u escapes, invalid UTF-8, which encoding/json repairs) reports false.
func unquoteSimple(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	in := v[1 : len(v)-1]
	var buf [256]byte // on the stack: only the string is allocated
	out := buf[:0]
	ascii := true
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c == '\\':
			if i+1 >= len(in) {
				return "", false
			}
			i++
			switch in[i] {
			case '"', '\\', '/':
				out = append(out, in[i])
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			default:
				return "", false
			}
		case c < 0x20 || c == '"':
			return "", false
		default:
			if c >= utf8.RuneSelf {
				ascii = false
			}
			out = append(out, c)
		}
	}
	if !ascii && !utf8.Valid(out) {
		return "", false
	}
	return string(out), true
}

// jsonInt reads a non-negative JSON integer (a token count); anything else gives 0.
func jsonInt(v []byte) int64 {
	var n int64
	for i, c := range v {
		if c < '0' || c > '9' || i > 17 {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// optInt is an integer request parameter that may be absent.
type optInt struct {
	v  int64
	ok bool
}

// optNumber is a number request parameter that may be absent.
type optNumber struct {
	v  float64
	ok bool
}

// put records the parameter as k when it is present.
func (o optNumber) put(c *call, k string) {
	if o.ok {
		c.float(k, o.v)
	}
}

// scanOptInt reads a JSON integer request parameter; absent when it is null or not an
// integer.
func scanOptInt(v []byte) optInt {
	n, err := strconv.ParseInt(string(v), 10, 64)
	return optInt{n, err == nil}
}

// scanOptNumber reads a JSON number request parameter; absent when it is null or not a
// number.
func scanOptNumber(v []byte) optNumber {
	f, err := strconv.ParseFloat(string(v), 64)
	return optNumber{f, err == nil}
}
