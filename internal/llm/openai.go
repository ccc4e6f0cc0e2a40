package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/use-lumina/lumina/internal/genai"
)

// OpenAI is the Chat Completions and Embeddings client for OpenAI and for
// OpenAI-compatible servers (Ollama, vLLM, LiteLLM…).
type OpenAI struct {
	client   openai.Client
	cfg      Config
	provider string
}

// NewOpenAI returns a client for OpenAI (cfg.OpenAIBaseURL, when set, replaces the API
// URL), or an error wrapping ErrMissingKey when cfg.OpenAIAPIKey is empty.
func NewOpenAI(cfg Config) (*OpenAI, error) {
	if cfg.OpenAIAPIKey == "" {
		return nil, fmt.Errorf("openai: OPENAI_API_KEY is not set: %w", ErrMissingKey)
	}
	return newOpenAI(cfg, ProviderOpenAI, cfg.OpenAIBaseURL, cfg.OpenAIAPIKey), nil
}

// NewOpenAICompatible returns a client for an OpenAI-compatible server at baseURL (for
// example http://localhost:11434/v1 for Ollama). The key is cfg.OpenAIAPIKey and may be
// empty: local servers usually need none.
func NewOpenAICompatible(cfg Config, baseURL string) (*OpenAI, error) {
	if baseURL == "" {
		return nil, errors.New("openai-compatible: base URL is not set (OPENAI_BASE_URL or the run's base_url)")
	}
	return newOpenAI(cfg, ProviderOpenAICompatible, baseURL, cfg.OpenAIAPIKey), nil
}

func newOpenAI(cfg Config, provider, baseURL, key string) *OpenAI {
	// An explicit key (even empty) and base URL override the SDK's environment defaults.
	opts := []option.RequestOption{
		option.WithAPIKey(key),
		option.WithHTTPClient(cfg.httpClient()),
		option.WithMaxRetries(0), // Retry does it, with Lumina's classification
	}
	if baseURL != "" {
		opts = append(opts, option.WithBaseURL(baseURL))
	} else {
		opts = append(opts, option.WithBaseURL("https://api.openai.com/v1/"))
	}
	return &OpenAI{client: openai.NewClient(opts...), cfg: cfg, provider: provider}
}

// Provider returns ProviderOpenAI or ProviderOpenAICompatible.
func (o *OpenAI) Provider() string { return o.provider }

// Chat sends req to /chat/completions. The output bound is sent as max_completion_tokens to
// OpenAI (max_tokens is deprecated there) and as max_tokens to compatible servers, which
// mostly know only that.
func (o *OpenAI) Chat(ctx context.Context, req Request) (Response, error) {
	params, err := o.params(req)
	if err != nil {
		return Response{}, &Error{Provider: o.provider, Err: err}
	}
	return o.cfg.Retry.do(ctx, o.cfg.timeout(), func(actx context.Context) (Response, *Error) {
		cc, err := o.client.Chat.Completions.New(actx, params)
		if err != nil {
			return Response{}, o.classify(ctx, err)
		}
		if len(cc.Choices) == 0 {
			return Response{}, &Error{Provider: o.provider, Err: errors.New("response has no choices")}
		}
		return o.response(cc), nil
	})
}

func (o *OpenAI) classify(ctx context.Context, err error) *Error {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		var h http.Header
		if apiErr.Response != nil {
			h = apiErr.Response.Header
		}
		return classify(ctx, o.provider, err, apiErr.StatusCode, h)
	}
	return classify(ctx, o.provider, err, 0, nil)
}

