package genai

import (
	"strings"
)

// msgSource is one candidate source of messages, tried in priority order.
type msgSource struct {
	name string
	read func() ([]Message, bool)
}

// attrMsgs reads a message attribute.
func (n *normalizer) attrMsgs(key, role string) msgSource {
	return msgSource{key, func() ([]Message, bool) {
		v := n.a[key]
		if emptyEntityIO(v) {
			return nil, false
		}
		return parseMessages(v, role)
	}}
}

// emptyEntityIO reports Traceloop's entity input for a call without arguments,
// {"args":[],"kwargs":{}}, which carries nothing worth showing as a message.
func emptyEntityIO(v any) bool {
	s, ok := v.(string)
	if !ok || !strings.Contains(s, `"kwargs"`) {
		return false
	}
	dec, ok := decodeJSON(s)
	m, _ := dec.(map[string]any)
	if !ok || len(m) != 2 {
		return false
	}
	args, _ := m["args"].([]any)
	kwargs, _ := m["kwargs"].(map[string]any)
	return m["args"] != nil && m["kwargs"] != nil && len(args) == 0 && len(kwargs) == 0
}

// eventMsgs reads messages from span events with the given names, in event order.
func (n *normalizer) eventMsgs(output bool, names ...string) msgSource {
	label := "event:" + strings.Join(names, ",")
	return msgSource{label, func() ([]Message, bool) {
		var out []Message
		for _, e := range n.s.Events {
			for _, name := range names {
				if e.Name != name {
					continue
				}
				ec := parseEvent("event", e.Name, nil, e.Attributes)
				if output {
					out = append(out, ec.output...)
				} else {
					out = append(out, ec.input...)
				}
			}
		}
		return out, len(out) > 0
	}}
}

// flatMsgs rebuilds messages from a flattened family (gen_ai.prompt.N.*, llm.input_messages.N.*).
func (n *normalizer) flatMsgs(prefix, role string) msgSource {
	return msgSource{prefix + "N", func() ([]Message, bool) {
		items := n.flat.list(prefix)
		if len(items) == 0 {
			return nil, false
		}
		out := make([]Message, 0, len(items))
		for _, it := range items {
			out = append(out, flatMessage(it.Fields, role))
		}
		return out, true
	}}
}

// flatMessage builds one message from its flattened fields. OpenInference nests them under
// "message."; OpenLLMetry does not.
func flatMessage(f map[string]any, role string) Message {
	m := make(map[string]any, len(f))
	for k, v := range f {
		m[strings.TrimPrefix(k, "message.")] = v
	}
	msg := Message{Role: role}
	if r, ok := asString(m["role"]); ok {
		msg.Role = normRole(r)
	}
	msg.Name, _ = asString(m["name"])
	msg.ToolCallID, _ = asString(m["tool_call_id"])
	msg.FinishReason, _ = asString(m["finish_reason"])
	if c, ok := m["content"]; ok && present(c) {
		tmp := oneMessage(map[string]any{"content": c}, msg.Role)
		msg.Content, msg.Parts, msg.ToolCalls = tmp.Content, tmp.Parts, tmp.ToolCalls
		if tmp.ToolCallID != "" && msg.ToolCallID == "" {
			msg.ToolCallID = tmp.ToolCallID
		}
	}
	for _, it := range subItems(m, "contents.") { // OpenInference multimodal parts
		p := map[string]any{}
		for k, v := range it.Fields {
			p[strings.TrimPrefix(k, "message_content.")] = v
		}
		if url, ok := p["image.image.url"]; ok {
			p = map[string]any{"type": "image_url", "url": url}
		}
		applyPartsAppend(&msg, p)
	}
	for _, it := range subItems(m, "tool_calls.") {
		tc := map[string]any{}
		for k, v := range it.Fields {
			k = strings.TrimPrefix(k, "tool_call.")
			k = strings.TrimPrefix(k, "function.")
			tc[k] = v
		}
		msg.ToolCalls = append(msg.ToolCalls, toolCallFrom(tc))
	}
	if name, ok := asString(m["function_call.name"]); ok {
		args, _ := asString(m["function_call.arguments"])
		msg.ToolCalls = append(msg.ToolCalls, ToolCall{Name: name, Arguments: args})
	}
	if name, ok := asString(m["function_call_name"]); ok { // deprecated OpenInference form
		args, _ := asString(m["function_call_arguments_json"])
		msg.ToolCalls = append(msg.ToolCalls, ToolCall{Name: name, Arguments: args})
	}
	if msg.Content == "" {
		for _, k := range []string{"prompt.text", "completion.text", "text", ""} {
			if t, ok := asString(m[k]); ok {
				msg.Content = t
				break
			}
		}
	}
	return msg
}

