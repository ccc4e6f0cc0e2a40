package genai

import "strings"

// GenAI event names (span events and OTLP log records, §1.6).
const (
	EventSystemMessage    = "gen_ai.system.message"
	EventUserMessage      = "gen_ai.user.message"
	EventAssistantMessage = "gen_ai.assistant.message"
	EventToolMessage      = "gen_ai.tool.message"
	EventChoice           = "gen_ai.choice"
	EventOperationDetails = "gen_ai.client.inference.operation.details"
	EventContentPrompt    = "gen_ai.content.prompt"
	EventContentComplete  = "gen_ai.content.completion"
	EventException        = "gen_ai.client.operation.exception"
	EventEvaluation       = "gen_ai.evaluation.result"
)

// eventContent is what one GenAI event carries.
type eventContent struct {
	input, output []Message
	system        string
	errType       string
	errMessage    string
	genai         bool // the name is a GenAI event
}

// IsGenAIEvent reports whether name is one of the GenAI event names Lumina reads.
func IsGenAIEvent(name string) bool {
	switch name {
	case EventSystemMessage, EventUserMessage, EventAssistantMessage, EventToolMessage, EventChoice,
		EventOperationDetails, EventContentPrompt, EventContentComplete, EventException, EventEvaluation,
		"gen_ai.content.completion.chunk", "llm.content.completion.chunk":
		return true
	}
	return false
}

// parseEvent reads a GenAI event whatever its carrier ("log" or "event"), which prefixes
// Message.Source: payload in the body (log records,
// v1.28–1.36) or in attributes (span events, v1.37+ log records).
func parseEvent(carrier, name string, body any, attrs map[string]any) eventContent {
	ec := eventContent{genai: IsGenAIEvent(name)}
	src := carrier + ":" + name
	if !ec.genai {
		return ec
	}
	payload, _ := body.(map[string]any)
	if payload == nil {
		if dec, ok := decodeJSON(body); ok {
			payload, _ = dec.(map[string]any)
		}
	}
	get := func(k string) any {
		if payload != nil {
			if v, ok := payload[k]; ok {
				return v
			}
		}
		return attrs[k]
	}
	switch name {
	case EventSystemMessage, EventUserMessage, EventAssistantMessage, EventToolMessage:
		role := strings.TrimSuffix(strings.TrimPrefix(name, "gen_ai."), ".message")
		msg := Message{Role: role}
		switch {
		case payload != nil:
			msg = oneMessage(payload, role)
		case present(body):
			msg.Content = jsonText(body)
		default:
			m := map[string]any{}
			for _, k := range []string{"content", "role", "tool_calls", "id", "name"} {
				if v, ok := attrs[k]; ok {
					m[k] = v
				}
			}
			msg = oneMessage(m, role)
		}
		if role == "tool" && msg.ToolCallID == "" {
			msg.ToolCallID, _ = asString(get("id"))
		}
		msg.Source = src
		ec.input = []Message{msg}
		if role == "system" {
			ec.system = msg.Content
		}
	case EventChoice:
		var msg Message
		switch m := get("message").(type) {
		case map[string]any:
			msg = oneMessage(m, "assistant")
		default:
			if ms, ok := parseMessages(m, "assistant"); ok {
				msg = ms[0]
			} else {
				msg = Message{Role: "assistant"}
			}
		}
		if msg.Content == "" && payload == nil {
			msg.Content, _ = asString(attrs["content"])
		}
		if len(msg.ToolCalls) == 0 {
			if calls, ok := decodeJSON(get("tool_calls")); ok {
				if list, ok := calls.([]any); ok {
					for _, tc := range list {
						if tm, ok := tc.(map[string]any); ok {
							msg.ToolCalls = append(msg.ToolCalls, toolCallFrom(tm))
						}
					}
				}
			}
		}
		if fr, ok := asString(get("finish_reason")); ok {
			msg.FinishReason = fr
		}
		msg.Source = src
		ec.output = []Message{msg}
	case EventOperationDetails:
		if ms, ok := parseMessages(get("gen_ai.input.messages"), "user"); ok {
			ec.input = withSource(ms, src)
		}
		if ms, ok := parseMessages(get("gen_ai.output.messages"), "assistant"); ok {
			ec.output = withSource(ms, src)
		}
		ec.system, _ = partsText(get("gen_ai.system_instructions"))
	case EventContentPrompt:
		if ms, ok := parseMessages(get("gen_ai.prompt"), "user"); ok {
			ec.input = withSource(ms, src)
		}
	case EventContentComplete:
		if ms, ok := parseMessages(get("gen_ai.completion"), "assistant"); ok {
			ec.output = withSource(ms, src)
		}
	case EventException:
		ec.errType, _ = asString(get("exception.type"))
		ec.errMessage, _ = asString(get("exception.message"))
	}
	return ec
}

func withSource(ms []Message, src string) []Message {
	for i := range ms {
		ms[i].Source = src
	}
	return ms
}
