package lumina

import (
	"bytes"
	"encoding/json"
	"strings"
)

// chatParams are the request fields of OpenAI Chat Completions the span records. The
// numbers are values with a presence flag, not pointers: the parser fills them from a
// closure, where a pointer would be a heap allocation per field.
type chatParams struct {
	Model               string
	MaxTokens           optInt
	MaxCompletionTokens optInt
	Temperature         optNumber
	TopP                optNumber
	FrequencyPenalty    optNumber
	PresencePenalty     optNumber
	Seed                optInt
	N                   optInt
	Stop                json.RawMessage
	Stream              bool
	ResponseFormat      string // its type
	HasResponseFormat   bool
	ServiceTier         string
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
func parseChatRequest(ix *jsonIndex, body []byte, content bool) (chatRequest, bool) {
	var r chatRequest
	p := &r.chatParams
	ok := ix.eachField(body, func(key, v []byte) bool {
		switch string(key) {
		case "model":
			p.Model = jsonString(v)
		case "max_tokens":
			p.MaxTokens = scanOptInt(v)
		case "max_completion_tokens":
			p.MaxCompletionTokens = scanOptInt(v)
		case "seed":
			p.Seed = scanOptInt(v)
		case "n":
			p.N = scanOptInt(v)
		case "temperature":
			p.Temperature = scanOptNumber(v)
		case "top_p":
			p.TopP = scanOptNumber(v)
		case "frequency_penalty":
			p.FrequencyPenalty = scanOptNumber(v)
		case "presence_penalty":
			p.PresencePenalty = scanOptNumber(v)
		case "stop":
			p.Stop = v
		case "stream":
			p.Stream = string(v) == "true"
		case "service_tier":
			p.ServiceTier = jsonString(v)
		case "response_format":
			eachField(v, func(k, t []byte) bool {
				if string(k) == "type" {
					p.ResponseFormat, p.HasResponseFormat = jsonString(t), true
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
	ix := indexJSON(body)
	defer ix.release()
	r, ok := parseChatRequest(ix, body, c.content)
	if !ok {
		return
	}
	p := &r.chatParams
	c.str(keyRequestModel, p.Model)
	if p.MaxCompletionTokens.ok {
		c.int(keyMaxTokens, p.MaxCompletionTokens.v)
	} else if p.MaxTokens.ok {
		c.int(keyMaxTokens, p.MaxTokens.v)
	}
	p.Temperature.put(c, keyTemperature)
	p.TopP.put(c, keyTopP)
	p.FrequencyPenalty.put(c, keyFrequencyPenalty)
	p.PresencePenalty.put(c, keyPresencePenalty)
	if p.Seed.ok {
		c.int(keySeed, p.Seed.v)
	}
	if p.N.ok && p.N.v != 1 {
		c.int(keyChoiceCount, p.N.v)
	}
	if stops := stringList(p.Stop); len(stops) > 0 {
		c.attrs = append(c.attrs, stringSlice(keyStopSequences, stops))
	}
	if p.Stream {
		c.attrs = append(c.attrs, boolTrue(keyStream))
	}
	if p.HasResponseFormat {
		c.str(keyOutputType, outputType(p.ResponseFormat))
	}
	c.str(keyServiceTierReq, p.ServiceTier)
	if !c.content {
		return
	}
	if s, ok := fastChatMessagesIndexed(ix, r.RawMessages, c.limit); ok {
		c.str(keyInputMessages, s)
	} else if list, ok := decodeChatMessages(r.RawMessages); ok {
		msgs := make([]Message, 0, len(list))
		for _, m := range list {
			msgs = append(msgs, m.message())
		}
		c.messages(keyInputMessages, msgs)
	}
	if len(r.Tools) > 0 && !bytes.Equal(r.Tools, []byte("null")) {
		c.str(keyToolDefinitions, string(r.Tools))
	}
}

// decodeChatMessages decodes a request's messages with encoding/json, for the messages the
// fast path gives up on; a function of its own so that the request stays on the stack.
func decodeChatMessages(raw []byte) ([]chatMessage, bool) {
	var out []chatMessage
	if json.Unmarshal(raw, &out) != nil {
		return nil, false
	}
	return out, true
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
	var u chatUsage
	uok := false
	// Walk the top level and decode only the small values; the choices, most of the body,
	// are decoded only to record the output messages.
	ix := indexJSON(body)
	defer ix.release()
	ok := ix.eachField(body, func(key, v []byte) bool {
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
			u, uok = scanChatUsage(ix, v)
		case "choices":
			choices = v
		}
		return true
	})
	if !ok {
		return
	}
	x.header(c, r.ID, r.Model, r.ServiceTier, r.SystemFingerprint)
	if uok {
		c.usage = u.usage()
	}
	if !c.content {
		ix.eachElement(choices, func(ch []byte) {
			ix.eachField(ch, func(key, v []byte) bool {
				if string(key) == "finish_reason" {
					c.finish = append(c.finish, jsonString(v))
					return false
				}
				return true
			})
		})
		return
	}
	if s, reasons, ok := fastChatChoicesIndexed(ix, choices, c.limit); ok {
		c.finish = append(c.finish, reasons...)
		c.outputJSON = s
		return
	}
	list, ok := decodeChoices(choices)
	if !ok {
		return
	}
	for _, ch := range list {
		c.finish = append(c.finish, ch.FinishReason)
		m := ch.Message.message()
		m.Role = "assistant"
		m.FinishReason = finishReason(ch.FinishReason)
		c.output = append(c.output, m)
	}
}

// decodeChoices decodes a response's choices with encoding/json, for the messages the fast
// path gives up on.
func decodeChoices(choices []byte) ([]chatChoice, bool) {
	var out []chatChoice
	if json.Unmarshal(choices, &out) != nil {
		return nil, false
	}
	return out, true
}

// scanChatUsage reads a usage object without encoding/json and without allocating; false
// when it is not one.
func scanChatUsage(ix *jsonIndex, v []byte) (chatUsage, bool) {
	var u chatUsage
	ok := ix.eachField(v, func(key, val []byte) bool {
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
	return u, ok
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
	var u chatUsage
	uok := false
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
				u, uok = scanChatUsage(nil, v)
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
	if uok {
		c.usage = u.usage()
	}
	if !c.content {
		x.chunkMeta(c, choices)
		return false
	}
	var ok2 bool
	if r.Choices, ok2 = scanChunkChoices(choices, x.scratch[:0]); ok2 {
		x.scratch = r.Choices
	} else if r.Choices, ok2 = decodeChunkChoices(choices); !ok2 {
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

// decodeChunkChoices decodes what scanChunkChoices gives up on with encoding/json; a
// function of its own so that the chunk of the common path stays on the stack.
func decodeChunkChoices(choices []byte) ([]chatChunkChoice, bool) {
	var out []chatChunkChoice
	if json.Unmarshal(choices, &out) != nil {
		return nil, false
	}
	return out, true
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
