package genai

import (
	"strings"
)

// Message parsing shared by every transport (§1.5, §7, §10.7, §10.8): semconv parts,
// OpenAI chat messages, Anthropic content blocks, Vercel AI SDK parts, Gemini contents,
// request/response bodies, plain text. Anything that cannot be parsed is kept in Raw.

// roleAliases maps producer-specific roles to the chat roles Lumina shows.
var roleAliases = map[string]string{
	"model": "assistant", "ai": "assistant", "bot": "assistant", "human": "user",
	"function": "tool", "ipython": "tool", "chatbot": "assistant",
}

func normRole(r string) string {
	r = strings.ToLower(strings.TrimSpace(r))
	if a, ok := roleAliases[r]; ok {
		return a
	}
	return r
}

// parseMessages turns any message-carrying value into messages. defaultRole is used when the
// value does not say (user for inputs, assistant for outputs). ok is false for absent values.
func parseMessages(v any, defaultRole string) ([]Message, bool) {
	if !present(v) {
		return nil, false
	}
	if s, isString := v.(string); isString {
		dec, ok := decodeJSON(s)
		if !ok {
			t := strings.TrimSpace(s)
			if t != "" && (t[0] == '[' || t[0] == '{') {
				return truncatedMessages(s, defaultRole), true
			}
			return []Message{{Role: defaultRole, Content: s}}, true
		}
		if inner, ok := dec.(string); ok {
			return []Message{{Role: defaultRole, Content: inner}}, true
		}
		v = dec
	}
	switch x := v.(type) {
	case []any:
		if isPartList(x) {
			m := Message{Role: defaultRole}
			applyParts(&m, x)
			return []Message{m}, true
		}
		out := make([]Message, 0, len(x))
		for _, e := range x {
			switch el := e.(type) {
			case map[string]any:
				out = append(out, mapMessages(el, defaultRole)...)
			case string:
				if dec, ok := decodeJSON(el); ok {
					if str, ok := dec.(string); ok { // Vercel ai.values: JSON-encoded strings
						el = str
					}
				}
				out = append(out, Message{Role: defaultRole, Content: el})
			case []any:
				ms, _ := parseMessages(el, defaultRole)
				out = append(out, ms...)
			default:
				out = append(out, Message{Role: defaultRole, Content: jsonText(el)})
			}
		}
		return out, len(out) > 0
	case map[string]any:
		ms := mapMessages(x, defaultRole)
		return ms, len(ms) > 0
	}
	return []Message{{Role: defaultRole, Content: jsonText(v)}}, true
}

// truncatedMessages recovers what a cut-short JSON message attribute still holds: the
// complete messages before the cut and the partial last one. The original text is kept in
// the last message's Raw, so nothing is lost and the cut shows. Broken JSON that is not a
// prefix of a valid document yields one message with only Raw.
func truncatedMessages(s, defaultRole string) []Message {
	raw := []Message{{Role: defaultRole, Raw: s}}
	dec, cut, err := parseJSONPrefix(strings.TrimSpace(s))
	if err != nil || !cut || !present(dec) {
		return raw
	}
	var ms []Message
	switch x := dec.(type) {
	case []any:
		ms, _ = parseMessages(x, defaultRole)
	case map[string]any:
		ms = mapMessages(x, defaultRole)
	}
	if len(ms) == 0 {
		return raw
	}
	ms[len(ms)-1].Raw = s
	return ms
}

