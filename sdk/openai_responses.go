package lumina

import (
	"bytes"
	"encoding/json"
)

// responsesParams are the request fields of the OpenAI Responses API the span records.
type responsesParams struct {
	Model           string   `json:"model"`
	MaxOutputTokens *int64   `json:"max_output_tokens"`
	Temperature     *float64 `json:"temperature"`
	TopP            *float64 `json:"top_p"`
	Stream          bool     `json:"stream"`
	ServiceTier     string   `json:"service_tier"`
	Text            *struct {
		Format struct {
			Type string `json:"type"`
		} `json:"format"`
	} `json:"text"`
}

type responsesRequest struct {
	responsesParams
	Instructions string          `json:"instructions"`
	Input        json.RawMessage `json:"input"`
	Tools        json.RawMessage `json:"tools"`
}

// responsesItem is an item of input or output: a message, a function call, its output, or
// reasoning.
type responsesItem struct {
	Type      string          `json:"type"`
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Arguments string          `json:"arguments"`
	Output    json.RawMessage `json:"output"`
	Summary   []struct {
		Text string `json:"text"`
	} `json:"summary"`
}

type responsesResponse struct {
	ID                string          `json:"id"`
	Model             string          `json:"model"`
	Status            string          `json:"status"`
	Output            []responsesItem `json:"output"`
	ServiceTier       string          `json:"service_tier"`
	IncompleteDetails *struct {
		Reason string `json:"reason"`
	} `json:"incomplete_details"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Usage *struct {
		InputTokens  int64 `json:"input_tokens"`
		OutputTokens int64 `json:"output_tokens"`
		InputDetails struct {
			CachedTokens int64 `json:"cached_tokens"`
		} `json:"input_tokens_details"`
		OutputDetails struct {
			ReasoningTokens int64 `json:"reasoning_tokens"`
		} `json:"output_tokens_details"`
	} `json:"usage"`
}

// responsesExchange reads the OpenAI Responses API, plain and streamed. A stream's
// response.completed (or .incomplete, .failed) event carries the whole response, so the
// exchange reads that instead of accumulating deltas.
type responsesExchange struct{}

func (responsesExchange) request(c *call, body []byte) {
	var r responsesRequest
	var err error
	if c.content {
		err = json.Unmarshal(body, &r)
	} else {
		err = json.Unmarshal(body, &r.responsesParams)
	}
	if err != nil {
		return
	}
	p := &r.responsesParams
	c.str(keyRequestModel, p.Model)
	if p.MaxOutputTokens != nil {
		c.int(keyMaxTokens, *p.MaxOutputTokens)
	}
	optFloat(c, keyTemperature, p.Temperature)
	optFloat(c, keyTopP, p.TopP)
	if p.Stream {
		c.attrs = append(c.attrs, boolTrue(keyStream))
	}
	if p.Text != nil {
		c.str(keyOutputType, outputType(p.Text.Format.Type))
	}
	c.str(keyServiceTierReq, p.ServiceTier)
	if !c.content {
		return
	}
	if r.Instructions != "" {
		c.parts(keySystemInstr, []Part{{Type: "text", Content: r.Instructions}})
	}
	var s string
	if json.Unmarshal(r.Input, &s) == nil {
		c.messages(keyInputMessages, []Message{Text("user", s)})
	} else {
		var items []responsesItem
		if json.Unmarshal(r.Input, &items) == nil {
			c.messages(keyInputMessages, itemMessages(items, ""))
		}
	}
	if len(r.Tools) > 0 && !bytes.Equal(r.Tools, []byte("null")) {
		c.str(keyToolDefinitions, string(r.Tools))
	}
}

// itemMessages converts Responses items to messages, merging consecutive parts of one role.
func itemMessages(items []responsesItem, finish string) []Message {
	var msgs []Message
	add := func(role string, p ...Part) {
		if n := len(msgs); n > 0 && msgs[n-1].Role == role {
			msgs[n-1].Parts = append(msgs[n-1].Parts, p...)
			return
		}
		msgs = append(msgs, Message{Role: role, Parts: p, FinishReason: finish})
	}
	for _, it := range items {
		switch it.Type {
		case "", "message":
			add(it.Role, contentParts(it.Content)...)
		case "function_call":
			add("assistant", ToolCall(it.CallID, it.Name, it.Arguments))
		case "function_call_output":
			var s string
			var resp any = it.Output
			if json.Unmarshal(it.Output, &s) == nil {
				resp = s
			}
			add("tool", Part{Type: "tool_call_response", ID: it.CallID, Response: resp})
		case "reasoning":
			for _, sm := range it.Summary {
				add("assistant", Part{Type: "reasoning", Content: sm.Text})
			}
		default:
			add("assistant", Part{Type: it.Type})
		}
	}
	return msgs
}

func (responsesExchange) response(c *call, body []byte) {
	var r responsesResponse
	if json.Unmarshal(body, &r) == nil {
		recordResponse(c, &r)
	}
}

func recordResponse(c *call, r *responsesResponse) {
	c.str(keyResponseID, r.ID)
	c.str(keyResponseModel, r.Model)
	c.str(keyServiceTierResp, r.ServiceTier)
	if u := r.Usage; u != nil {
		c.usage = usage{input: u.InputTokens, output: u.OutputTokens, cacheRead: u.InputDetails.CachedTokens,
			reasoning: u.OutputDetails.ReasoningTokens, has: true}
	}
	reason := r.Status
	switch r.Status {
	case "completed":
		for _, it := range r.Output {
			if it.Type == "function_call" {
				reason = "tool_calls"
			}
		}
	case "incomplete":
		if r.IncompleteDetails != nil {
			reason = r.IncompleteDetails.Reason
		}
	case "failed":
		if r.Error != nil {
			c.fail(r.Error.Code, r.Error.Message)
		}
	}
	if reason != "" {
		c.finish = append(c.finish, reason)
	}
	if c.content {
		out := itemMessages(r.Output, finishReason(reason))
		for i := range out {
			out[i].Role = "assistant"
		}
		c.output = out
	}
}

func (responsesExchange) tail(c *call, tail []byte) {
	var r responsesResponse
	_ = json.Unmarshal(tailValue(tail, "usage"), &r.Usage)
	if r.Usage != nil {
		c.usage = usage{input: r.Usage.InputTokens, output: r.Usage.OutputTokens,
			cacheRead: r.Usage.InputDetails.CachedTokens, reasoning: r.Usage.OutputDetails.ReasoningTokens, has: true}
	}
}

func (responsesExchange) event(c *call, name string, data []byte) bool {
	switch name {
	case "response.output_text.delta", "response.function_call_arguments.delta", "response.refusal.delta",
		"response.reasoning_summary_text.delta":
		c.firstChunk()
		return false
	case "response.completed", "response.incomplete", "response.failed":
		var ev struct {
			Response responsesResponse `json:"response"`
		}
		if json.Unmarshal(data, &ev) == nil {
			recordResponse(c, &ev.Response)
		}
		return true
	case "error":
		var ev struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &ev)
		c.fail(orString(ev.Code, "stream_error"), ev.Message)
		return true
	}
	return false
}

func (responsesExchange) finish(*call) {}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
