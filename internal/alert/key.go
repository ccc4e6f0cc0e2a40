package alert

import (
	"github.com/use-lumina/lumina/internal/genai"
)

// Key is what a baseline and a rolling window belong to: a project's endpoint (the LLM
// span's name, or the root span's name for whole requests) on one service and model.
type Key struct {
	Project  string
	Service  string
	Endpoint string
	Model    string // empty for root spans that are not model calls
}

// String is the key as alerts show it and dedup keys contain it.
func (k Key) String() string {
	s := k.Service + " / " + k.Endpoint
	if k.Model != "" {
		s += " / " + k.Model
	}
	return s
}

// sample is what one request contributes to its key.
type sample struct {
	traceID, spanID string
	userID          string
	at              int64 // Unix nanoseconds of the span's end
	cost            float64
	latencyMS       float64
	tokens          float64
	quality         float64
	hasCost         bool
	hasTokens       bool
	hasQuality      bool
	failed          bool
}

// sampleOf returns the key and sample of a span, and false for spans that are neither a
// model call nor a root span.
func sampleOf(s *genai.Span) (Key, sample, bool) {
	c := s.GenAI
	model := c.IsModelCall()
	if !model && s.ParentSpanID != "" {
		return Key{}, sample{}, false
	}
	k := Key{Project: s.ProjectID, Service: s.ServiceName, Endpoint: s.Name}
	end := s.EndTime
	if end.IsZero() {
		end = s.StartTime
	}
	sm := sample{
		traceID: s.TraceID, spanID: s.SpanID, at: end.UnixNano(),
		latencyMS: float64(s.Duration()) / 1e6, failed: s.StatusCode == genai.StatusError,
	}
	if model {
		k.Model = c.Model()
		sm.userID = c.UserID
		if c.Cost.TotalUSD != nil {
			sm.cost, sm.hasCost = *c.Cost.TotalUSD, true
		}
		if c.Usage.Reported {
			t := c.Usage.TotalTokens
			if t == 0 {
				t = c.Usage.InputTokens + c.Usage.OutputTokens
			}
			sm.tokens, sm.hasTokens = float64(t), true
		}
		if c.ErrorType != "" {
			sm.failed = true
		}
	}
	if c != nil && c.Quality != nil && c.Quality.Score != nil {
		sm.quality, sm.hasQuality = *c.Quality.Score, true
	}
	return k, sm, true
}