// mapMessages reads one map: a message, a request body ({messages}, {contents}, Vercel's
// {system, prompt, messages}), a response body ({choices}, Anthropic {content, stop_reason},
// Gemini {candidates}), or an arbitrary payload shown as JSON.
func mapMessages(m map[string]any, defaultRole string) []Message {
	if _, ok := m["role"]; ok { // the common case: one chat message
		return []Message{oneMessage(m, defaultRole)}
	}
	if msgs, ok := m["messages"].([]any); ok {
		out, _ := parseMessages(msgs, defaultRole)
		if p, ok := asString(m["prompt"]); ok {
			out = append(out, Message{Role: "user", Content: p})
		}
		return out
	}
	if choices, ok := m["choices"].([]any); ok {
		var out []Message
		for _, ch := range choices {
			cm, ok := ch.(map[string]any)
			if !ok {
				continue
			}
			var msg Message
			switch inner := cm["message"].(type) {
			case map[string]any:
				msg = oneMessage(inner, defaultRole)
			default:
				if t, ok := asString(cm["text"]); ok { // completions API
					msg = Message{Role: defaultRole, Content: t}
				} else if ms, ok := parseMessages(inner, defaultRole); ok {
					msg = ms[0]
				}
			}
			if fr, ok := asString(cm["finish_reason"]); ok {
				msg.FinishReason = fr
			}
			out = append(out, msg)
		}
		return out
	}
	if cands, ok := m["candidates"].([]any); ok {
		var out []Message
		for _, c := range cands {
			if cm, ok := c.(map[string]any); ok {
				if content, ok := cm["content"].(map[string]any); ok {
					msg := oneMessage(content, defaultRole)
					msg.FinishReason, _ = asString(cm["finishReason"])
					out = append(out, msg)
				}
			}
		}
		return out
	}
	if contents, ok := m["contents"].([]any); ok { // Gemini request
		out, _ := parseMessages(contents, defaultRole)
		return out
	}
	if p, ok := asString(m["prompt"]); ok && m["role"] == nil {
		return []Message{{Role: "user", Content: p}}
	}
	_, hasRole := m["role"]
	_, hasContent := m["content"]
	_, hasParts := m["parts"]
	_, hasText := m["text"]
	_, hasToolCalls := m["tool_calls"]
	if hasRole || hasContent || hasParts || hasToolCalls || (hasText && len(m) <= 2) {
		if inner, ok := m["content"].(map[string]any); ok && !hasRole {
			if _, ok := inner["parts"]; ok { // Google ADK {"content": {"role", "parts"}}
				return []Message{oneMessage(inner, defaultRole)}
			}
		}
		return []Message{oneMessage(m, defaultRole)}
	}
	return []Message{{Role: defaultRole, Content: jsonText(m)}}
}

// oneMessage reads one chat message in any of the known shapes.
func oneMessage(m map[string]any, defaultRole string) Message {
	msg := Message{Role: defaultRole}
	if r, ok := asString(m["role"]); ok {
		msg.Role = normRole(r)
	}
	msg.Name, _ = asString(m["name"])
	for _, k := range []string{"tool_call_id", "toolCallId", "tool_use_id"} {
		if id, ok := asString(m[k]); ok {
			msg.ToolCallID = id
			break
		}
	}
	if msg.ToolCallID == "" && msg.Role == "tool" {
		msg.ToolCallID, _ = asString(m["id"])
	}
	for _, k := range []string{"finish_reason", "stop_reason", "finishReason"} {
		if fr, ok := asString(m[k]); ok {
			msg.FinishReason = fr
			break
		}
	}
	switch c := m["content"].(type) {
	case string:
		if dec, ok := decodeJSON(c); ok {
			if parts, ok := dec.([]any); ok && isPartList(parts) {
				applyParts(&msg, parts) // content blocks sent as a JSON string
				break
			}
		}
		msg.Content = c
	case []any:
		applyParts(&msg, c)
	case map[string]any:
		applyParts(&msg, []any{c})
	case nil:
	default:
		msg.Content = jsonText(c)
	}
	if parts, ok := m["parts"].([]any); ok {
		applyParts(&msg, parts)
	}
	if msg.Content == "" {
		if t, ok := asString(m["text"]); ok {
			msg.Content = t
		}
	}
	if calls, ok := decodeJSON(m["tool_calls"]); ok {
		if list, ok := calls.([]any); ok {
			for _, tc := range list {
				if tm, ok := tc.(map[string]any); ok {
					msg.ToolCalls = append(msg.ToolCalls, toolCallFrom(tm))
				}
			}
		}
	}
	if fc, ok := m["function_call"].(map[string]any); ok {
		msg.ToolCalls = append(msg.ToolCalls, toolCallFrom(fc))
	}
	return msg
}

