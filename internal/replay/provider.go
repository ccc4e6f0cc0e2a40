package replay

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// Provider names a live run can call.
const (
	ProviderAnthropic        = "anthropic"
	ProviderOpenAI           = "openai"
	ProviderOpenAICompatible = "openai_compatible"
)

// ErrMissingKey is wrapped by Providers when a provider's API key is not configured; the
// error's message names the variable to set.
var ErrMissingKey = errors.New("API key not set")

// ErrInvalid is wrapped by errors that come from the caller's input (an unknown set
// field, a bad override); the API answers them with 400.
var ErrInvalid = errors.New("invalid replay request")

// Providers hands out provider clients. cmd/lumina implements it with internal/llm.
type Providers interface {
	// Provider returns the client for name (ProviderAnthropic, ProviderOpenAI or
	// ProviderOpenAICompatible, with baseURL for the latter), or an error wrapping
	// ErrMissingKey that names the variable to set.
	Provider(name, baseURL string) (Provider, error)
}

// Provider sends one chat request. Implementations are safe for concurrent use; errors
// that are worth retrying later implement Temporary() bool returning true.
type Provider interface {
	Chat(ctx context.Context, req Request) (Response, error)
}

// Request is one replayed chat call.
type Request struct {
	Model       string
	System      string
	Messages    []genai.Message
	MaxTokens   int64
	Temperature *float64
	TopP        *float64
	Stop        []string
	Tools       []Tool
	JSONObject  bool
}

// Response is a provider's answer.
type Response struct {
	Model     string
	Text      string
	ToolCalls []genai.ToolCall
	Usage     genai.Usage
	Latency   time.Duration
	Attempts  int
	// Dropped lists request fields the provider does not accept and that were left out.
	Dropped []string
}

// Pricer prices a call: it fills call.Cost from call.Provider, the models and call.Usage.
// *cost.Calculator implements it.
type Pricer interface {
	Apply(ctx context.Context, projectID string, call *genai.Call) error
}

// HashFunc is the character-level similarity of two texts, in 0..1, and the method that
// computed it (quality.CharSimilarity in cmd/lumina).
type HashFunc func(a, b string) (score float64, method string)

// SemanticFunc compares two texts by meaning. It returns the score in 0..1, or nil with a
// note when it could not score (no provider configured, provider failure); method always
// names what ran ("semantic:embeddings", "semantic:not_configured"…).
type SemanticFunc func(ctx context.Context, a, b string) (score *float64, method, note string)

// temporary reports whether err says retrying later may succeed.
func temporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// clientProvider maps a captured provider name to the client that replays it, or "" when
// no client speaks its API.
func clientProvider(captured string) string {
	p := strings.ToLower(captured)
	switch {
	case strings.Contains(p, "anthropic"):
		return ProviderAnthropic
	case p == "openai" || p == "azure.ai.openai":
		return ProviderOpenAI
	}
	return ""
}

// keyVar names the variable a provider's key comes from, for messages.
func keyVar(provider string) string {
	switch provider {
	case ProviderAnthropic:
		return "ANTHROPIC_API_KEY"
	case ProviderOpenAI:
		return "OPENAI_API_KEY"
	}
	return ""
}
