// Package genai holds Lumina's domain types (spans, traces, GenAI calls, usage, cost, messages)
// and the normalization of OTLP spans from every GenAI convention into them.
//
// It imports nothing internal: every other package speaks in these types.
package genai

import "time"

// Span types: what a span is, from Lumina's point of view.
const (
	TypeLLM       = "llm"
	TypeEmbedding = "embedding"
	TypeAgent     = "agent"
	TypeTool      = "tool"
	TypeRetrieval = "retrieval"
	TypeWorkflow  = "workflow"
	TypeOther     = "other"
)

// Span status codes, as stored and served (lower-case OTLP names).
const (
	StatusUnset = "unset"
	StatusOK    = "ok"
	StatusError = "error"
)

// Span is one stored span: every span is kept, GenAI or not, so trace trees stay whole.
// ProjectID, TraceID and SpanID together identify it; writes are upserts on that key.
type Span struct {
	ProjectID     string
	TraceID       string // 32 lower-case hex characters
	SpanID        string // 16 lower-case hex characters
	ParentSpanID  string // empty for a root span
	TraceState    string
	Name          string
	Kind          string // internal, server, client, producer, consumer, unspecified
	ServiceName   string
	StartTime     time.Time
	EndTime       time.Time
	StatusCode    string // StatusUnset, StatusOK or StatusError
	StatusMessage string

	Attributes        map[string]any
	Resource          map[string]any
	ScopeName         string
	ScopeVersion      string
	Events            []Event
	Links             []Link
	DroppedAttributes uint32
	DroppedEvents     uint32
	DroppedLinks      uint32
	ResourceSchemaURL string
	ScopeSchemaURL    string

	// GenAI is the normalized view of a GenAI span; nil for spans that are not GenAI.
	GenAI *Call
}

// Duration is the span's length; zero when the end is before the start.
func (s *Span) Duration() time.Duration {
	if s.EndTime.Before(s.StartTime) {
		return 0
	}
	return s.EndTime.Sub(s.StartTime)
}

// Event is a span event.
type Event struct {
	Time              time.Time      `json:"time"`
	Name              string         `json:"name"`
	Attributes        map[string]any `json:"attributes,omitempty"`
	DroppedAttributes uint32         `json:"dropped_attributes_count,omitempty"`
}

// Link is a span link.
type Link struct {
	TraceID           string         `json:"trace_id"`
	SpanID            string         `json:"span_id"`
	TraceState        string         `json:"trace_state,omitempty"`
	Attributes        map[string]any `json:"attributes,omitempty"`
	DroppedAttributes uint32         `json:"dropped_attributes_count,omitempty"`
}
