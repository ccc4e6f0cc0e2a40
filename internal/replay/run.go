package replay

import (
	"fmt"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// Modes.
const (
	ModeLive       = "live"
	ModeSimulation = "simulation"
)

// SimulationNotice is attached to everything a simulation run returns.
const SimulationNotice = "SIMULATION: no provider was called. Replay answers are deterministic transformations " +
	"of the original answers and latency and tokens are modelled, so the metrics describe the simulation, not a real model."

// Run statuses. Queued and running runs are resumed when the replay role starts.
const (
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusCanceled  = "canceled"
	StatusFailed    = "failed"
)

// Run is one replay of a set with overrides.
type Run struct {
	ID         string     `json:"id"`
	ProjectID  string     `json:"-"`
	SetID      string     `json:"set_id"`
	Mode       string     `json:"mode"`
	Simulation bool       `json:"simulation"`
	Notice     string     `json:"notice,omitempty"`
	Overrides  Overrides  `json:"overrides"`
	Thresholds Thresholds `json:"thresholds"`
	Seed       uint64     `json:"seed"`
	Items      int        `json:"items"` // the set's item count when the run started
	Status     string     `json:"status"`
	Error      string     `json:"error,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Resumed counts the times a restarted process picked the run up again.
	Resumed int `json:"resumed,omitempty"`
}

// Overrides change what a run sends. Empty fields keep the captured value.
type Overrides struct {
	Provider string `json:"provider,omitempty"` // anthropic, openai, openai_compatible
	Model    string `json:"model,omitempty"`
	// SystemPrompt replaces the system prompt (and drops system/developer messages);
	// {{original}} in it stands for the captured system prompt.
	SystemPrompt *string `json:"system_prompt,omitempty"`
	// PromptTemplate rewrites the last user message; {{original}} stands for its captured
	// text and is required.
	PromptTemplate string   `json:"prompt_template,omitempty"`
	Temperature    *float64 `json:"temperature,omitempty"`
	MaxTokens      *int64   `json:"max_tokens,omitempty"`
	// BaseURL points an openai_compatible run at its server (Ollama, vLLM…).
	BaseURL string `json:"base_url,omitempty"`
}

// TemplateVar is the placeholder for the captured text in SystemPrompt and PromptTemplate.
const TemplateVar = "{{original}}"

// Validate checks the overrides.
func (o Overrides) Validate() error {
	switch o.Provider {
	case "", ProviderAnthropic, ProviderOpenAI, ProviderOpenAICompatible:
	default:
		return fmt.Errorf("provider %q: want %s, %s or %s: %w", o.Provider, ProviderAnthropic, ProviderOpenAI, ProviderOpenAICompatible, ErrInvalid)
	}
	if o.PromptTemplate != "" && !strings.Contains(o.PromptTemplate, TemplateVar) {
		return fmt.Errorf("prompt_template must contain %s (the captured prompt): %w", TemplateVar, ErrInvalid)
	}
	if o.Temperature != nil && (*o.Temperature < 0 || *o.Temperature > 2) {
		return fmt.Errorf("temperature %v: want 0..2: %w", *o.Temperature, ErrInvalid)
	}
	if o.MaxTokens != nil && *o.MaxTokens <= 0 {
		return fmt.Errorf("max_tokens %d: want > 0: %w", *o.MaxTokens, ErrInvalid)
	}
	if o.BaseURL != "" && !strings.HasPrefix(o.BaseURL, "http://") && !strings.HasPrefix(o.BaseURL, "https://") {
		return fmt.Errorf("base_url %q: want an http(s) URL: %w", o.BaseURL, ErrInvalid)
	}
	return nil
}

// target is the provider and model a run sends an item to; provider is "" when no client
// speaks the captured provider's API and the run did not override it.
func (o Overrides) target(c *Capture) (provider, model string) {
	provider = o.Provider
	if provider == "" {
		provider = clientProvider(c.Provider)
		if o.BaseURL != "" && provider == ProviderOpenAI {
			provider = ProviderOpenAICompatible
		}
	}
	model = o.Model
	if model == "" {
		model = c.Model
	}
	return provider, model
}

// request builds the replayed request of a capture with the overrides applied.
func (o Overrides) request(c *Capture) Request {
	_, model := o.target(c)
	req := Request{Model: model, System: c.System, Temperature: c.Params.Temperature, TopP: c.Params.TopP,
		Stop: c.Params.Stop, Tools: c.Params.Tools, JSONObject: formatKind(c.Params.ResponseFormat) == "json_object"}
	if c.Params.MaxTokens != nil {
		req.MaxTokens = *c.Params.MaxTokens
	}
	req.Messages = make([]genai.Message, 0, len(c.Messages))
	for _, m := range c.Messages {
		if o.SystemPrompt != nil && (m.Role == "system" || m.Role == "developer") {
			continue
		}
		m.ToolCalls = append([]genai.ToolCall(nil), m.ToolCalls...)
		req.Messages = append(req.Messages, m)
	}
	if o.SystemPrompt != nil {
		req.System = strings.ReplaceAll(*o.SystemPrompt, TemplateVar, originalSystem(c))
	}
	if o.PromptTemplate != "" {
		for i := len(req.Messages) - 1; i >= 0; i-- {
			if req.Messages[i].Role == "user" {
				req.Messages[i].Content = strings.ReplaceAll(o.PromptTemplate, TemplateVar, req.Messages[i].Content)
				req.Messages[i].Parts = nil // the text now lives in Content
				break
			}
		}
	}
	if o.Temperature != nil {
		req.Temperature = o.Temperature
	}
	if o.MaxTokens != nil {
		req.MaxTokens = *o.MaxTokens
	}
	return req
}

// originalSystem is the captured system prompt: the system instructions and any system or
// developer messages, in order.
func originalSystem(c *Capture) string {
	parts := []string{}
	if c.System != "" {
		parts = append(parts, c.System)
	}
	for _, m := range c.Messages {
		if (m.Role == "system" || m.Role == "developer") && m.Content != "" {
			parts = append(parts, m.Content)
		}
	}
	return strings.Join(parts, "\n\n")
}

// lastUser is the text of the last user message.
func lastUser(ms []genai.Message) string {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Role == "user" {
			return ms[i].Content
		}
	}
	return ""
}

// Thresholds decide an item's verdict. Zero values take the defaults (DefaultThresholds).
type Thresholds struct {
	// MinSemantic is the lowest semantic similarity (0–100) that passes, when a semantic
	// score exists.
	MinSemantic float64 `json:"min_semantic_similarity"`
	// MinHash is the lowest hash similarity (0–100) that passes when there is no semantic
	// score.
	MinHash float64 `json:"min_hash_similarity"`
	// MaxCostIncreasePct and MaxLatencyIncreasePct are the largest increases that pass.
	MaxCostIncreasePct    float64 `json:"max_cost_increase_pct"`
	MaxLatencyIncreasePct float64 `json:"max_latency_increase_pct"`
	// ImprovementPct is the cost or latency decrease that makes a passing item improved.
	ImprovementPct float64 `json:"improvement_pct"`
}

// DefaultThresholds are the thresholds a run gets for the fields it leaves zero.
func DefaultThresholds() Thresholds {
	return Thresholds{MinSemantic: 80, MinHash: 50, MaxCostIncreasePct: 20, MaxLatencyIncreasePct: 50, ImprovementPct: 10}
}

func (t Thresholds) withDefaults() Thresholds {
	d := DefaultThresholds()
	for _, f := range []struct{ v, d *float64 }{
		{&t.MinSemantic, &d.MinSemantic}, {&t.MinHash, &d.MinHash}, {&t.MaxCostIncreasePct, &d.MaxCostIncreasePct},
		{&t.MaxLatencyIncreasePct, &d.MaxLatencyIncreasePct}, {&t.ImprovementPct, &d.ImprovementPct},
	} {
		if *f.v == 0 {
			*f.v = *f.d
		}
	}
	return t
}