// applyPartsAppend adds one part to a message that may already have content.
func applyPartsAppend(msg *Message, p map[string]any) {
	applyParts(msg, []any{p})
}

// vercelOutput builds the output message of a Vercel AI SDK legacy span from
// ai.response.text, ai.response.toolCalls and ai.response.reasoning (ai.result.* before 4.0).
func (n *normalizer) vercelOutput() msgSource {
	return msgSource{"ai.response.text", func() ([]Message, bool) {
		text, tk := n.str("ai.response.text", "ai.result.text")
		calls := n.a["ai.response.toolCalls"]
		if calls == nil {
			calls = n.a["ai.result.toolCalls"]
		}
		if tk == "" && !present(calls) {
			return nil, false
		}
		msg := Message{Role: "assistant", Content: text}
		if dec, ok := decodeJSON(calls); ok {
			if list, ok := dec.([]any); ok {
				for _, c := range list {
					if cm, ok := c.(map[string]any); ok {
						msg.ToolCalls = append(msg.ToolCalls, toolCallFrom(cm))
					}
				}
			}
		}
		if r, ok := asString(n.a["ai.response.reasoning"]); ok {
			msg.Parts = append(msg.Parts, map[string]any{"type": "reasoning", "content": r})
		}
		msg.FinishReason, _ = asString(n.a["ai.response.finishReason"])
		return []Message{msg}, true
	}}
}

// messages resolves input and output messages, system instructions and tool definitions
// (§8 "prompt messages", "completion messages", "system instructions", "tool definitions").
func (n *normalizer) messages() {
	c := n.c
	isTool := c.Type == TypeTool
	isRetrieval := c.Type == TypeRetrieval
	inputs := []msgSource{
		n.attrMsgs("langfuse.observation.input", "user"),
		n.attrMsgs("gen_ai.input.messages", "user"),
		n.eventMsgs(false, EventOperationDetails),
		n.eventMsgs(false, EventSystemMessage, EventUserMessage, EventAssistantMessage, EventToolMessage),
		n.eventMsgs(false, EventContentPrompt),
		n.flatMsgs("gen_ai.prompt.", "user"),
		n.attrMsgs("gen_ai.prompt", "user"),
		n.flatMsgs("llm.input_messages.", "user"),
		n.flatMsgs("llm.prompts.", "user"),
		n.attrMsgs("ai.prompt.messages", "user"),
		n.attrMsgs("ai.prompt", "user"),
		n.attrMsgs("pydantic_ai.all_messages", "user"),
		n.attrMsgs("all_messages_events", "user"),
		n.attrMsgs("gcp.vertex.agent.llm_request", "user"),
	}
	if !isTool && !isRetrieval {
		inputs = append(inputs, n.attrMsgs("traceloop.entity.input", "user"),
			n.attrMsgs("input.value", "user"), n.attrMsgs("input", "user"))
	}
	outputs := []msgSource{
		n.attrMsgs("langfuse.observation.output", "assistant"),
		n.attrMsgs("gen_ai.output.messages", "assistant"),
		n.eventMsgs(true, EventOperationDetails),
		n.eventMsgs(true, EventChoice),
		n.eventMsgs(true, EventContentComplete),
		n.flatMsgs("gen_ai.completion.", "assistant"),
		n.attrMsgs("gen_ai.completion", "assistant"),
		n.flatMsgs("llm.output_messages.", "assistant"),
		n.flatMsgs("llm.choices.", "assistant"),
		n.vercelOutput(),
		n.attrMsgs("ai.response.object", "assistant"),
		n.attrMsgs("ai.result.object", "assistant"),
		n.attrMsgs("final_result", "assistant"),
		n.attrMsgs("gcp.vertex.agent.llm_response", "assistant"),
	}
	if !isTool && !isRetrieval {
		outputs = append(outputs, n.attrMsgs("traceloop.entity.output", "assistant"),
			n.attrMsgs("output.value", "assistant"), n.attrMsgs("output", "assistant"))
	}
	c.InputMessages = n.resolveMsgs("input_messages", inputs)
	c.OutputMessages = n.resolveMsgs("output_messages", outputs)
	n.systemInstructions()
	n.toolDefinitions()
}

