package lumina

import (
	"bytes"
	"encoding/json"
	"strings"
)

type anthropicParams struct {
	Model         string   `json:"model"`
	MaxTokens     *int64   `json:"max_tokens"`
	Temperature   *float64 `json:"temperature"`
	TopP          *float64 `json:"top_p"`
	TopK          *float64 `json:"top_k"`
	StopSequences []string `json:"stop_sequences"`
	Stream        bool     `json:"stream"`
	ServiceTier   string   `json:"service_tier"`
}

type anthropicRequest struct {
	anthropicParams
	System   json.RawMessage `json:"system"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools json.RawMessage `json:"tools"`
}

// anthropicBlock is a content block of a request or response.
type anthropicBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Thinking  string          `json:"thinking"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	Source    *struct {
		Type      string `json:"type"`
		MediaType string `json:"media_type"`
		Data      string `json:"data"`
		URL       string `json:"url"`
	} `json:"source"`
}

type anthropicUsage struct {
	InputTokens              *int64 `json:"input_tokens"`
	OutputTokens             *int64 `json:"output_tokens"`
	CacheCreationInputTokens *int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int64 `json:"cache_read_input_tokens"`
	OutputDetails            *struct {
		ThinkingTokens int64 `json:"thinking_tokens"`
	} `json:"output_tokens_details"`
}

type anthropicMessage struct {
	ID         string           `json:"id"`
	Model      string           `json:"model"`
	Content    []anthropicBlock `json:"content"`
	StopReason string           `json:"stop_reason"`
	Usage      *anthropicUsage  `json:"usage"`
}

// anthropicExchange reads Anthropic Messages, plain and streamed.
type anthropicExchange struct {
	// raw holds the streamed usage: message_start has the input side, message_delta the
	// output side (and, on newer API versions, the final input side).
	raw    anthropicUsage
	blocks []streamBlock
	stop   string
}

type streamBlock struct {
	typ, id, name string
	text          strings.Builder
}

func (anthropicExchange) request(c *call, body []byte) {
	var r anthropicRequest
	var err error
	if c.content {
		err = json.Unmarshal(body, &r)
	} else {
		err = json.Unmarshal(body, &r.anthropicParams)
	}
	if err != nil {
		return
	}
	p := &r.anthropicParams
	c.str(keyRequestModel, p.Model)
	if p.MaxTokens != nil {
		c.int(keyMaxTokens, *p.MaxTokens)
	}
	optFloat(c, keyTemperature, p.Temperature)
	optFloat(c, keyTopP, p.TopP)
	optFloat(c, keyTopK, p.TopK)
	if len(p.StopSequences) > 0 {
		c.attrs = append(c.attrs, stringSlice(keyStopSequences, p.StopSequences))
	}
	if p.Stream {
		c.attrs = append(c.attrs, boolTrue(keyStream))
	}
	if !c.content {
		return
	}
	if sys := anthropicParts(r.System); len(sys) > 0 {
		c.parts(keySystemInstr, sys)
	}
	msgs := make([]Message, 0, len(r.Messages))
	for _, m := range r.Messages {
		ps := anthropicParts(m.Content)
		role := m.Role
		if len(ps) > 0 && ps[0].Type == "tool_call_response" {
			role = "tool"
		}
		msgs = append(msgs, Message{Role: role, Parts: ps})
	}
	c.messages(keyInputMessages, msgs)
	if len(r.Tools) > 0 && !bytes.Equal(r.Tools, []byte("null")) {
		c.str(keyToolDefinitions, string(r.Tools))
	}
}

// anthropicParts converts content: a string or an array of blocks.
func anthropicParts(raw json.RawMessage) []Part {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []Part{{Type: "text", Content: s}}
	}
	var blocks []anthropicBlock
	if json.Unmarshal(raw, &blocks) != nil {
		return []Part{{Type: "text", Content: string(raw)}}
	}
	return blockParts(blocks)
}

func blockParts(blocks []anthropicBlock) []Part {
	parts := make([]Part, 0, len(blocks))
	for _, b := range blocks {
		switch b.Type {
		case "text":
			parts = append(parts, Part{Type: "text", Content: b.Text})
		case "thinking":
			parts = append(parts, Part{Type: "reasoning", Content: b.Thinking})
		case "tool_use", "server_tool_use":
			parts = append(parts, Part{Type: "tool_call", ID: b.ID, Name: b.Name, Arguments: rawOrNil(b.Input)})
		case "tool_result":
			var resp any = rawOrNil(b.Content)
			if ps := anthropicParts(b.Content); len(ps) == 1 && ps[0].Type == "text" {
				resp = ps[0].Content
			}
			parts = append(parts, Part{Type: "tool_call_response", ID: b.ToolUseID, Response: resp})
		case "image", "document":
			p := Part{Type: "blob", Modality: b.Type}
			if b.Source != nil {
				p.MimeType = b.Source.MediaType
				if b.Source.Type == "url" {
					p.Type, p.URI = "uri", b.Source.URL
				} else {
					p.Content = b.Source.Data
				}
			}
			if b.Type == "image" {
				p.Modality = "image"
			}
			parts = append(parts, p)
		default:
			parts = append(parts, Part{Type: b.Type})
		}
	}
	return parts
}

func rawOrNil(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	return raw
}

