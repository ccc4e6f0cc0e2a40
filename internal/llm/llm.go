// Package llm is Lumina's client for LLM providers, used by the tier-2 judge and by replay:
// Anthropic (Messages API), OpenAI (Chat Completions, Embeddings) and any OpenAI-compatible
// server (Ollama, vLLM…) given its base URL. It uses the providers' official Go SDKs, with
// their own retries and telemetry turned off: Lumina retries itself (Retry), classifies
// errors once (Error), and never traces its own calls into its own ingest.
package llm

import (
	"context"
	"encoding/json"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// Providers.
const (
	ProviderAnthropic        = "anthropic"
	ProviderOpenAI           = "openai"
	ProviderOpenAICompatible = "openai_compatible"
)

// Client is one provider. Implementations are safe for concurrent use.
type Client interface {
	// Chat sends one non-streaming chat request, retrying transient failures (see Retry).
	Chat(ctx context.Context, req Request) (Response, error)
	// Provider names the provider (ProviderAnthropic, ProviderOpenAI, ProviderOpenAICompatible).
	Provider() string
}

// Request is one chat call: what a replay of a captured call or a judge prompt needs.
type Request struct {
	Model string
	// System is the system prompt. Messages with role "system" or "developer" are added
	// to it, in order, for providers that take the system prompt apart (Anthropic).
	System   string
	Messages []Message
	// MaxTokens bounds the output; 0 means the client's default (1,024), since Anthropic
	// requires a bound.
	MaxTokens   int64
	Temperature *float64
	TopP        *float64
	Stop        []string
	Tools       []Tool
	// JSONObject asks for a JSON object response where the provider has a switch for it
	// (OpenAI response_format json_object).
	JSONObject bool
}

// Message is one chat message. Role is "user", "assistant", "tool" (a tool result, with
// ToolCallID) or "system"/"developer".
type Message struct {
	Role       string
	Content    string
	ToolCalls  []ToolCall // assistant tool invocations
	ToolCallID string     // for role "tool": which call this result answers
	Name       string
}

// ToolCall is a tool invocation; Arguments is JSON text.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string
}

// Tool is a function the model may call; Parameters is its JSON Schema (an object schema).
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage
}

// Response is a completed chat call.
type Response struct {
	Provider  string
	Model     string // as the provider reported it
	ID        string
	Text      string
	ToolCalls []ToolCall
	// Refusal is the provider's explicit refusal text (OpenAI), when it sent one.
	Refusal string
	// FinishReason is normalized (stop, length, tool_call, content_filter, …);
	// RawFinishReason is the provider's own value.
	FinishReason    string
	RawFinishReason string
	// Usage follows genai's rules: InputTokens includes cache read and write tokens.
	Usage genai.Usage
	// Latency is the successful attempt's duration; Attempts counts every attempt.
	Latency  time.Duration
	Attempts int
	// Dropped lists request fields the provider does not accept and that were left out
	// (Anthropic's API version 2026-10-21 rejects temperature and top_p).
	Dropped []string
}
