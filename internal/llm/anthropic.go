package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/anthropics/anthropic-sdk-go/v2/packages/param"

	"github.com/use-lumina/lumina/internal/genai"
)

// Anthropic is the Claude Messages API client (API version 2026-10-21, SDK v2).
type Anthropic struct {
	client anthropic.Client
	cfg    Config
}

// NewAnthropic returns an Anthropic client, or an error wrapping ErrMissingKey when
// cfg.AnthropicAPIKey is empty.
func NewAnthropic(cfg Config) (*Anthropic, error) {
	if cfg.AnthropicAPIKey == "" {
		return nil, fmt.Errorf("anthropic: ANTHROPIC_API_KEY is not set: %w", ErrMissingKey)
	}
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(), // Lumina's config, not the SDK's env lookups
		option.WithAPIKey(cfg.AnthropicAPIKey),
		option.WithHTTPClient(cfg.httpClient()),
		option.WithMaxRetries(0), // Retry does it, with Lumina's classification
		option.WithoutOpenTelemetry(),
	}
	if cfg.AnthropicBaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.AnthropicBaseURL))
	}
	return &Anthropic{client: anthropic.NewClient(opts...), cfg: cfg}, nil
}

// Provider returns ProviderAnthropic.
func (a *Anthropic) Provider() string { return ProviderAnthropic }

// Chat sends req to the Messages API. Temperature and TopP are left out and listed in
// Response.Dropped: API version 2026-10-21 rejects sampling parameters with a 400.
func (a *Anthropic) Chat(ctx context.Context, req Request) (Response, error) {
	params, dropped, err := anthropicParams(req)
	if err != nil {
		return Response{}, &Error{Provider: ProviderAnthropic, Err: err}
	}
	resp, err := a.cfg.Retry.do(ctx, a.cfg.timeout(), func(actx context.Context) (Response, *Error) {
		msg, err := a.client.Messages.New(actx, params)
		if err != nil {
			var apiErr *anthropic.Error
			if errors.As(err, &apiErr) {
				var h http.Header
				if apiErr.Response != nil {
					h = apiErr.Response.Header
				}
				return Response{}, classify(ctx, ProviderAnthropic, err, apiErr.StatusCode, h)
			}
			return Response{}, classify(ctx, ProviderAnthropic, err, 0, nil)
		}
		return anthropicResponse(msg), nil
	})
	if err != nil {
		return Response{}, err
	}
	resp.Dropped = dropped
	return resp, nil
}

// anthropicParams maps a Request to the SDK's parameters. System and developer messages
// join the system prompt; consecutive messages that map to the same role are merged
// (tool results travel as user content blocks).
func anthropicParams(req Request) (anthropic.MessageNewParams, []string, error) {
	p := anthropic.MessageNewParams{Model: anthropic.Model(req.Model), MaxTokens: req.MaxTokens, StopSequences: req.Stop}
	if p.MaxTokens <= 0 {
		p.MaxTokens = DefaultMaxTokens
	}
	var dropped []string
	if req.Temperature != nil {
		dropped = append(dropped, "temperature")
	}
	if req.TopP != nil {
		dropped = append(dropped, "top_p")
	}
	if req.JSONObject {
		dropped = append(dropped, "json_object")
	}
	system := []string{}
	if req.System != "" {
		system = append(system, req.System)
	}
	var role string
	var blocks []anthropic.ContentBlockParamUnion
	flush := func() {
		if len(blocks) == 0 {
			return
		}
		if role == "assistant" {
			p.Messages = append(p.Messages, anthropic.NewAssistantMessage(blocks...))
		} else {
			p.Messages = append(p.Messages, anthropic.NewUserMessage(blocks...))
		}
		blocks = nil
	}
	for i, m := range req.Messages {
		var r string
		var add []anthropic.ContentBlockParamUnion
		switch m.Role {
		case "system", "developer":
			if m.Content != "" {
				system = append(system, m.Content)
			}
			continue
		case "user":
			r = "user"
			if m.Content != "" {
				add = append(add, anthropic.NewTextBlock(m.Content))
			}
		case "assistant":
			r = "assistant"
			if m.Content != "" {
				add = append(add, anthropic.NewTextBlock(m.Content))
			}
			for _, tc := range m.ToolCalls {
				args := json.RawMessage(tc.Arguments)
				if !json.Valid(args) {
					return p, nil, fmt.Errorf("message %d: tool call %q arguments are not JSON", i, tc.Name)
				}
				add = append(add, anthropic.NewToolUseBlock(tc.ID, args, tc.Name))
			}
		case "tool":
			r = "user"
			add = append(add, anthropic.NewToolResultBlock(m.ToolCallID, m.Content, false))
		default:
			return p, nil, fmt.Errorf("message %d: unknown role %q", i, m.Role)
		}
		if len(add) == 0 {
			continue
		}
		if r != role {
			flush()
			role = r
		}
		blocks = append(blocks, add...)
	}
	flush()
	if len(system) > 0 {
		p.System = []anthropic.TextBlockParam{{Text: strings.Join(system, "\n\n")}}
	}
	for _, t := range req.Tools {
		tp := anthropic.ToolParam{Name: t.Name}
		if t.Description != "" {
			tp.Description = param.NewOpt(t.Description)
		}
		if len(t.Parameters) > 0 {
			var schema struct {
				Properties any      `json:"properties"`
				Required   []string `json:"required"`
			}
			if err := json.Unmarshal(t.Parameters, &schema); err != nil {
				return p, nil, fmt.Errorf("tool %q parameters: %w", t.Name, err)
			}
			tp.InputSchema = anthropic.ToolInputSchemaParam{Properties: schema.Properties, Required: schema.Required}
		}
		p.Tools = append(p.Tools, anthropic.ToolUnionParam{OfTool: &tp})
	}
	return p, dropped, nil
}

func anthropicResponse(msg *anthropic.Message) Response {
	r := Response{Provider: ProviderAnthropic, Model: string(msg.Model), ID: msg.ID, RawFinishReason: string(msg.StopReason)}
	r.FinishReason = anthropicFinish(msg.StopReason)
	var text strings.Builder
	for _, b := range msg.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "tool_use":
			r.ToolCalls = append(r.ToolCalls, ToolCall{ID: b.ID, Name: b.Name, Arguments: string(b.Input)})
		}
	}
	r.Text = text.String()
	u := msg.Usage
	// Anthropic reports input_tokens without the cache tokens; genai's rule includes them.
	r.Usage = genai.Usage{
		InputTokens:      u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens,
		OutputTokens:     u.OutputTokens,
		CacheReadTokens:  u.CacheReadInputTokens,
		CacheWriteTokens: u.CacheCreationInputTokens,
		Reported:         true,
	}
	r.Usage.TotalTokens = r.Usage.InputTokens + r.Usage.OutputTokens
	if u.CacheReadInputTokens+u.CacheCreationInputTokens > 0 {
		r.Usage.CacheAccounting = genai.CacheExclusive
	}
	return r
}

func anthropicFinish(r anthropic.StopReason) string {
	switch r {
	case "end_turn", "stop_sequence":
		return "stop"
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_call"
	case "refusal":
		return "content_filter"
	}
	return genai.NormalizeFinishReason(string(r))
}
