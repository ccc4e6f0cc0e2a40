package genai

// Call is the normalized GenAI view of a span: what kind of GenAI work it is, which provider
// and model served it, what it used and cost, and what was said.
type Call struct {
	Type      string `json:"type"`      // TypeLLM, TypeEmbedding, TypeAgent, TypeTool, TypeRetrieval, TypeWorkflow
	Operation string `json:"operation"` // chat, text_completion, generate_content, embeddings, execute_tool, invoke_agent, retrieval, workflow, rerank…

	Provider      string `json:"provider,omitempty"`
	RequestModel  string `json:"request_model,omitempty"`
	ResponseModel string `json:"response_model,omitempty"`
	ResponseID    string `json:"response_id,omitempty"`
	ServerAddress string `json:"server_address,omitempty"`

	Usage Usage `json:"usage"`
	// Counted reports whether this span's usage and cost count toward its trace's totals:
	// only the innermost span carrying usage counts, so wrappers and agent aggregates never
	// double count. The store recomputes it whenever a span of the trace arrives.
	Counted bool `json:"counted"`
	Cost    Cost `json:"cost"`

	InputMessages      []Message      `json:"input_messages,omitempty"`
	OutputMessages     []Message      `json:"output_messages,omitempty"`
	SystemInstructions string         `json:"system_instructions,omitempty"`
	ToolDefinitions    any            `json:"tool_definitions,omitempty"`
	FinishReasons      []string       `json:"finish_reasons,omitempty"`
	RequestParams      map[string]any `json:"request_params,omitempty"` // temperature, max_tokens, top_p, stop, seed…

	Streaming        bool     `json:"streaming,omitempty"`
	TimeToFirstToken *float64 `json:"time_to_first_token_ms,omitempty"`

	ErrorType    string `json:"error_type,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`

	SessionID   string            `json:"session_id,omitempty"`
	UserID      string            `json:"user_id,omitempty"`
	Environment string            `json:"environment,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`

	AgentName string `json:"agent_name,omitempty"`
	Tool      *Tool  `json:"tool,omitempty"`

	RetrievalQuery     string     `json:"retrieval_query,omitempty"`
	RetrievalDocuments []Document `json:"retrieval_documents,omitempty"`
	// DataSource names what a retrieval span searched (gen_ai.data_source.id, db.system…).
	DataSource string `json:"data_source,omitempty"`

	// Conventions lists the conventions detected on the span (otel_genai, openinference,
	// openllmetry, vercel_ai, langfuse, lumina…), in the order they were found.
	Conventions []string `json:"conventions,omitempty"`
	// Sources maps a normalized field to the attribute it was read from, so every number
	// explains itself ("input_tokens": "gen_ai.usage.input_tokens").
	Sources map[string]string `json:"sources,omitempty"`
	// ContentPartial is set when the producer dropped attributes, so messages may be cut.
	ContentPartial bool `json:"content_partial,omitempty"`

	Quality *Quality `json:"quality,omitempty"` // tier-1/tier-2 quality assessment (quality.go)
}

// IsModelCall reports whether the call is a model invocation (chat, completion, embedding):
// the only kind whose usage counts toward trace totals.
func (c *Call) IsModelCall() bool {
	return c != nil && (c.Type == TypeLLM || c.Type == TypeEmbedding)
}

// Model is the response model when known, else the request model.
func (c *Call) Model() string {
	if c.ResponseModel != "" {
		return c.ResponseModel
	}
	return c.RequestModel
}

// Cache accounting: whether a source reported input tokens with or without cache tokens.
const (
	CacheInclusive = "inclusive" // input_tokens already contained cache read + write (OTel rule)
	CacheExclusive = "exclusive" // input_tokens excluded them (raw Anthropic); Lumina added them
	CacheNone      = ""          // no cache tokens reported
)

// Usage is a call's token usage. InputTokens always includes cache read and cache write
// tokens (the OTel rule), whatever the source reported; CacheAccounting records what the
// source did so the numbers explain themselves.
type Usage struct {
	InputTokens        int64  `json:"input_tokens"`
	OutputTokens       int64  `json:"output_tokens"` // includes reasoning tokens
	CacheReadTokens    int64  `json:"cache_read_tokens"`
	CacheWriteTokens   int64  `json:"cache_write_tokens"`
	CacheWrite5mTokens int64  `json:"cache_write_5m_tokens,omitempty"`
	CacheWrite1hTokens int64  `json:"cache_write_1h_tokens,omitempty"`
	ReasoningTokens    int64  `json:"reasoning_tokens"`
	TotalTokens        int64  `json:"total_tokens"`
	TotalDerived       bool   `json:"total_derived,omitempty"` // total computed as input+output
	CacheAccounting    string `json:"cache_accounting,omitempty"`
	// Reported is set when the span carried any usage attribute at all.
	Reported bool `json:"reported"`
}

// Cost sources.
const (
	CostComputed = "computed" // from Lumina's price table (or a custom price)
	CostClient   = "client"   // as reported by the client; no price known to Lumina
	CostUnpriced = "unpriced" // no price known and none reported: never shown as $0
)

// Cost is a call's cost in USD and where it came from. TotalUSD is nil when unpriced.
type Cost struct {
	TotalUSD      *float64 `json:"total_usd"`
	InputUSD      float64  `json:"input_usd,omitempty"`
	OutputUSD     float64  `json:"output_usd,omitempty"`
	CacheReadUSD  float64  `json:"cache_read_usd,omitempty"`
	CacheWriteUSD float64  `json:"cache_write_usd,omitempty"`
	ReasoningUSD  float64  `json:"reasoning_usd,omitempty"`
	Source        string   `json:"source,omitempty"`   // CostComputed, CostClient, CostUnpriced
	PriceID       string   `json:"price_id,omitempty"` // which price row matched
	PriceSource   string   `json:"price_source,omitempty"`
	Tier          string   `json:"tier,omitempty"` // long-context tier applied, if any
	// ClientUSD is the cost the client reported, kept beside the computed one.
	ClientUSD *float64 `json:"client_usd,omitempty"`
}

// Message is one chat message. Content is its text; richer parts (tool calls, images,
// reasoning) are kept under Parts; Raw keeps an original value that could not be parsed.
type Message struct {
	Role         string     `json:"role"`
	Content      string     `json:"content"`
	Name         string     `json:"name,omitempty"`
	ToolCalls    []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID   string     `json:"tool_call_id,omitempty"`
	Parts        []any      `json:"parts,omitempty"`
	FinishReason string     `json:"finish_reason,omitempty"`
	Raw          string     `json:"raw,omitempty"`
	// Source says where the message came from when it was not a span attribute
	// (for example "log:gen_ai.user.message").
	Source string `json:"source,omitempty"`
}

// ToolCall is a tool invocation requested by the model.
type ToolCall struct {
	ID        string `json:"id,omitempty"`
	Name      string `json:"name"`
	Arguments string `json:"arguments,omitempty"`
}

// Tool describes the tool a tool span executed.
type Tool struct {
	Name      string `json:"name,omitempty"`
	CallID    string `json:"call_id,omitempty"`
	Arguments string `json:"arguments,omitempty"`
	Result    string `json:"result,omitempty"`
}

// Document is one retrieved document.
type Document struct {
	ID       string         `json:"id,omitempty"`
	Content  string         `json:"content,omitempty"`
	Score    *float64       `json:"score,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
}
