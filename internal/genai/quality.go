package genai

import "time"

// Quality tiers.
const (
	QualityTier1 = "tier1" // structural comparison against references, every LLM span, free
	QualityTier2 = "tier2" // LLM judge, borderline or cost-spike spans, costs money
)

// Quality flags: what the checks found, whatever the score.
const (
	FlagEmpty         = "empty"          // the response has no text and no tool call
	FlagRefusal       = "refusal"        // the response refuses ("I can't help with that")
	FlagTruncated     = "truncated"      // the provider stopped at the token limit
	FlagContentFilter = "content_filter" // the provider's safety filter stopped the response
	FlagInvalidJSON   = "invalid_json"   // the response looks like JSON but does not parse
	FlagFormatChanged = "format_changed" // JSON / markdown / text kind differs from the references
	FlagKeyDrift      = "json_key_drift" // JSON keys differ from the references'
	FlagLengthOutlier = "length_outlier" // far outside the endpoint's length distribution
	FlagExactMatch    = "exact_match"    // identical to an earlier response to the same prompt
	FlagHallucination = "hallucination"  // tier 2: the judge found unsupported claims
	FlagToneDrift     = "tone_drift"     // tier 2: the judge found a change of tone
	FlagFactualError  = "factual_error"  // tier 2: the judge found a factual error
)

// Quality is a span's quality assessment. Score is nil when nothing could honestly be
// scored (the first response seen for an endpoint, a failed call, a failed judge): it is
// never a made-up neutral value. Method says exactly what produced the score
// ("tier1:prompt", "tier1:endpoint", "tier1:absolute", "tier1:first_sample", "tier2:judge"…),
// Components the per-check values (each 0..1) it was built from.
type Quality struct {
	Score      *float64           `json:"score"`
	Tier       string             `json:"tier"`
	Method     string             `json:"method"`
	Components map[string]float64 `json:"components,omitempty"`
	Reason     string             `json:"reason,omitempty"`
	Flags      []string           `json:"flags,omitempty"`
	// References is how many earlier responses the score was compared with; ReferenceID
	// identifies the closest one ("trace_id/span_id", or the provider's response id), so
	// tier 2 can load its text from the store.
	References  int    `json:"references"`
	ReferenceID string `json:"reference_id,omitempty"`
	// Sketch is the response's 64-bit SimHash over its word tokens, computed once and kept
	// so later comparisons (replay, other processes) need not re-read the text. Encoded as a
	// JSON string because JavaScript numbers cannot hold 64 bits.
	Sketch uint64 `json:"sketch,string,omitempty"`
	// PromptHash identifies the normalized prompt (system + input messages).
	PromptHash string `json:"prompt_hash,omitempty"`
	// Endpoint is the reference key the span was scored under (service / span name, plus
	// the prompt template when named), which quality summaries group by.
	Endpoint string    `json:"endpoint,omitempty"`
	ScoredAt time.Time `json:"scored_at"`
	// Judge is the tier-2 outcome, when the judge ran (or was asked to and could not).
	Judge *Judgement `json:"judge,omitempty"`
}

// Judgement statuses.
const (
	JudgeScored        = "scored"         // the judge returned a valid verdict
	JudgeFailed        = "failed"         // the judge's output was malformed or the call failed for good
	JudgeNotConfigured = "not_configured" // no provider key: nothing was judged
	JudgeOverBudget    = "over_budget"    // the project's daily judge budget is spent
)

// Judgement is the tier-2 LLM judge's verdict on one response. Similarity is nil unless
// Status is JudgeScored.
type Judgement struct {
	Status        string   `json:"status"`
	Similarity    *float64 `json:"similarity"`
	Hallucination bool     `json:"hallucination"`
	ToneDrift     bool     `json:"tone_drift"`
	FactualError  bool     `json:"factual_error"`
	Refusal       bool     `json:"refusal"`
	Reason        string   `json:"reason,omitempty"`
	// Trigger says why the judge was asked: "borderline", "cost_spike", "sampled".
	Trigger  string `json:"trigger,omitempty"`
	Provider string `json:"provider,omitempty"`
	Model    string `json:"model,omitempty"`
	Usage    Usage  `json:"usage"`
	// CostUSD is the judge's own cost; nil when it could not be priced.
	CostUSD *float64 `json:"cost_usd"`
	// Cached is set when the verdict came from the content-hash cache (no new call, no cost).
	Cached      bool      `json:"cached,omitempty"`
	Attempts    int       `json:"attempts,omitempty"`
	Error       string    `json:"error,omitempty"`
	ContentHash string    `json:"content_hash,omitempty"`
	JudgedAt    time.Time `json:"judged_at"`
}
