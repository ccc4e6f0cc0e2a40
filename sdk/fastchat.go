package lumina

import (
	"sync"
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
	return fastChatMessagesIndexed(nil, arr, limit)
}

// fastChatMessagesIndexed is fastChatMessages with arr's text indexed by ix (which may be nil).
func fastChatMessagesIndexed(ix *jsonIndex, arr []byte, limit int) (string, bool) {
	w := newJSONWriter(ix, limit)
	defer w.release()
	w.b = append(w.b, '[')
	n := 0
	ok := true
	w.ix.eachElement(arr, func(m []byte) {
		if !ok {
			return
		}
		if n > 0 {
			w.b = append(w.b, ',')
		}
		n++
		ok = w.message(m, "", nil)
	})
	if !ok || w.failed {
		return "", false
	}
	w.b = append(w.b, ']')
	return string(w.b), true
}

// fastChatChoices returns gen_ai.output.messages and the finish reasons for the choices
// array of a response.
func fastChatChoices(arr []byte, limit int) (string, []string, bool) {
	return fastChatChoicesIndexed(nil, arr, limit)
}

// fastChatChoicesIndexed is fastChatChoices with arr's text indexed by ix (which may be nil).
func fastChatChoicesIndexed(ix *jsonIndex, arr []byte, limit int) (string, []string, bool) {
	w := newJSONWriter(ix, limit)
	defer w.release()
	w.b = append(w.b, '[')
	var reasons []string
	ok := true
	w.ix.eachElement(arr, func(ch []byte) {
		if !ok {
			return
		}
		var msg []byte
		reason := ""
		w.ix.eachField(ch, func(key, v []byte) bool {
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
			w.b = append(w.b, ',')
		}
		reasons = append(reasons, reason)
		ok = w.message(msg, finishReason(reason), []byte(`"assistant"`))
	})
	if !ok || w.failed {
		return "", nil, false
	}
	w.b = append(w.b, ']')
	return string(w.b), reasons, true
}

// writerPool holds the writers' buffers: the output is copied out at its exact size (the
// input, pretty-printed JSON, is often several times larger), and the buffer is reused.
var writerPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledWriter is the largest buffer returned to writerPool.
const maxPooledWriter = 64 << 10

// jsonWriter appends the conventions' JSON, spending a byte budget on the text it copies.
type jsonWriter struct {
	b      []byte
	buf    *[]byte    // b's pooled storage
	ix     *jsonIndex // the index of the text being rewritten, or nil
	left   int
	failed bool
}

func newJSONWriter(ix *jsonIndex, limit int) jsonWriter {
	buf := writerPool.Get().(*[]byte)
	return jsonWriter{b: (*buf)[:0], buf: buf, ix: ix, left: limit}
}

// release returns the buffer to the pool; w.b must not be used after.
func (w *jsonWriter) release() {
	if cap(w.b) <= maxPooledWriter {
		*w.buf = w.b[:0]
		writerPool.Put(w.buf)
	}
	w.b, w.buf = nil, nil
}

// message appends one Chat Completions message; role, when set, replaces the message's.
func (w *jsonWriter) message(m []byte, finish string, role []byte) bool {
	var content, name, calls []byte
	other := false // a field only the general path handles
	ok := w.ix.eachField(m, func(key, v []byte) bool {
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
	w.b = append(w.b, `{"role":`...)
	w.b = append(w.b, role...)
	w.b = append(w.b, `,"parts":[`...)
	parts := 0
	switch {
	case content == nil || string(content) == "null":
	case len(content) > 2 && content[0] == '"' && w.text(content):
		w.b = append(w.b, `{"type":"text","content":`...)
		w.b = append(w.b, content...)
		w.b = append(w.b, '}')
		parts++
	default:
		return false // content parts, an empty or an unusual string
	}
	if calls != nil && string(calls) != "null" {
		w.ix.eachElement(calls, func(tc []byte) {
			if parts > 0 {
				w.b = append(w.b, ',')
			}
			parts++
			w.toolCall(tc)
		})
	}
	w.b = append(w.b, ']')
	if name != nil && string(name) != "null" && string(name) != `""` {
		w.b = append(w.b, `,"name":`...)
		w.b = append(w.b, name...)
	}
	if finish != "" {
		w.b = append(w.b, `,"finish_reason":"`...)
		w.b = append(w.b, finish...)
		w.b = append(w.b, '"')
	}
	w.b = append(w.b, '}')
	return true
}

// toolCall appends a tool_call part.
func (w *jsonWriter) toolCall(tc []byte) {
	var id, name, args []byte
	w.ix.eachField(tc, func(key, v []byte) bool {
		switch string(key) {
		case "id":
			id = v
		case "function":
			w.ix.eachField(v, func(k, f []byte) bool {
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
	w.b = append(w.b, `{"type":"tool_call","id":`...)
	w.b = append(w.b, id...)
	w.b = append(w.b, `,"name":`...)
	w.b = append(w.b, name...)
	if a := jsonString(args); a != "" {
		if !validJSON([]byte(a)) || len(a) > w.left {
			w.failed = true // the general path keeps it as a string, or cuts it (arguments do
			// not spend the budget there either)
			return
		}
		w.b = append(w.b, `,"arguments":`...)
		w.b = append(w.b, a...)
	}
	w.b = append(w.b, '}')
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
