package genai

import "time"

// LogRecord is one stored OTLP log record. GenAI event records (gen_ai.user.message,
// gen_ai.choice, gen_ai.client.inference.operation.details…) carry prompt and completion
// content for the span named by TraceID/SpanID; they are joined to it when the trace is read,
// whichever arrived first, and stay visible when the span never arrives.
type LogRecord struct {
	ProjectID      string
	ID             string // content hash: redelivery never stores a record twice
	TraceID        string // may be empty
	SpanID         string // may be empty
	Time           time.Time
	ObservedTime   time.Time
	EventName      string
	SeverityText   string
	SeverityNumber int32
	ServiceName    string
	ScopeName      string
	Body           any
	Attributes     map[string]any
	Resource       map[string]any
	// Messages is the GenAI content the record carries, already normalized; empty for
	// records that are not GenAI events.
	Messages []Message
	// Output tells whether Messages are the call's output (completions) rather than its input.
	Output bool
	// OutputMessages holds the output of a record that carries both directions
	// (gen_ai.client.inference.operation.details): Messages is then its input and Output is
	// false.
	OutputMessages []Message `json:",omitempty"`
	// SystemInstructions is the system prompt a record carried (gen_ai.system.message, or
	// gen_ai.system_instructions on an operation.details record).
	SystemInstructions string `json:",omitempty"`
	// ErrorType and ErrorMessage come from gen_ai.client.operation.exception records.
	ErrorType    string `json:",omitempty"`
	ErrorMessage string `json:",omitempty"`
}
