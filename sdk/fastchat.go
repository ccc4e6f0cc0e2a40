package lumina

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// A fast path for the messages of OpenAI Chat Completions, the most common calls: text
// messages and tool calls are rewritten to the conventions' JSON by copying their JSON
// strings as they are, instead of decoding every message and encoding it again. Anything it
// does not handle exactly as the general path would (a tool message, content parts,
// reasoning, text over the content limit, a string it cannot vouch for) makes it give up,
// and the general path runs.

// fastChatMessages returns gen_ai.input.messages for the messages array of a request.
func fastChatMessages(arr []byte, limit int) (string, bool) {
	w := jsonWriter{left: limit}
	w.b.Grow(outputSize(arr))
	w.b.WriteByte('[')
	n := 0
	ok := true
	eachElement(arr, func(m []byte) {
		if !ok {
			return
		}
		if n > 0 {
			w.b.WriteByte(',')
		}
		n++
		ok = w.message(m, "", nil)
	})
	if !ok || w.failed {
		return "", false
	}
	w.b.WriteByte(']')
	return w.b.String(), true
}

// fastChatChoices returns gen_ai.output.messages and the finish reasons for the choices
// array of a response.
func fastChatChoices(arr []byte, limit int) (string, []string, bool) {
	w := jsonWriter{left: limit}
	w.b.Grow(outputSize(arr))
	w.b.WriteByte('[')
	var reasons []string
	ok := true
	eachElement(arr, func(ch []byte) {
		if !ok {
			return
		}
		var msg []byte
		reason := ""
		eachField(ch, func(key, v []byte) bool {
			switch string(key) {
			case "message":
				msg = v
			case "finish_reason":
				reason = jsonString(v)
			}
			return true
		})
		if msg == nil {
			ok = false
			return
		}
		if len(reasons) > 0 {
			w.b.WriteByte(',')
		}
		reasons = append(reasons, reason)
		ok = w.message(msg, finishReason(reason), []byte(`"assistant"`))
	})
	if !ok || w.failed {
		return "", nil, false
	}
	w.b.WriteByte(']')
	return w.b.String(), reasons, true
}

// outputSize is room for the conventions' JSON of the messages in arr: about their own size
// (the text is copied as it is) plus the part wrappers, so the buffer grows once, not in
// doublings.
func outputSize(arr []byte) int { return len(arr) + len(arr)/4 + 64 }

// jsonWriter appends the conventions' JSON, spending a byte budget on the text it copies.
type jsonWriter struct {
	b      strings.Builder // its String does not copy what was written
	left   int
	failed bool
}

// message appends one Chat Completions message; role, when set, replaces the message's.
func (w *jsonWriter) message(m []byte, finish string, role []byte) bool {
	var content, name, calls []byte
	other := false // a field only the general path handles
	ok := eachField(m, func(key, v []byte) bool {
		switch string(key) {
		case "role":
			if role == nil {
				role = v
			}
		case "content":
			content = v
		case "name":
			name = v
		case "tool_calls":
			calls = v
		case "tool_call_id", "refusal", "reasoning_content":
			other = other || string(v) != "null"
		}
		return true
	})
	if !ok || other || !plainJSONString(role) || string(role) == `"tool"` {
		return false
	}
	if name != nil && string(name) != "null" && !plainJSONString(name) {
		return false
	}
	w.b.WriteString(`{"role":`)
	w.b.Write(role)
	w.b.WriteString(`,"parts":[`)
	parts := 0
	switch {
	case content == nil || string(content) == "null":
	case len(content) > 2 && content[0] == '"' && w.text(content):
		w.b.WriteString(`{"type":"text","content":`)
		w.b.Write(content)
		w.b.WriteByte('}')
		parts++
	default:
		return false // content parts, an empty or an unusual string
	}
	if calls != nil && string(calls) != "null" {
		eachElement(calls, func(tc []byte) {
			if parts > 0 {
				w.b.WriteByte(',')
			}
			parts++
			w.toolCall(tc)
		})
	}
	w.b.WriteByte(']')
	if name != nil && string(name) != "null" && string(name) != `""` {
		w.b.WriteString(`,"name":`)
		w.b.Write(name)
	}
	if finish != "" {
		w.b.WriteString(`,"finish_reason":"`)
		w.b.WriteString(finish)
		w.b.WriteByte('"')
	}
	w.b.WriteByte('}')
	return true
}

// toolCall appends a tool_call part.
func (w *jsonWriter) toolCall(tc []byte) {
	var id, name, args []byte
	eachField(tc, func(key, v []byte) bool {
		switch string(key) {
		case "id":
			id = v
		case "function":
			eachField(v, func(k, f []byte) bool {
				switch string(k) {
				case "name":
					name = f
				case "arguments":
					args = f
				}
				return true
			})
		}
		return true
	})
	if !plainJSONString(id) || !plainJSONString(name) || len(id) <= 2 || len(name) <= 2 {
		w.failed = true
		return
	}
	w.b.WriteString(`{"type":"tool_call","id":`)
	w.b.Write(id)
	w.b.WriteString(`,"name":`)
	w.b.Write(name)
	if a := jsonString(args); a != "" {
		if !json.Valid([]byte(a)) || len(a) > w.left {
			w.failed = true // the general path keeps it as a string, or cuts it (arguments do
			// not spend the budget there either)
			return
		}
		w.b.WriteString(`,"arguments":`)
		w.b.WriteString(a)
	}
	w.b.WriteByte('}')
}

// text reports whether the JSON string s can be copied as it is: valid UTF-8, well-formed
// escapes, and within the budget (its raw length bounds its decoded length).
func (w *jsonWriter) text(s []byte) bool {
	if len(s)-2 > w.left || !plainJSONString(s) {
		return false
	}
	w.left -= len(s) - 2
	return true
}

// plainJSONString reports whether v is a JSON string of valid UTF-8 whose escapes are all
// well-formed, so copying it keeps the output valid JSON.
func plainJSONString(v []byte) bool {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return false
	}
	s := v[1 : len(v)-1]
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 || c == '"':
			return false
		case c >= utf8.RuneSelf:
			ascii = false
		case c == '\\':
			if i+1 >= len(s) {
				return false
			}
			i++
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+5 > len(s) {
					return false
				}
				for _, h := range s[i+1 : i+5] {
					if !isHex(h) {
						return false
					}
				}
				i += 4
			default:
				return false
			}
		}
	}
	return ascii || utf8.Valid(s)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
