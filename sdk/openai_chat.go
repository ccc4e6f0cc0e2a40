package lumina

import (
	"bytes"
	"encoding/json"
	"strings"
)

// chatParams are the request fields of OpenAI Chat Completions the span records.
type chatParams struct {
	Model               string          `json:"model"`
	MaxTokens           *int64          `json:"max_tokens"`
	MaxCompletionTokens *int64          `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	FrequencyPenalty    *float64        `json:"frequency_penalty"`
	PresencePenalty     *float64        `json:"presence_penalty"`
	Seed                *int64          `json:"seed"`
	N                   *int64          `json:"n"`
	Stop                json.RawMessage `json:"stop"`
	Stream              bool            `json:"stream"`
	ResponseFormat      *struct {
		Type string `json:"type"`
	} `json:"response_format"`
	ServiceTier string `json:"service_tier"`
}

type chatRequest struct {
	chatParams
	Messages    []chatMessage   `json:"messages"`
	RawMessages json.RawMessage `json:"-"`
	Tools       json.RawMessage `json:"tools"`
}

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name"`
	ToolCalls  []chatToolCall  `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
	Refusal    string          `json:"refusal"`
	// Reasoning is the reasoning text some OpenAI-compatible servers (DeepSeek, vLLM) return.
	Reasoning string `json:"reasoning_content"`
}

type chatToolCall struct {
	Index    int    `json:"index"`
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type chatUsage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	PromptDetails    struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

func (u *chatUsage) usage() usage {
	return usage{input: u.PromptTokens, output: u.CompletionTokens, cacheRead: u.PromptDetails.CachedTokens,
		reasoning: u.CompletionDetails.ReasoningTokens, has: true}
}

type chatChoice struct {
	Index        int         `json:"index"`
	Message      chatMessage `json:"message"`
	FinishReason string      `json:"finish_reason"`
}

type chatResponse struct {
	ID                string       `json:"id"`
	Model             string       `json:"model"`
	Choices           []chatChoice `json:"choices"`
	Usage             *chatUsage   `json:"usage"`
	ServiceTier       string       `json:"service_tier"`
	SystemFingerprint string       `json:"system_fingerprint"`
}

// maxChoices bounds the choice (and content block) indexes a stream may use, so a hostile
// index cannot make the parser allocate.
const maxChoices = 1 << 10

// chatExchange reads OpenAI Chat Completions, plain and streamed.
type chatExchange struct {
	seen bool // response id and model recorded
	// choices accumulates a stream's output, by choice index.
	choices []streamChoice
	scratch []chatChunkChoice // the decoded choices of the current chunk, reused
}

type streamChoice struct {
	text, reasoning strings.Builder
	tools           []chatToolCall
	finish          string
}

// parseChatRequest walks the request's top level; the messages, the only large value, are
// decoded only when content is recorded.
func parseChatRequest(body []byte, content bool) (chatRequest, bool) {
	var r chatRequest
	p := &r.chatParams
	ok := eachField(body, func(key, v []byte) bool {
		switch string(key) {
		case "model":
			p.Model = jsonString(v)
		case "max_tokens":
			p.MaxTokens = intPtr(v)
		case "max_completion_tokens":
			p.MaxCompletionTokens = intPtr(v)
		case "seed":
			p.Seed = intPtr(v)
		case "n":
			p.N = intPtr(v)
		case "temperature":
			p.Temperature = floatPtr(v)
		case "top_p":
			p.TopP = floatPtr(v)
		case "frequency_penalty":
			p.FrequencyPenalty = floatPtr(v)
		case "presence_penalty":
			p.PresencePenalty = floatPtr(v)
		case "stop":
			p.Stop = v
		case "stream":
			p.Stream = string(v) == "true"
		case "service_tier":
			p.ServiceTier = jsonString(v)
		case "response_format":
			eachField(v, func(k, t []byte) bool {
				if string(k) == "type" {
					p.ResponseFormat = &struct {
						Type string `json:"type"`
					}{jsonString(t)}
				}
				return true
			})
		case "messages":
			if content {
				r.RawMessages = v
			}
		case "tools":
			r.Tools = v
		}
		return true
	})
	return r, ok
}

func (x *chatExchange) request(c *call, body []byte) {
	r, ok := parseChatRequest(body, c.content)
	if !ok {
		return
	}
	p := &r.chatParams
	c.str(keyRequestModel, p.Model)
	if p.MaxCompletionTokens != nil {
		c.int(keyMaxTokens, *p.MaxCompletionTokens)
	} else if p.MaxTokens != nil {
		c.int(keyMaxTokens, *p.MaxTokens)
	}
	optFloat(c, keyTemperature, p.Temperature)
	optFloat(c, keyTopP, p.TopP)
	optFloat(c, keyFrequencyPenalty, p.FrequencyPenalty)
	optFloat(c, keyPresencePenalty, p.PresencePenalty)
	if p.Seed != nil {
		c.int(keySeed, *p.Seed)
	}
	if p.N != nil && *p.N != 1 {
		c.int(keyChoiceCount, *p.N)
	}
	if stops := stringList(p.Stop); len(stops) > 0 {
		c.attrs = append(c.attrs, stringSlice(keyStopSequences, stops))
	}
	if p.Stream {
		c.attrs = append(c.attrs, boolTrue(keyStream))
	}
	if p.ResponseFormat != nil {
		c.str(keyOutputType, outputType(p.ResponseFormat.Type))
	}
	c.str(keyServiceTierReq, p.ServiceTier)
	if !c.content {
		return
	}
	if s, ok := fastChatMessages(r.RawMessages, c.limit); ok {
		c.str(keyInputMessages, s)
	} else if json.Unmarshal(r.RawMessages, &r.Messages) == nil {
		msgs := make([]Message, 0, len(r.Messages))
		for _, m := range r.Messages {
			msgs = append(msgs, m.message())
		}
		c.messages(keyInputMessages, msgs)
	}
	if len(r.Tools) > 0 && !bytes.Equal(r.Tools, []byte("null")) {
		c.str(keyToolDefinitions, string(r.Tools))
	}
}

// message converts an OpenAI message to the conventions' form.
func (m *chatMessage) message() Message {
	out := Message{Role: m.Role, Name: m.Name}
	if m.Reasoning != "" {
		out.Parts = append(out.Parts, Part{Type: "reasoning", Content: m.Reasoning})
	}
	if m.Role == "tool" {
		var s string
		var resp any = json.RawMessage(m.Content)
		if json.Unmarshal(m.Content, &s) == nil {
			resp = s
		}
		out.Parts = append(out.Parts, Part{Type: "tool_call_response", ID: m.ToolCallID, Response: resp})
		return out
	}
	out.Parts = append(out.Parts, contentParts(m.Content)...)
	if m.Refusal != "" {
		out.Parts = append(out.Parts, Part{Type: "refusal", Content: m.Refusal})
	}
	for _, tc := range m.ToolCalls {
		out.Parts = append(out.Parts, ToolCall(tc.ID, tc.Function.Name, tc.Function.Arguments))
	}
	if out.Parts == nil {
		out.Parts = []Part{}
	}
	return out
}

// contentParts converts OpenAI message content: a string, or an array of typed parts.
func contentParts(raw json.RawMessage) []Part {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []Part{{Type: "text", Content: s}}
	}
	var items []struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		ImageURL struct {
			URL string `json:"url"`
		} `json:"image_url"`
		InputAudio struct {
			Data   string `json:"data"`
			Format string `json:"format"`
		} `json:"input_audio"`
		File struct {
			FileID string `json:"file_id"`
		} `json:"file"`
	}
	if json.Unmarshal(raw, &items) != nil {
		return []Part{{Type: "text", Content: string(raw)}}
	}
	parts := make([]Part, 0, len(items))
	for _, it := range items {
		switch it.Type {
		case "text", "input_text", "output_text":
			parts = append(parts, Part{Type: "text", Content: it.Text})
		case "image_url":
			parts = append(parts, Part{Type: "uri", Modality: "image", URI: it.ImageURL.URL})
		case "input_audio":
			parts = append(parts, Part{Type: "blob", Modality: "audio", MimeType: "audio/" + it.InputAudio.Format, Content: it.InputAudio.Data})
		case "file":
			parts = append(parts, Part{Type: "file", Modality: "document", ID: it.File.FileID})
		default:
			parts = append(parts, Part{Type: it.Type})
		}
	}
	return parts
}

func (x *chatExchange) header(c *call, id, model, tier, fingerprint string) {
	if x.seen {
		return
	}
	x.seen = true
	c.str(keyResponseID, id)
	c.str(keyResponseModel, model)
	c.str(keyServiceTierResp, tier)
	c.str(keyFingerprint, fingerprint)
}

func (x *chatExchange) response(c *call, body []byte) {
	var r chatResponse
	var choices []byte
	// Walk the top level and decode only the small values; the choices, most of the body,
	// are decoded only to record the output messages.
	ok := eachField(body, func(key, v []byte) bool {
		switch string(key) {
		case "id":
			r.ID = jsonString(v)
		case "model":
			r.Model = jsonString(v)
		case "service_tier":
			r.ServiceTier = jsonString(v)
		case "system_fingerprint":
			r.SystemFingerprint = jsonString(v)
		case "usage":
			r.Usage = parseChatUsage(v)
		case "choices":
			choices = v
		}
		return true
	})
	if !ok {
		return
	}
	x.record(c, &r)
	if !c.content {
		eachElement(choices, func(ch []byte) {
			eachField(ch, func(key, v []byte) bool {
				if string(key) == "finish_reason" {
					c.finish = append(c.finish, jsonString(v))
					return false
				}
				return true
			})
		})
		return
	}
	if s, reasons, ok := fastChatChoices(choices, c.limit); ok {
		c.finish = append(c.finish, reasons...)
		c.outputJSON = s
		return
	}
	if json.Unmarshal(choices, &r.Choices) != nil {
		return
	}
	for _, ch := range r.Choices {
		c.finish = append(c.finish, ch.FinishReason)
		m := ch.Message.message()
		m.Role = "assistant"
		m.FinishReason = finishReason(ch.FinishReason)
		c.output = append(c.output, m)
	}
}

// parseChatUsage reads a usage object without encoding/json; nil when it is not one.
func parseChatUsage(v []byte) *chatUsage {
	var u chatUsage
	ok := eachField(v, func(key, val []byte) bool {
		switch string(key) {
		case "prompt_tokens":
			u.PromptTokens = jsonInt(val)
		case "completion_tokens":
			u.CompletionTokens = jsonInt(val)
		case "prompt_tokens_details":
			eachField(val, func(k, d []byte) bool {
				if string(k) == "cached_tokens" {
					u.PromptDetails.CachedTokens = jsonInt(d)
				}
				return true
			})
		case "completion_tokens_details":
			eachField(val, func(k, d []byte) bool {
				if string(k) == "reasoning_tokens" {
					u.CompletionDetails.ReasoningTokens = jsonInt(d)
				}
				return true
			})
		}
		return true
	})
	if !ok {
		return nil
	}
	return &u
}

func (x *chatExchange) record(c *call, r *chatResponse) {
	x.header(c, r.ID, r.Model, r.ServiceTier, r.SystemFingerprint)
	if r.Usage != nil {
		c.usage = r.Usage.usage()
	}
}

func (x *chatExchange) tail(c *call, tail []byte) {
	var r chatResponse
	_ = json.Unmarshal(tailValue(tail, "usage"), &r.Usage)
	x.record(c, &r)
}

// chatChunk is a streamed chunk, decoded into as little as the span needs.
type chatChunk struct {
	ID                string            `json:"id"`
	Model             string            `json:"model"`
	ServiceTier       string            `json:"service_tier"`
	SystemFingerprint string            `json:"system_fingerprint"`
	Choices           []chatChunkChoice `json:"choices"`
	Usage             *chatUsage        `json:"usage"`
}

// chatChunkChoice is one choice of a streamed chunk.
type chatChunkChoice struct {
	Index int            `json:"index"`
	Delta chatChunkDelta `json:"delta"`
	// FinishReason is the choice's finish reason, in its last chunk.
	FinishReason string `json:"finish_reason"`
}

// chatChunkDelta is what a chunk adds to a choice.
type chatChunkDelta struct {
	Content   *string        `json:"content"`
	Reasoning string         `json:"reasoning_content"`
	Refusal   *string        `json:"refusal"`
	ToolCalls []chatToolCall `json:"tool_calls"`
}

func (x *chatExchange) event(c *call, _ string, data []byte) bool {
	if bytes.Equal(data, []byte("[DONE]")) {
		return true
	}
	// Without content capture, a chunk that carries neither usage nor a finish reason only
	// matters for the time to first chunk: skip decoding it (most chunks of a long stream).
	if !c.content && x.seen && c.timed && !nonNullKey(data, "usage") && !nonNullKey(data, "finish_reason") {
		return false
	}
	var r chatChunk
	var choices []byte
	ok := eachField(data, func(key, v []byte) bool {
		switch string(key) {
		case "id", "model", "service_tier", "system_fingerprint":
			if x.seen {
				break // recorded from the first chunk
			}
			switch string(key) {
			case "id":
				r.ID = jsonString(v)
			case "model":
				r.Model = jsonString(v)
			case "service_tier":
				r.ServiceTier = jsonString(v)
			default:
				r.SystemFingerprint = jsonString(v)
			}
		case "usage":
			if string(v) != "null" {
				r.Usage = parseChatUsage(v)
			}
		case "choices":
			choices = v
		}
		return true
	})
	if !ok {
		return false
	}
	x.header(c, r.ID, r.Model, r.ServiceTier, r.SystemFingerprint)
	if r.Usage != nil {
		c.usage = r.Usage.usage()
	}
	if !c.content {
		x.chunkMeta(c, choices)
		return false
	}
	var ok2 bool
	if r.Choices, ok2 = scanChunkChoices(choices, x.scratch[:0]); ok2 {
		x.scratch = r.Choices
	} else if r.Choices = nil; json.Unmarshal(choices, &r.Choices) != nil {
		return false
	}
	for i := range r.Choices {
		ch := &r.Choices[i]
		d := &ch.Delta
		if (d.Content != nil && *d.Content != "") || len(d.ToolCalls) > 0 || d.Reasoning != "" || (d.Refusal != nil && *d.Refusal != "") {
			c.firstChunk()
		}
		if ch.Index < 0 || ch.Index > maxChoices {
			continue
		}
		for len(x.choices) <= ch.Index {
			x.choices = append(x.choices, streamChoice{})
		}
		sc := &x.choices[ch.Index]
		if ch.FinishReason != "" {
			sc.finish = ch.FinishReason
		}
		if !c.content {
			continue
		}
		if d.Content != nil {
			sc.text.WriteString(*d.Content)
		}
		if d.Refusal != nil {
			sc.text.WriteString(*d.Refusal)
		}
		sc.reasoning.WriteString(d.Reasoning)
		for _, tc := range d.ToolCalls {
			j := len(sc.tools) - 1
			if j < 0 || sc.tools[j].Index != tc.Index {
				sc.tools = append(sc.tools, tc)
				continue
			}
			sc.tools[j].Function.Arguments += tc.Function.Arguments
		}
	}
	return false
}

// chunkMeta reads what a chunk's choices hold without content capture: finish reasons, and
// whether output began (for the time to first chunk).
func (x *chatExchange) chunkMeta(c *call, choices []byte) {
	eachElement(choices, func(ch []byte) {
		index, finish := 0, ""
		eachField(ch, func(key, v []byte) bool {
			switch string(key) {
			case "index":
				index = int(jsonInt(v))
			case "finish_reason":
				finish = jsonString(v)
			case "delta":
				if !c.timed {
					eachField(v, func(k, d []byte) bool {
						switch string(k) {
						case "content", "reasoning_content", "refusal":
							if string(d) != "null" && string(d) != `""` {
								c.firstChunk()
							}
						case "tool_calls":
							if string(d) != "null" && string(d) != "[]" {
								c.firstChunk()
							}
						}
						return true
					})
				}
			}
			return true
		})
		if index < 0 || index > maxChoices {
			return
		}
		for len(x.choices) <= index {
			x.choices = append(x.choices, streamChoice{})
		}
		if finish != "" {
			x.choices[index].finish = finish
		}
	})
}

func (x *chatExchange) finish(c *call) {
	for i := range x.choices {
		sc := &x.choices[i]
		if sc.finish != "" {
			c.finish = append(c.finish, sc.finish)
		}
		if !c.content {
			continue
		}
		m := Message{Role: "assistant", FinishReason: finishReason(sc.finish), Parts: []Part{}}
		if sc.reasoning.Len() > 0 {
			m.Parts = append(m.Parts, Part{Type: "reasoning", Content: sc.reasoning.String()})
		}
		if sc.text.Len() > 0 {
			m.Parts = append(m.Parts, Part{Type: "text", Content: sc.text.String()})
		}
		for _, tc := range sc.tools {
			m.Parts = append(m.Parts, ToolCall(tc.ID, tc.Function.Name, tc.Function.Arguments))
		}
		c.output = append(c.output, m)
	}
}
