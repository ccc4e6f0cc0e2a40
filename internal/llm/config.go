package llm

import (
	"fmt"
	"net/http"
	"time"
)

// Defaults.
const (
	DefaultMaxTokens      = 1024
	DefaultTimeout        = 60 * time.Second
	DefaultEmbeddingModel = "text-embedding-3-small"
)

// Config holds provider credentials and client settings. Keys and base URLs come from
// Lumina's configuration (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, OPENAI_API_KEY,
// OPENAI_BASE_URL); the SDKs' own environment lookups are not relied on.
type Config struct {
	AnthropicAPIKey  string
	AnthropicBaseURL string // default https://api.anthropic.com
	OpenAIAPIKey     string
	OpenAIBaseURL    string // default https://api.openai.com/v1; another URL is an OpenAI-compatible server
	EmbeddingModel   string // default DefaultEmbeddingModel

	HTTPClient *http.Client  // default http.DefaultClient
	Timeout    time.Duration // per attempt; default DefaultTimeout
	Retry      Retry
}

// ConfigFromEnv reads the four provider variables through getenv (os.Getenv in main).
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{
		AnthropicAPIKey:  getenv("ANTHROPIC_API_KEY"),
		AnthropicBaseURL: getenv("ANTHROPIC_BASE_URL"),
		OpenAIAPIKey:     getenv("OPENAI_API_KEY"),
		OpenAIBaseURL:    getenv("OPENAI_BASE_URL"),
	}
}

func (c Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

func (c Config) httpClient() *http.Client {
	if c.HTTPClient == nil {
		return http.DefaultClient
	}
	return c.HTTPClient
}

// New returns the client for provider: ProviderAnthropic, ProviderOpenAI, or
// ProviderOpenAICompatible (which needs OpenAIBaseURL, or baseURL, and no key). A missing
// key is an error wrapping ErrMissingKey that names the variable to set.
func (c Config) New(provider, baseURL string) (Client, error) {
	switch provider {
	case ProviderAnthropic:
		return NewAnthropic(c)
	case ProviderOpenAI:
		return NewOpenAI(c)
	case ProviderOpenAICompatible:
		if baseURL == "" {
			baseURL = c.OpenAIBaseURL
		}
		return NewOpenAICompatible(c, baseURL)
	}
	return nil, fmt.Errorf("unknown LLM provider %q (want %s, %s or %s)", provider, ProviderAnthropic, ProviderOpenAI, ProviderOpenAICompatible)
}
