package api

import (
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// The JSON shapes below are part of Lumina's stable contract (DESIGN.md §11): fields may
// be added, never renamed or removed.

type traceList struct {
	Traces     []traceJSON `json:"traces"`
	NextCursor string      `json:"next_cursor"`
}

type traceJSON struct {
	TraceID          string    `json:"trace_id"`
	ServiceName      string    `json:"service_name"`
	Name             string    `json:"name"`
	StartTime        time.Time `json:"start_time"`
	EndTime          time.Time `json:"end_time"`
	DurationMS       float64   `json:"duration_ms"`
	SpanCount        int       `json:"span_count"`
	ErrorCount       int       `json:"error_count"`
	LLMCallCount     int       `json:"llm_call_count"`
	InputTokens      int64     `json:"input_tokens"`
	OutputTokens     int64     `json:"output_tokens"`
	CacheReadTokens  int64     `json:"cache_read_tokens"`
	CacheWriteTokens int64     `json:"cache_write_tokens"`
	ReasoningTokens  int64     `json:"reasoning_tokens"`
	TotalTokens      int64     `json:"total_tokens"`
	CostUSD          *float64  `json:"cost_usd"`
	UnpricedCalls    int       `json:"unpriced_calls"`
	Status           string    `json:"status"`
	Models           []string  `json:"models"`
	Services         []string  `json:"services"`
	SessionID        string    `json:"session_id,omitempty"`
	UserID           string    `json:"user_id,omitempty"`
	Environment      string    `json:"environment,omitempty"`
	Tags             []string  `json:"tags,omitempty"`
	HasRoot          bool      `json:"has_root"`
	// Quality is the trace's scored LLM calls; absent when none is scored.
	Quality *traceQualityJSON `json:"quality,omitempty"`
}

type traceQualityJSON struct {
	ScoredCalls int64   `json:"scored_calls"`
	Mean        float64 `json:"mean"`
	Min         float64 `json:"min"`
}

// withQuality sets t.Quality from the store's reading of the trace, if it has one.
func (t *traceJSON) withQuality(q map[string]store.TraceQuality) {
	if tq, ok := q[t.TraceID]; ok {
		t.Quality = &traceQualityJSON{ScoredCalls: tq.Scored, Mean: tq.Mean, Min: tq.Min}
	}
}

func newTraceJSON(t *genai.Trace) traceJSON {
	return traceJSON{
		TraceID: t.TraceID, ServiceName: t.ServiceName, Name: t.Name,
		StartTime: t.StartTime, EndTime: t.EndTime, DurationMS: ms(t.Duration()),
		SpanCount: t.SpanCount, ErrorCount: t.ErrorCount, LLMCallCount: t.LLMCallCount,
		InputTokens: t.Usage.InputTokens, OutputTokens: t.Usage.OutputTokens,
		CacheReadTokens: t.Usage.CacheReadTokens, CacheWriteTokens: t.Usage.CacheWriteTokens,
		ReasoningTokens: t.Usage.ReasoningTokens, TotalTokens: t.Usage.TotalTokens,
		CostUSD: t.CostUSD, UnpricedCalls: t.UnpricedCalls, Status: t.Status,
		Models: nonNil(t.Models), Services: nonNil(t.Services),
		SessionID: t.SessionID, UserID: t.UserID, Environment: t.Environment, Tags: t.Tags,
		HasRoot: t.HasRoot,
	}
}

type traceDetailJSON struct {
	traceJSON
	Spans []spanJSON `json:"spans"`
	Logs  []logJSON  `json:"logs,omitempty"`
}

type spanJSON struct {
	TraceID       string         `json:"trace_id"`
	SpanID        string         `json:"span_id"`
	ParentSpanID  string         `json:"parent_span_id"`
	TraceState    string         `json:"trace_state,omitempty"`
	Name          string         `json:"name"`
	Kind          string         `json:"kind"`
	ServiceName   string         `json:"service_name"`
	StartTime     time.Time      `json:"start_time"`
	EndTime       time.Time      `json:"end_time"`
	DurationMS    float64        `json:"duration_ms"`
	Status        string         `json:"status"`
	StatusMessage string         `json:"status_message,omitempty"`
	Attributes    map[string]any `json:"attributes"`
	Resource      map[string]any `json:"resource"`
	Scope         scopeJSON      `json:"scope"`
	Events        []genai.Event  `json:"events"`
	Links         []genai.Link   `json:"links"`
	Dropped       *droppedJSON   `json:"dropped,omitempty"`
	GenAI         *genaiJSON     `json:"genai"`
}

type scopeJSON struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

type droppedJSON struct {
	Attributes uint32 `json:"attributes"`
	Events     uint32 `json:"events"`
	Links      uint32 `json:"links"`
}

// genaiJSON flattens the call's usage and cost beside its other fields, as the contract
// names them; the full breakdown stays under "usage" and "cost".
type genaiJSON struct {
	*genai.Call
	InputTokens      int64           `json:"input_tokens"`
	OutputTokens     int64           `json:"output_tokens"`
	CacheReadTokens  int64           `json:"cache_read_tokens"`
	CacheWriteTokens int64           `json:"cache_write_tokens"`
	ReasoningTokens  int64           `json:"reasoning_tokens"`
	TotalTokens      int64           `json:"total_tokens"`
	CostUSD          *float64        `json:"cost_usd"`
	CostSource       string          `json:"cost_source"`
	InputMessages    []genai.Message `json:"input_messages"`
	OutputMessages   []genai.Message `json:"output_messages"`
}

func newSpanJSON(s *genai.Span) spanJSON {
	out := spanJSON{
		TraceID: s.TraceID, SpanID: s.SpanID, ParentSpanID: s.ParentSpanID, TraceState: s.TraceState,
		Name: s.Name, Kind: s.Kind, ServiceName: s.ServiceName,
		StartTime: s.StartTime, EndTime: s.EndTime, DurationMS: ms(s.Duration()),
		Status: s.StatusCode, StatusMessage: s.StatusMessage,
		Attributes: nonNilMap(s.Attributes), Resource: nonNilMap(s.Resource),
		Scope:  scopeJSON{Name: s.ScopeName, Version: s.ScopeVersion},
		Events: nonNil(s.Events), Links: nonNil(s.Links),
	}
	if s.DroppedAttributes+s.DroppedEvents+s.DroppedLinks > 0 {
		out.Dropped = &droppedJSON{s.DroppedAttributes, s.DroppedEvents, s.DroppedLinks}
	}
	if c := s.GenAI; c != nil {
		out.GenAI = &genaiJSON{
			Call:        c,
			InputTokens: c.Usage.InputTokens, OutputTokens: c.Usage.OutputTokens,
			CacheReadTokens: c.Usage.CacheReadTokens, CacheWriteTokens: c.Usage.CacheWriteTokens,
			ReasoningTokens: c.Usage.ReasoningTokens, TotalTokens: c.Usage.TotalTokens,
			CostUSD: c.Cost.TotalUSD, CostSource: c.Cost.Source,
			InputMessages: nonNil(c.InputMessages), OutputMessages: nonNil(c.OutputMessages),
		}
	}
	return out
}

type logJSON struct {
	ID             string          `json:"id"`
	TraceID        string          `json:"trace_id,omitempty"`
	SpanID         string          `json:"span_id,omitempty"`
	Time           time.Time       `json:"time"`
	ObservedTime   time.Time       `json:"observed_time"`
	EventName      string          `json:"event_name,omitempty"`
	SeverityText   string          `json:"severity_text,omitempty"`
	SeverityNumber int32           `json:"severity_number,omitempty"`
	ServiceName    string          `json:"service_name"`
	ScopeName      string          `json:"scope_name,omitempty"`
	Body           any             `json:"body"`
	Attributes     map[string]any  `json:"attributes"`
	Messages       []genai.Message `json:"messages,omitempty"`
	Output         bool            `json:"output,omitempty"`
}

func newLogJSON(r *genai.LogRecord) logJSON {
	return logJSON{
		ID: r.ID, TraceID: r.TraceID, SpanID: r.SpanID, Time: r.Time, ObservedTime: r.ObservedTime,
		EventName: r.EventName, SeverityText: r.SeverityText, SeverityNumber: r.SeverityNumber,
		ServiceName: r.ServiceName, ScopeName: r.ScopeName, Body: r.Body,
		Attributes: nonNilMap(r.Attributes), Messages: r.Messages, Output: r.Output,
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