// toolCallFrom reads a tool call: OpenAI {id, function:{name, arguments}}, semconv
// {id, name, arguments}, Anthropic {id, name, input}, Vercel {toolCallId, toolName, args}.
func toolCallFrom(m map[string]any) ToolCall {
	tc := ToolCall{}
	for _, k := range []string{"id", "toolCallId", "call_id", "tool_call_id"} {
		if v, ok := asString(m[k]); ok {
			tc.ID = v
			break
		}
	}
	src := m
	if fn, ok := m["function"].(map[string]any); ok {
		src = fn
	}
	for _, k := range []string{"name", "toolName"} {
		if v, ok := asString(src[k]); ok {
			tc.Name = v
			break
		}
	}
	for _, k := range []string{"arguments", "args", "input"} {
		if v, ok := src[k]; ok && v != nil {
			tc.Arguments = jsonText(v)
			break
		}
	}
	return tc
}

// isPartList reports whether a list is content parts rather than messages: its maps carry
// a "type" (or Gemini's "text") and no "role".
func isPartList(list []any) bool {
	if len(list) == 0 {
		return false
	}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m["role"]; ok {
			return false
		}
		_, hasType := m["type"]
		_, hasText := m["text"]
		_, hasFC := m["function_call"]
		_, hasFR := m["function_response"]
		if !hasType && !hasText && !hasFC && !hasFR {
			return false
		}
	}
	return true
}

// applyParts folds content parts into msg: text parts into Content, tool calls into
// ToolCalls, tool results into ToolCallID and Content, everything else (reasoning, images,
// files, server tool calls…) into Parts.
func applyParts(msg *Message, parts []any) {
	var text []string
	if msg.Content != "" {
		text = append(text, msg.Content)
	}
	for _, p := range parts {
		pm, ok := p.(map[string]any)
		if !ok {
			if s, ok := asString(p); ok {
				text = append(text, s)
			}
			continue
		}
		typ, _ := asString(pm["type"])
		switch strings.ToLower(typ) {
		case "text", "input_text", "output_text", "":
			if fc, ok := pm["function_call"].(map[string]any); ok { // Gemini
				msg.ToolCalls = append(msg.ToolCalls, toolCallFrom(fc))
				continue
			}
			if fr, ok := pm["function_response"].(map[string]any); ok {
				if msg.Role == "user" || msg.Role == "" {
					msg.Role = "tool"
				}
				msg.Name, _ = asString(fr["name"])
				text = append(text, jsonText(fr["response"]))
				continue
			}
			for _, k := range []string{"content", "text"} {
				if s, ok := pm[k].(string); ok {
					text = append(text, s)
					break
				}
			}
		case "tool_call", "tool_use", "tool-call", "function_call", "function":
			msg.ToolCalls = append(msg.ToolCalls, toolCallFrom(pm))
		case "tool_call_response", "tool_result", "tool-result", "function_call_output", "function_response":
			for _, k := range []string{"id", "tool_use_id", "toolCallId", "call_id"} {
				if id, ok := asString(pm[k]); ok {
					msg.ToolCallID = id
					break
				}
			}
			for _, k := range []string{"response", "result", "content", "output"} {
				if v, ok := pm[k]; ok && v != nil {
					text = append(text, partText(v))
					break
				}
			}
		default:
			msg.Parts = append(msg.Parts, pm)
		}
	}
	msg.Content = strings.Join(text, "\n")
}

// partText renders a tool result: strings as they are, content-block lists by their text,
// anything else as JSON.
func partText(v any) string {
	if list, ok := v.([]any); ok && isPartList(list) {
		var m Message
		applyParts(&m, list)
		return m.Content
	}
	return jsonText(v)
}

// partsText joins the text of a parts list (system instructions).
func partsText(v any) (string, bool) {
	if !present(v) {
		return "", false
	}
	if s, ok := v.(string); ok {
		dec, ok := decodeJSON(s)
		if !ok {
			return s, true
		}
		v = dec
	}
	switch x := v.(type) {
	case string:
		return x, true
	case []any:
		if isPartList(x) {
			var m Message
			applyParts(&m, x)
			return m.Content, true
		}
		ms, _ := parseMessages(x, "system")
		return joinContent(ms), true
	case map[string]any:
		ms := mapMessages(x, "system")
		return joinContent(ms), true
	}
	return jsonText(v), true
}

func joinContent(ms []Message) string {
	parts := make([]string, 0, len(ms))
	for _, m := range ms {
		if m.Content != "" {
			parts = append(parts, m.Content)
		}
	}
	return strings.Join(parts, "\n")
}
