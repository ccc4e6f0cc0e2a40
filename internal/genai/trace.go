package genai

import (
	"slices"
	"time"
)

// Trace is the rollup of a trace's spans: what the trace list shows. It is recomputed from
// all of the trace's spans on every write, so late and out-of-order spans are fine.
type Trace struct {
	ProjectID    string
	TraceID      string
	ServiceName  string // the root span's service (or the earliest span's when no root arrived)
	Name         string // the root span's name
	StartTime    time.Time
	EndTime      time.Time
	SpanCount    int
	ErrorCount   int
	LLMCallCount int
	Status       string // StatusError when any span failed, else StatusOK
	Models       []string
	Services     []string
	Usage        TraceUsage
	// CostUSD sums the counted, priced calls; nil when every counted call is unpriced.
	CostUSD       *float64
	UnpricedCalls int
	HasRoot       bool
	SessionID     string
	UserID        string
	Environment   string
	Tags          []string
}

// Duration is the wall time from the earliest start to the latest end.
func (t *Trace) Duration() time.Duration {
	if t.EndTime.Before(t.StartTime) {
		return 0
	}
	return t.EndTime.Sub(t.StartTime)
}

// TraceUsage is the sum of the counted spans' usage.
type TraceUsage struct {
	InputTokens      int64
	OutputTokens     int64
	CacheReadTokens  int64
	CacheWriteTokens int64
	ReasoningTokens  int64
	TotalTokens      int64
}

// SpanSummary is the part of a span that a trace rollup needs: stores load these (not whole
// spans) for the traces a batch touched and pass them to Rollup.
type SpanSummary struct {
	SpanID       string
	ParentSpanID string
	Name         string
	ServiceName  string
	StartTime    time.Time
	EndTime      time.Time
	StatusCode   string
	Type         string // empty for non-GenAI spans
	Model        string
	Usage        Usage
	CostUSD      *float64
	CostSource   string
	SessionID    string
	UserID       string
	Environment  string
	Tags         []string
	// Counted is an output of Rollup.
	Counted bool
}

// Summarize takes the rollup inputs from a span.
func Summarize(s *Span) SpanSummary {
	sum := SpanSummary{
		SpanID: s.SpanID, ParentSpanID: s.ParentSpanID, Name: s.Name, ServiceName: s.ServiceName,
		StartTime: s.StartTime, EndTime: s.EndTime, StatusCode: s.StatusCode,
	}
	if c := s.GenAI; c != nil {
		sum.Type, sum.Model, sum.Usage = c.Type, c.Model(), c.Usage
		sum.CostUSD, sum.CostSource, sum.Counted = c.Cost.TotalUSD, c.Cost.Source, c.Counted
		sum.SessionID, sum.UserID, sum.Environment, sum.Tags = c.SessionID, c.UserID, c.Environment, c.Tags
	}
	return sum
}

// Rollup computes a trace's rollup from all of its spans and sets each summary's Counted
// flag: a span's usage counts only when no descendant carries usage, so a wrapper over an
// SDK span, or an agent span that repeats its children's totals, is counted once, on the
// innermost span. An aggregate counts only when nothing below it reports usage.
func Rollup(projectID, traceID string, spans []SpanSummary) Trace {
	t := Trace{ProjectID: projectID, TraceID: traceID, SpanCount: len(spans), Status: StatusOK}
	if len(spans) == 0 {
		return t
	}
	index := make(map[string]int, len(spans))
	for i := range spans {
		index[spans[i].SpanID] = i
	}
	// Mark every ancestor of a span with usage (or of a model call) once, walking up.
	belowUsage := make([]bool, len(spans))
	belowModel := make([]bool, len(spans))
	for i := range spans {
		usage, model := spans[i].Usage.Reported, isModelType(spans[i].Type)
		if !usage && !model {
			continue
		}
		seen := 0
		for p, ok := index[spans[i].ParentSpanID]; ok && seen < len(spans); p, ok = index[spans[p].ParentSpanID] {
			seen++ // guards against parent cycles in hostile input
			if (!usage || belowUsage[p]) && (!model || belowModel[p]) {
				break
			}
			belowUsage[p] = belowUsage[p] || usage
			belowModel[p] = belowModel[p] || model
		}
	}
	models, services, tags := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var cost float64
	priced := false
	root := -1
	for i := range spans {
		s := &spans[i]
		if i == 0 || s.StartTime.Before(t.StartTime) {
			t.StartTime = s.StartTime
		}
		if s.EndTime.After(t.EndTime) {
			t.EndTime = s.EndTime
		}
		if s.StatusCode == StatusError {
			t.ErrorCount++
			t.Status = StatusError
		}
		if s.ServiceName != "" {
			services[s.ServiceName] = true
		}
		if s.ParentSpanID == "" || !contains(index, s.ParentSpanID) {
			// A true root wins over a span whose parent has not arrived yet; the earliest wins ties.
			isRoot := s.ParentSpanID == ""
			if root < 0 || (isRoot && !t.HasRoot) || (isRoot == t.HasRoot && s.StartTime.Before(spans[root].StartTime)) {
				root, t.HasRoot = i, isRoot
			}
		}
		if isModelType(s.Type) && !belowModel[i] {
			t.LLMCallCount++
			if s.Model != "" {
				models[s.Model] = true
			}
		}
		firstString(&t.SessionID, s.SessionID)
		firstString(&t.UserID, s.UserID)
		firstString(&t.Environment, s.Environment)
		for _, tag := range s.Tags {
			tags[tag] = true
		}
		s.Counted = s.Usage.Reported && !belowUsage[i]
		if !s.Counted {
			continue
		}
		u := s.Usage
		t.Usage.InputTokens += u.InputTokens
		t.Usage.OutputTokens += u.OutputTokens
		t.Usage.CacheReadTokens += u.CacheReadTokens
		t.Usage.CacheWriteTokens += u.CacheWriteTokens
		t.Usage.ReasoningTokens += u.ReasoningTokens
		t.Usage.TotalTokens += u.TotalTokens
		if s.CostUSD != nil {
			cost += *s.CostUSD
			priced = true
		} else {
			t.UnpricedCalls++
		}
	}
	if root >= 0 {
		t.Name, t.ServiceName = spans[root].Name, spans[root].ServiceName
	}
	if priced || t.UnpricedCalls == 0 {
		t.CostUSD = &cost
	}
	t.Models, t.Services, t.Tags = sortedKeys(models), sortedKeys(services), sortedKeys(tags)
	return t
}

func isModelType(typ string) bool { return typ == TypeLLM || typ == TypeEmbedding }

func contains(m map[string]int, k string) bool { _, ok := m[k]; return ok }

func firstString(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