func (n *normalizer) resolveMsgs(field string, sources []msgSource) []Message {
	for _, s := range sources {
		if ms, ok := s.read(); ok && len(ms) > 0 {
			n.src(field, s.name)
			return ms
		}
	}
	return nil
}

// systemInstructions resolves Call.SystemInstructions.
func (n *normalizer) systemInstructions() {
	c := n.c
	if t, ok := partsText(n.a["gen_ai.system_instructions"]); ok && t != "" {
		c.SystemInstructions = t
		n.src("system_instructions", "gen_ai.system_instructions")
		return
	}
	var sys []string
	for _, m := range c.InputMessages {
		if (m.Role == "system" || m.Role == "developer") && m.Content != "" {
			sys = append(sys, m.Content)
		}
	}
	if len(sys) > 0 {
		c.SystemInstructions = strings.Join(sys, "\n")
		n.src("system_instructions", "input_messages")
		return
	}
	for _, k := range []string{"ai.prompt", "gcp.vertex.agent.llm_request"} {
		dec, ok := decodeJSON(n.a[k])
		if !ok {
			continue
		}
		m, _ := dec.(map[string]any)
		for _, path := range [][]string{{"system"}, {"config", "system_instruction"}} {
			if v, ok := mapGet(m, path...); ok {
				if t, ok := partsText(v); ok && t != "" {
					c.SystemInstructions = t
					n.src("system_instructions", k+"."+strings.Join(path, "."))
					return
				}
			}
		}
	}
}

// toolDefinitions resolves Call.ToolDefinitions, decoding JSON strings.
func (n *normalizer) toolDefinitions() {
	c := n.c
	if v, ok := n.a["gen_ai.tool.definitions"]; ok && present(v) {
		if dec, ok := decodeJSON(v); ok {
			c.ToolDefinitions = dec
		} else {
			c.ToolDefinitions = v
		}
		n.src("tool_definitions", "gen_ai.tool.definitions")
		return
	}
	for _, p := range []string{"llm.tools.", "llm.request.functions.", "gen_ai.tool.definitions."} {
		items := n.flat.list(p)
		if len(items) == 0 {
			continue
		}
		defs := make([]any, 0, len(items))
		for _, it := range items {
			if schema, ok := it.Fields["tool.json_schema"]; ok {
				if dec, ok := decodeJSON(schema); ok {
					defs = append(defs, dec)
				} else {
					defs = append(defs, schema)
				}
				continue
			}
			d := make(map[string]any, len(it.Fields))
			for k, v := range it.Fields {
				if k == "parameters" {
					if dec, ok := decodeJSON(v); ok {
						v = dec
					}
				}
				d[k] = v
			}
			defs = append(defs, d)
		}
		c.ToolDefinitions = defs
		n.src("tool_definitions", p+"N")
		return
	}
	if v, ok := n.a["ai.prompt.tools"]; ok && present(v) {
		var defs []any
		if list, ok := v.([]any); ok {
			for _, e := range list {
				if dec, ok := decodeJSON(e); ok {
					defs = append(defs, dec)
				} else {
					defs = append(defs, e)
				}
			}
		} else if dec, ok := decodeJSON(v); ok {
			defs, _ = dec.([]any)
			if defs == nil {
				defs = []any{dec}
			}
		}
		if len(defs) > 0 {
			c.ToolDefinitions = defs
			n.src("tool_definitions", "ai.prompt.tools")
		}
	}
}