func (o *OpenAI) params(req Request) (openai.ChatCompletionNewParams, error) {
	p := openai.ChatCompletionNewParams{Model: shared.ChatModel(req.Model)}
	if req.System != "" {
		p.Messages = append(p.Messages, openai.SystemMessage(req.System))
	}
	for i, m := range req.Messages {
		switch m.Role {
		case "system":
			p.Messages = append(p.Messages, openai.SystemMessage(m.Content))
		case "developer":
			p.Messages = append(p.Messages, openai.DeveloperMessage(m.Content))
		case "user":
			u := openai.UserMessage(m.Content)
			if m.Name != "" {
				u.OfUser.Name = openai.String(m.Name)
			}
			p.Messages = append(p.Messages, u)
		case "assistant":
			a := openai.ChatCompletionAssistantMessageParam{}
			if m.Content != "" {
				a.Content.OfString = openai.String(m.Content)
			}
			for _, tc := range m.ToolCalls {
				a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
						ID:       tc.ID,
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: tc.Name, Arguments: tc.Arguments},
					},
				})
			}
			p.Messages = append(p.Messages, openai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		case "tool":
			p.Messages = append(p.Messages, openai.ToolMessage(m.Content, m.ToolCallID))
		default:
			return p, fmt.Errorf("message %d: unknown role %q", i, m.Role)
		}
	}
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	if o.provider == ProviderOpenAI {
		p.MaxCompletionTokens = openai.Int(maxTokens)
	} else {
		p.MaxTokens = openai.Int(maxTokens)
	}
	if req.Temperature != nil {
		p.Temperature = openai.Float(*req.Temperature)
	}
	if req.TopP != nil {
		p.TopP = openai.Float(*req.TopP)
	}
	if len(req.Stop) > 0 {
		p.Stop = openai.ChatCompletionNewParamsStopUnion{OfStringArray: req.Stop}
	}
	if req.JSONObject {
		p.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}}
	}
	for _, t := range req.Tools {
		fd := shared.FunctionDefinitionParam{Name: t.Name}
		if t.Description != "" {
			fd.Description = openai.String(t.Description)
		}
		if len(t.Parameters) > 0 {
			var schema map[string]any
			if err := json.Unmarshal(t.Parameters, &schema); err != nil {
				return p, fmt.Errorf("tool %q parameters: %w", t.Name, err)
			}
			fd.Parameters = shared.FunctionParameters(schema)
		}
		p.Tools = append(p.Tools, openai.ChatCompletionFunctionTool(fd))
	}
	return p, nil
}

func (o *OpenAI) response(cc *openai.ChatCompletion) Response {
	ch := cc.Choices[0]
	r := Response{
		Provider: o.provider, Model: cc.Model, ID: cc.ID,
		Text: ch.Message.Content, Refusal: ch.Message.Refusal,
		RawFinishReason: ch.FinishReason, FinishReason: genai.NormalizeFinishReason(ch.FinishReason),
	}
	if ch.FinishReason == "tool_calls" || ch.FinishReason == "function_call" {
		r.FinishReason = "tool_call"
	}
	for _, tc := range ch.Message.ToolCalls {
		if tc.Type == "function" {
			r.ToolCalls = append(r.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
	}
	u := cc.Usage
	// OpenAI's prompt_tokens already include cached tokens (genai's rule).
	r.Usage = genai.Usage{
		InputTokens:      u.PromptTokens,
		OutputTokens:     u.CompletionTokens,
		CacheReadTokens:  u.PromptTokensDetails.CachedTokens,
		CacheWriteTokens: u.PromptTokensDetails.CacheWriteTokens,
		ReasoningTokens:  u.CompletionTokensDetails.ReasoningTokens,
		TotalTokens:      u.TotalTokens,
		Reported:         true,
	}
	if r.Usage.TotalTokens == 0 {
		r.Usage.TotalTokens, r.Usage.TotalDerived = u.PromptTokens+u.CompletionTokens, true
	}
	if r.Usage.CacheReadTokens+r.Usage.CacheWriteTokens > 0 {
		r.Usage.CacheAccounting = genai.CacheInclusive
	}
	return r
}

// Embed returns one embedding per text, in order, from /embeddings with cfg.EmbeddingModel.
// It satisfies quality.Embedder.
func (o *OpenAI) Embed(ctx context.Context, texts []string) ([][]float64, error) {
	model := o.cfg.EmbeddingModel
	if model == "" {
		model = DefaultEmbeddingModel
	}
	params := openai.EmbeddingNewParams{
		Model:          model,
		Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: texts},
		EncodingFormat: openai.EmbeddingNewParamsEncodingFormatFloat,
	}
	var out [][]float64
	_, err := o.cfg.Retry.do(ctx, o.cfg.timeout(), func(actx context.Context) (Response, *Error) {
		res, err := o.client.Embeddings.New(actx, params)
		if err != nil {
			return Response{}, o.classify(ctx, err)
		}
		if len(res.Data) != len(texts) {
			return Response{}, &Error{Provider: o.provider, Err: fmt.Errorf("got %d embeddings for %d texts", len(res.Data), len(texts))}
		}
		out = make([][]float64, len(texts))
		for _, d := range res.Data {
			if d.Index < 0 || int(d.Index) >= len(texts) {
				return Response{}, &Error{Provider: o.provider, Err: fmt.Errorf("embedding index %d out of range", d.Index)}
			}
			out[d.Index] = d.Embedding
		}
		return Response{}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("embed %d text(s) with %s: %w", len(texts), model, err)
	}
	return out, nil
}
