// Package replay re-runs captured production LLM calls against a new prompt or model and
// compares the answers: replay sets freeze copies of captured calls, runs apply overrides
// and call the provider (live) or transform the original answer (simulation, labelled as
// such everywhere), and each item gets cost, latency, token, prompt, diff, similarity and
// verdict results.
//
// Replay talks to providers, prices calls and scores similarity only through the small
// interfaces declared here (Providers, Pricer, HashFunc, SemanticFunc); cmd/lumina wires
// internal/llm, internal/cost and internal/quality in.
package replay

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// Capture is everything a replay of one captured LLM call needs, read from the span's
// normalized genai.Call whatever convention it arrived in. Replayable is false when the
// call cannot be replayed faithfully, and Reason says why.
type Capture struct {
	Provider  string          `json:"provider"` // as captured (genai.NormalizeProvider)
	Model     string          `json:"model"`    // the request model, else the response model
	Operation string          `json:"operation"`
	System    string          `json:"system,omitempty"`
	Messages  []genai.Message `json:"messages"`
	Params    Params          `json:"params"`

	// The original answer and what it took.
	Response      string           `json:"response"`
	ToolCalls     []genai.ToolCall `json:"tool_calls,omitempty"`
	ResponseModel string           `json:"response_model,omitempty"`
	Usage         genai.Usage      `json:"usage"`
	CostUSD       *float64         `json:"cost_usd"` // nil when the original was unpriced
	LatencyMS     float64          `json:"latency_ms"`

	Replayable bool   `json:"replayable"`
	Reason     string `json:"reason,omitempty"`
}