// usage converts Anthropic's usage, whose input_tokens exclude the cache, to OpenTelemetry's.
func (u *anthropicUsage) usage() usage {
	v := func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	}
	out := usage{cacheRead: v(u.CacheReadInputTokens), cacheWrite: v(u.CacheCreationInputTokens),
		output: v(u.OutputTokens), has: u.InputTokens != nil || u.OutputTokens != nil}
	out.input = v(u.InputTokens) + out.cacheRead + out.cacheWrite
	if u.OutputDetails != nil {
		out.reasoning = u.OutputDetails.ThinkingTokens
	}
	return out
}

// merge takes the fields set in later (a message_delta's usage) over those of u.
func (u *anthropicUsage) merge(later *anthropicUsage) {
	if later.InputTokens != nil {
		u.InputTokens = later.InputTokens
	}
	if later.OutputTokens != nil {
		u.OutputTokens = later.OutputTokens
	}
	if later.CacheCreationInputTokens != nil {
		u.CacheCreationInputTokens = later.CacheCreationInputTokens
	}
	if later.CacheReadInputTokens != nil {
		u.CacheReadInputTokens = later.CacheReadInputTokens
	}
	if later.OutputDetails != nil {
		u.OutputDetails = later.OutputDetails
	}
}

func (anthropicExchange) response(c *call, body []byte) {
	var m anthropicMessage
	var content []byte
	ok := eachField(body, func(key, v []byte) bool {
		switch string(key) {
		case "id":
			m.ID = jsonString(v)
		case "model":
			m.Model = jsonString(v)
		case "stop_reason":
			m.StopReason = jsonString(v)
		case "usage":
			var u anthropicUsage
			if json.Unmarshal(v, &u) == nil {
				m.Usage = &u
			}
		case "content":
			content = v
		}
		return true
	})
	if !ok {
		return
	}
	c.str(keyResponseID, m.ID)
	c.str(keyResponseModel, m.Model)
	if m.Usage != nil {
		c.usage = m.Usage.usage()
	}
	if m.StopReason != "" {
		c.finish = append(c.finish, m.StopReason)
	}
	if c.content && json.Unmarshal(content, &m.Content) == nil {
		c.output = []Message{{Role: "assistant", Parts: blockParts(m.Content), FinishReason: finishReason(m.StopReason)}}
	}
}

func (anthropicExchange) tail(c *call, tail []byte) {
	var u anthropicUsage
	if json.Unmarshal(tailValue(tail, "usage"), &u) == nil {
		c.usage = u.usage()
	}
}

// anthropicEvent is any event of a Messages stream.
type anthropicEvent struct {
	Message      *anthropicMessage `json:"message"`
	Index        int               `json:"index"`
	ContentBlock *anthropicBlock   `json:"content_block"`
	Delta        *struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		Thinking    string `json:"thinking"`
		PartialJSON string `json:"partial_json"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Usage *anthropicUsage `json:"usage"`
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

func (x *anthropicExchange) event(c *call, name string, data []byte) bool {
	switch name {
	case "ping", "content_block_stop":
		return false
	case "message_stop":
		return true
	case "content_block_delta":
		if !c.content {
			c.firstChunk() // the delta's content is all it has
			return false
		}
	}
	var ev anthropicEvent
	if json.Unmarshal(data, &ev) != nil {
		return false
	}
	switch name {
	case "message_start":
		if m := ev.Message; m != nil {
			c.str(keyResponseID, m.ID)
			c.str(keyResponseModel, m.Model)
			if m.Usage != nil {
				x.raw.merge(m.Usage)
			}
		}
	case "content_block_start":
		if b := ev.ContentBlock; b != nil && c.content && ev.Index >= 0 && ev.Index <= maxChoices {
			for len(x.blocks) <= ev.Index {
				x.blocks = append(x.blocks, streamBlock{})
			}
			sb := &x.blocks[ev.Index]
			sb.typ, sb.id, sb.name = b.Type, b.ID, b.Name
			sb.text.WriteString(b.Text)
		}
	case "content_block_delta":
		c.firstChunk()
		if d := ev.Delta; d != nil && c.content && ev.Index >= 0 && ev.Index < len(x.blocks) {
			sb := &x.blocks[ev.Index]
			sb.text.WriteString(d.Text)
			sb.text.WriteString(d.Thinking)
			sb.text.WriteString(d.PartialJSON)
		}
	case "message_delta":
		if ev.Delta != nil && ev.Delta.StopReason != "" {
			x.stop = ev.Delta.StopReason
		}
		if ev.Usage != nil {
			x.raw.merge(ev.Usage)
		}
	case "error":
		if ev.Error != nil {
			c.fail(ev.Error.Type, ev.Error.Message)
		}
		return true
	}
	return false
}

func (x *anthropicExchange) finish(c *call) {
	if x.raw.InputTokens != nil || x.raw.OutputTokens != nil {
		c.usage = x.raw.usage()
	}
	if x.stop != "" {
		c.finish = append(c.finish, x.stop)
	}
	if !c.content || len(x.blocks) == 0 {
		return
	}
	m := Message{Role: "assistant", FinishReason: finishReason(x.stop), Parts: make([]Part, 0, len(x.blocks))}
	for i := range x.blocks {
		b := &x.blocks[i]
		switch b.typ {
		case "text":
			m.Parts = append(m.Parts, Part{Type: "text", Content: b.text.String()})
		case "thinking":
			m.Parts = append(m.Parts, Part{Type: "reasoning", Content: b.text.String()})
		case "tool_use", "server_tool_use":
			m.Parts = append(m.Parts, ToolCall(b.id, b.name, b.text.String()))
		case "":
		default:
			m.Parts = append(m.Parts, Part{Type: b.typ})
		}
	}
	c.output = []Message{m}
}
