package genai

import "time"

// Price is one model price: USD per million tokens of each kind. Built-in prices come from
// the embedded table; custom prices belong to a project and win over built-ins from their
// EffectiveFrom time on.
type Price struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id,omitempty"` // empty for built-in prices
	Provider  string `json:"provider,omitempty"`   // empty matches any provider
	// Model is matched against the normalized model name by MatchType: "exact" (the default),
	// "prefix" or "regex".
	Model     string `json:"model"`
	MatchType string `json:"match_type,omitempty"`

	InputPerMTok        float64  `json:"input_per_mtok"`
	OutputPerMTok       float64  `json:"output_per_mtok"`
	CacheReadPerMTok    *float64 `json:"cache_read_per_mtok,omitempty"`
	CacheWritePerMTok   *float64 `json:"cache_write_per_mtok,omitempty"`    // 5-minute cache writes
	CacheWrite1hPerMTok *float64 `json:"cache_write_1h_per_mtok,omitempty"` // 1-hour cache writes
	ReasoningPerMTok    *float64 `json:"reasoning_per_mtok,omitempty"`      // when billed apart from output
	// Tiers reprice the whole request once its input tokens exceed a threshold
	// (long-context pricing).
	Tiers []PriceTier `json:"tiers,omitempty"`

	EffectiveFrom time.Time `json:"effective_from,omitempty"`
	Source        string    `json:"source,omitempty"` // litellm, genai-prices, langfuse, custom…
	CreatedAt     time.Time `json:"created_at,omitempty"`
}

// PriceTier is a long-context tier: above AboveInputTokens input tokens, these prices apply
// to the whole request.
type PriceTier struct {
	AboveInputTokens  int64    `json:"above_input_tokens"`
	InputPerMTok      float64  `json:"input_per_mtok"`
	OutputPerMTok     float64  `json:"output_per_mtok"`
	CacheReadPerMTok  *float64 `json:"cache_read_per_mtok,omitempty"`
	CacheWritePerMTok *float64 `json:"cache_write_per_mtok,omitempty"`
}