// Params are the captured request parameters a replay sends again.
type Params struct {
	Temperature *float64 `json:"temperature,omitempty"`
	MaxTokens   *int64   `json:"max_tokens,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	Stop        []string `json:"stop,omitempty"`
	// ResponseFormat is the captured response format ("text", "json_object", a schema…).
	ResponseFormat any    `json:"response_format,omitempty"`
	Tools          []Tool `json:"tools,omitempty"`
}

// Tool is a function the captured call offered the model; Parameters is its JSON Schema.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// replayableOps are the operations a chat replay reproduces.
var replayableOps = map[string]bool{"chat": true, "text_completion": true, "generate_content": true, "": true}

// CaptureSpan reads the Capture of one span. Spans that are not LLM calls, calls with no
// input messages, cut or unparsed content, non-text parts (images, audio, files), unreadable
// tool definitions or unsupported response formats are captured with Replayable false and
// the reason; the copy is kept either way, so a set shows what it could not replay.
func CaptureSpan(sp *genai.Span) Capture {
	c := Capture{}
	call := sp.GenAI
	if call == nil {
		c.Reason = "not a GenAI span"
		return c
	}
	c.Provider = genai.NormalizeProvider(call.Provider)
	c.Model = call.RequestModel
	if c.Model == "" {
		c.Model = call.ResponseModel
	}
	c.Operation = call.Operation
	c.System = call.SystemInstructions
	if call.Sources["system_instructions"] == "input_messages" {
		c.System = "" // the system messages are in Messages already; sending both would say it twice
	}
	c.Messages = append([]genai.Message(nil), call.InputMessages...)
	c.ResponseModel = call.ResponseModel
	c.Usage = call.Usage
	c.CostUSD = call.Cost.TotalUSD
	c.LatencyMS = float64(sp.Duration()) / float64(time.Millisecond)
	for _, m := range call.OutputMessages {
		if m.Role != "" && m.Role != "assistant" {
			continue
		}
		c.Response += m.Content
		c.ToolCalls = append(c.ToolCalls, m.ToolCalls...)
	}
	params, perr := captureParams(call)
	c.Params = params

	switch {
	case call.Type != genai.TypeLLM:
		c.Reason = fmt.Sprintf("a %s span, not an LLM call", call.Type)
	case !replayableOps[call.Operation]:
		c.Reason = fmt.Sprintf("operation %q is not a chat or completion call", call.Operation)
	case c.Model == "":
		c.Reason = "no model captured"
	case len(c.Messages) == 0:
		c.Reason = "no input messages captured (content capture may be off in the instrumentation)"
	case call.ContentPartial:
		c.Reason = "the producer dropped attributes, so the messages may be incomplete"
	case perr != nil:
		c.Reason = perr.Error()
	default:
		c.Reason = messagesProblem(c.Messages)
	}
	c.Replayable = c.Reason == ""
	return c
}

// messagesProblem says why messages cannot be sent again as they are, or "".
func messagesProblem(ms []genai.Message) string {
	for i, m := range ms {
		if m.Raw != "" {
			return fmt.Sprintf("message %d could not be parsed completely (it was cut or malformed)", i)
		}
		for _, p := range m.Parts {
			pm, ok := p.(map[string]any)
			if !ok {
				continue
			}
			switch t, _ := pm["type"].(string); t {
			case "", "text", "tool_call", "tool_call_response", "tool_use", "tool_result", "reasoning", "thinking":
			default:
				return fmt.Sprintf("message %d has a %q part, which replay cannot send yet (text and tool calls only)", i, t)
			}
		}
	}
	return ""
}

// captureParams reads the request parameters and tool definitions. The error says what
// makes the call not faithfully replayable.
func captureParams(call *genai.Call) (Params, error) {
	var p Params
	rp := call.RequestParams
	if v, ok := number(rp["temperature"]); ok {
		p.Temperature = &v
	}
	if v, ok := number(rp["top_p"]); ok {
		p.TopP = &v
	}
	if v, ok := number(rp["max_tokens"]); ok && v > 0 {
		n := int64(v)
		p.MaxTokens = &n
	}
	switch s := rp["stop"].(type) {
	case []string:
		p.Stop = append([]string(nil), s...)
	case []any:
		for _, e := range s {
			if str, ok := e.(string); ok {
				p.Stop = append(p.Stop, str)
			}
		}
	case string:
		p.Stop = []string{s}
	}
	var problem error
	if f, ok := rp["response_format"]; ok && f != nil {
		p.ResponseFormat = f
		if k := formatKind(f); k != "text" && k != "json_object" {
			problem = fmt.Errorf("response format %q is not supported by the replay client yet (text and json_object only)", k)
		}
	}
	tools, err := readTools(call.ToolDefinitions)
	p.Tools = tools
	if err != nil && problem == nil {
		problem = err
	}
	return p, problem
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// formatKind names a response format: "text", "json_object", "json_schema" or what it says.
func formatKind(f any) string {
	switch x := f.(type) {
	case string:
		switch strings.ToLower(x) {
		case "", "text", "text/plain":
			return "text"
		case "json", "json_object", "application/json":
			return "json_object"
		}
		return x
	case map[string]any:
		if t, ok := x["type"].(string); ok {
			return formatKind(t)
		}
	}
	return fmt.Sprint(f)
}

// readTools reads tool definitions in the OpenAI ({type: function, function: {…}}),
// Anthropic ({name, input_schema}) and semconv ({name, parameters}) shapes.
func readTools(defs any) ([]Tool, error) {
	if defs == nil {
		return nil, nil
	}
	if s, ok := defs.(string); ok {
		if err := json.Unmarshal([]byte(s), &defs); err != nil {
			return nil, fmt.Errorf("tool definitions are not JSON: %w", err)
		}
	}
	list, ok := defs.([]any)
	if !ok {
		return nil, fmt.Errorf("tool definitions are a %T, not a list", defs)
	}
	out := make([]Tool, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("tool definition %d is not an object", i)
		}
		if fn, ok := m["function"].(map[string]any); ok {
			m = fn
		}
		name, _ := m["name"].(string)
		if name == "" {
			return nil, fmt.Errorf("tool definition %d has no name", i)
		}
		t := Tool{Name: name}
		t.Description, _ = m["description"].(string)
		schema := m["parameters"]
		if schema == nil {
			schema = m["input_schema"]
		}
		if schema != nil {
			b, err := json.Marshal(schema)
			if err != nil {
				return nil, fmt.Errorf("tool %q schema: %w", name, err)
			}
			t.Parameters = b
		}
		out = append(out, t)
	}
	return out, nil
}
