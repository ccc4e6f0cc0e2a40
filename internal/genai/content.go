package genai

import (
	"strings"
)

// msgKind says how a message source is read.
type msgKind uint8

const (
	msgAttr   msgKind = iota // a span attribute holding messages in any shape
	msgEvents                // span events with the given names, in event order
	msgFlat                  // a flattened family (gen_ai.prompt.N.*)
	msgVercel                // ai.response.text + ai.response.toolCalls + ai.response.reasoning
	msgChunks                // streamed completion chunk events, reassembled into one message
)

// msgSource is one candidate source of messages, tried in priority order.
type msgSource struct {
	kind   msgKind
	key    string   // attribute, flattened prefix, or the label for events
	events []string // event names for msgEvents
	// io marks generic entity input/output (traceloop.entity.*, input.value): on tool and
	// retrieval spans these are the tool's arguments or the query, not messages.
	io bool
}

// inputSources and outputSources follow §8 "prompt messages" and "completion messages".
var (
	inputSources = []msgSource{
		{kind: msgAttr, key: "langfuse.observation.input"},
		{kind: msgAttr, key: "gen_ai.input.messages"},
		{kind: msgEvents, key: "event:" + EventOperationDetails, events: []string{EventOperationDetails}},
		{kind: msgEvents, key: "event:gen_ai.*.message", events: []string{EventSystemMessage, EventUserMessage, EventAssistantMessage, EventToolMessage}},
		{kind: msgEvents, key: "event:" + EventContentPrompt, events: []string{EventContentPrompt}},
		{kind: msgFlat, key: "gen_ai.prompt."},
		{kind: msgAttr, key: "gen_ai.prompt"},
		{kind: msgFlat, key: "llm.input_messages."},
		{kind: msgFlat, key: "llm.prompts."},
		{kind: msgAttr, key: "ai.prompt.messages"},
		{kind: msgAttr, key: "ai.prompt"},
		{kind: msgAttr, key: "pydantic_ai.all_messages"},
		{kind: msgAttr, key: "all_messages_events"},
		{kind: msgAttr, key: "gcp.vertex.agent.llm_request"},
		// What an embedding span embedded: OpenInference texts, Vercel ai.values / ai.value.
		{kind: msgFlat, key: "embedding.embeddings."},
		{kind: msgAttr, key: "ai.values"},
		{kind: msgAttr, key: "ai.value"},
		{kind: msgAttr, key: "traceloop.entity.input", io: true},
		{kind: msgAttr, key: "input.value", io: true},
		{kind: msgAttr, key: "input", io: true},
	}
	outputSources = []msgSource{
		{kind: msgAttr, key: "langfuse.observation.output"},
		{kind: msgAttr, key: "gen_ai.output.messages"},
		{kind: msgEvents, key: "event:" + EventOperationDetails, events: []string{EventOperationDetails}},
		{kind: msgEvents, key: "event:" + EventChoice, events: []string{EventChoice}},
		{kind: msgEvents, key: "event:" + EventContentComplete, events: []string{EventContentComplete}},
		{kind: msgFlat, key: "gen_ai.completion."},
		{kind: msgAttr, key: "gen_ai.completion"},
		{kind: msgChunks, key: "event:gen_ai.content.completion.chunk"},
		{kind: msgFlat, key: "llm.output_messages."},
		{kind: msgFlat, key: "llm.choices."},
		{kind: msgVercel, key: "ai.response.text"},
		{kind: msgAttr, key: "ai.response.object"},
		{kind: msgAttr, key: "ai.result.object"},
		{kind: msgAttr, key: "final_result"},
		{kind: msgAttr, key: "gcp.vertex.agent.llm_response"},
		{kind: msgAttr, key: "traceloop.entity.output", io: true},
		{kind: msgAttr, key: "output.value", io: true},
		{kind: msgAttr, key: "output", io: true},
	}
)

// read resolves one source.
func (n *normalizer) read(src msgSource, output bool) ([]Message, bool) {
	role := "user"
	if output {
		role = "assistant"
	}
	switch src.kind {
	case msgAttr:
		v, ok := n.a[src.key]
		if !ok || emptyEntityIO(v) {
			return nil, false
		}
		return parseMessages(v, role)
	case msgEvents:
		var out []Message
		for _, e := range n.s.Events {
			for _, name := range src.events {
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
	case msgFlat:
		items := n.flat.list(src.key)
		if len(items) == 0 {
			return nil, false
		}
		out := make([]Message, 0, len(items))
		for _, it := range items {
			out = append(out, flatMessage(it.Fields, role))
		}
		return out, true
	case msgVercel:
		return n.vercelOutput()
	case msgChunks:
		// Producers that emit one event per streamed chunk (against the spec's "MUST NOT
		// report individual chunks"): concatenate them in event order.
		var b strings.Builder
		found := false
		for _, e := range n.s.Events {
			if e.Name != "gen_ai.content.completion.chunk" && e.Name != "llm.content.completion.chunk" {
				continue
			}
			for _, k := range []string{"gen_ai.completion.chunk", "gen_ai.completion", "llm.content.completion.chunk", "content"} {
				if t, ok := e.Attributes[k].(string); ok {
					b.WriteString(t)
					found = true
					break
				}
			}
		}
		if !found {
			return nil, false
		}
		return []Message{{Role: role, Content: b.String(), Source: "event:gen_ai.content.completion.chunk"}}, true
	}
	return nil, false
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
		for _, k := range []string{"prompt.text", "completion.text", "embedding.text", "text", ""} {
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
func (n *normalizer) vercelOutput() ([]Message, bool) {
	{
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
	}
}

// messages resolves input and output messages, system instructions and tool definitions
// (§8 "prompt messages", "completion messages", "system instructions", "tool definitions").
func (n *normalizer) messages() {
	c := n.c
	skipIO := c.Type == TypeTool || c.Type == TypeRetrieval
	c.InputMessages = n.resolveMsgs("input_messages", inputSources, false, skipIO)
	c.OutputMessages = n.resolveMsgs("output_messages", outputSources, true, skipIO)
	n.systemInstructions()
	n.toolDefinitions()
}

func (n *normalizer) resolveMsgs(field string, sources []msgSource, output, skipIO bool) []Message {
	for _, src := range sources {
		if src.io && skipIO {
			continue
		}
		if ms, ok := n.read(src, output); ok && len(ms) > 0 {
			if ms[len(ms)-1].Raw != "" {
				n.c.ContentPartial = true // the value was cut or broken: see Raw
			}
			label := src.key
			if src.kind == msgFlat {
				label += "N"
			}
			n.src(field, label)
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
