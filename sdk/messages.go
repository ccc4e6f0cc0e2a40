package lumina

import (
	"encoding/json"
	"unicode/utf8"
)

// Message is one message of a model call in the OpenTelemetry GenAI form
// (gen_ai.input.messages / gen_ai.output.messages).
type Message struct {
	// Role is system, user, assistant, tool, or any other role the provider uses.
	Role string `json:"role"`
	// Parts is the content, in order.
	Parts []Part `json:"parts"`
	// Name is the optional participant name.
	Name string `json:"name,omitempty"`
	// FinishReason ends an output message: stop, length, content_filter, tool_call or error.
	FinishReason string `json:"finish_reason,omitempty"`
}

// Part is one piece of a Message. Type says which fields apply: text and reasoning use
// Content; tool_call uses ID, Name and Arguments; tool_call_response uses ID and Response;
// uri and blob use Modality, MimeType and URI or Content.
type Part struct {
	Type      string `json:"type"`
	Content   string `json:"content,omitempty"`
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Arguments any    `json:"arguments,omitempty"`
	Response  any    `json:"response,omitempty"`
	Modality  string `json:"modality,omitempty"`
	MimeType  string `json:"mime_type,omitempty"`
	URI       string `json:"uri,omitempty"`
}

// Text returns a message with one text part.
func Text(role, text string) Message {
	return Message{Role: role, Parts: []Part{{Type: "text", Content: text}}}
}

// ToolCall returns a tool_call part; arguments is the JSON text the model produced.
func ToolCall(id, name, arguments string) Part {
	return Part{Type: "tool_call", ID: id, Name: name, Arguments: jsonOrString(arguments)}
}

// jsonOrString keeps valid JSON as JSON (the conventions prefer an object) and anything else
// as a string.
func jsonOrString(s string) any {
	if s == "" {
		return nil
	}
	if validJSON([]byte(s)) {
		return json.RawMessage(s)
	}
	return s
}

// budget cuts text to a byte limit shared by all the parts of one attribute, so the JSON
// stays valid however long the content is.
type budget struct {
	left int
	cut  bool
}

func (b *budget) take(s string) string {
	if len(s) <= b.left {
		b.left -= len(s)
		return s
	}
	b.cut = true
	n := max(b.left, 0)
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	b.left = 0
	return s[:n] + "…[truncated]"
}

func (b *budget) parts(ps []Part) {
	for i := range ps {
		p := &ps[i]
		p.Content = b.take(p.Content)
		p.URI = b.take(p.URI)
		if s, ok := p.Response.(string); ok {
			p.Response = b.take(s)
		}
		if raw, ok := p.Arguments.(json.RawMessage); ok && len(raw) > b.left {
			p.Arguments = b.take(string(raw))
		}
	}
}

// encodeMessages returns the JSON of msgs with their text cut to limit bytes in total, and
// whether anything was cut. It changes the parts of msgs in place.
func encodeMessages(msgs []Message, limit int) (string, bool) {
	b := budget{left: limit}
	for i := range msgs {
		b.parts(msgs[i].Parts)
	}
	out, err := json.Marshal(msgs)
	if err != nil {
		return "", false
	}
	return string(out), b.cut
}

// encodeParts is encodeMessages for a bare list of parts (gen_ai.system_instructions).
func encodeParts(ps []Part, limit int) (string, bool) {
	b := budget{left: limit}
	b.parts(ps)
	out, err := json.Marshal(ps)
	if err != nil {
		return "", false
	}
	return string(out), b.cut
}
