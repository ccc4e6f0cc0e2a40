package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// Projects used by the suite.
const (
	projectA = "proj-a"
	projectB = "proj-b"
)

// base is the suite's fixed time origin; its odd nanoseconds catch lossy time storage.
var base = time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.UTC)

// at is base plus d.
func at(d time.Duration) time.Time { return base.Add(d) }

// traceID returns a valid 32-hex-digit trace id for n.
func traceID(n int) string { return fmt.Sprintf("%032x", 0xa000_0000+n) }

// spanID returns a valid 16-hex-digit span id for n.
func spanID(n int) string { return fmt.Sprintf("%016x", 0xb000_0000+n) }

func f64(v float64) *float64 { return &v }

// span is a plain span of trace tr in project p, starting at start and lasting d.
func span(p string, tr, id, parent int, name string, start, d time.Duration) genai.Span {
	s := genai.Span{
		ProjectID:   p,
		TraceID:     traceID(tr),
		SpanID:      spanID(id),
		Name:        name,
		Kind:        "internal",
		ServiceName: "svc",
		StartTime:   at(start),
		EndTime:     at(start + d),
		StatusCode:  genai.StatusOK,
	}
	if parent != 0 {
		s.ParentSpanID = spanID(parent)
	}
	return s
}

// llm is a model-call span with usage in, out and cost (nil: unpriced).
func llm(p string, tr, id, parent int, model string, in, out int64, cost *float64) genai.Span {
	s := span(p, tr, id, parent, "chat "+model, time.Duration(id)*time.Millisecond, 100*time.Millisecond)
	s.GenAI = &genai.Call{
		Type: genai.TypeLLM, Operation: "chat", Provider: "openai", RequestModel: model,
		Usage: genai.Usage{InputTokens: in, OutputTokens: out, TotalTokens: in + out, Reported: true},
		Cost:  genai.Cost{TotalUSD: cost, Source: genai.CostComputed},
	}
	if cost == nil {
		s.GenAI.Cost.Source = genai.CostUnpriced
	}
	return s
}

// agent is an agent span, with aggregate usage when in+out > 0.
func agent(p string, tr, id, parent int, in, out int64) genai.Span {
	s := span(p, tr, id, parent, "invoke_agent", time.Duration(id)*time.Millisecond, time.Second)
	s.GenAI = &genai.Call{Type: genai.TypeAgent, Operation: "invoke_agent", AgentName: "planner"}
	if in+out > 0 {
		s.GenAI.Usage = genai.Usage{InputTokens: in, OutputTokens: out, TotalTokens: in + out, Reported: true}
		s.GenAI.Cost = genai.Cost{TotalUSD: f64(float64(in+out) / 1e6), Source: genai.CostClient}
	}
	return s
}

// write writes one batch and fails the test on error.
func write(t *testing.T, s store.Store, spans []genai.Span, logs ...genai.LogRecord) {
	t.Helper()
	if err := s.Write(context.Background(), store.Batch{Spans: spans, Logs: logs}); err != nil {
		t.Fatalf("Write(%d spans, %d logs): %v", len(spans), len(logs), err)
	}
}

// detail reads one trace and fails the test on error.
func detail(t *testing.T, s store.Store, project string, tr int) store.TraceDetail {
	t.Helper()
	d, err := s.Trace(context.Background(), project, traceID(tr))
	if err != nil {
		t.Fatalf("Trace(%s, %s): %v", project, traceID(tr), err)
	}
	return d
}

// expectedTrace is the rollup the store must produce for spans, and the spans with Counted
// set as the rollup decided.
func expectedTrace(project string, tr int, spans []genai.Span) (genai.Trace, []genai.Span) {
	sums := make([]genai.SpanSummary, len(spans))
	for i := range spans {
		sums[i] = genai.Summarize(&spans[i])
	}
	trace := genai.Rollup(project, traceID(tr), sums)
	out := make([]genai.Span, len(spans))
	for i, s := range spans {
		if s.GenAI != nil {
			c := *s.GenAI
			c.Counted = sums[i].Counted
			s.GenAI = &c
		}
		out[i] = s
	}
	return trace, out
}

// sortSpans orders spans as Trace returns them: by start time, then span id.
func sortSpans(spans []genai.Span) []genai.Span {
	out := append([]genai.Span(nil), spans...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && spanLess(out[j], out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func spanLess(a, b genai.Span) bool {
	if !a.StartTime.Equal(b.StartTime) {
		return a.StartTime.Before(b.StartTime)
	}
	return a.SpanID < b.SpanID
}

// diff fails the test when got and want differ, naming the first field that differs.
func diff(t *testing.T, what string, got, want any) {
	t.Helper()
	if path, g, w, ok := firstDiff(what, reflect.ValueOf(got), reflect.ValueOf(want)); !ok {
		t.Errorf("%s: got %s, want %s", path, g, w)
	}
}

// firstDiff walks got and want together and reports the path and values of the first
// difference, so a failure on a large span reads like "Spans[2].GenAI.Counted: got true,
// want false" rather than two pages of %#v.
func firstDiff(path string, got, want reflect.Value) (string, string, string, bool) {
	show := func(v reflect.Value) string {
		if !v.IsValid() {
			return "<invalid>"
		}
		if v.Kind() == reflect.Pointer && !v.IsNil() {
			return fmt.Sprintf("&%#v", v.Elem().Interface())
		}
		return fmt.Sprintf("%#v", v.Interface())
	}
	if !got.IsValid() || !want.IsValid() {
		if got.IsValid() == want.IsValid() {
			return "", "", "", true
		}
		return path, show(got), show(want), false
	}
	if got.Type() != want.Type() {
		return path, fmt.Sprintf("%s (%s)", show(got), got.Type()), fmt.Sprintf("%s (%s)", show(want), want.Type()), false
	}
	if reflect.DeepEqual(got.Interface(), want.Interface()) {
		return "", "", "", true
	}
	switch got.Kind() {
	case reflect.Pointer, reflect.Interface:
		if got.IsNil() || want.IsNil() {
			return path, show(got), show(want), false
		}
		return firstDiff(path, got.Elem(), want.Elem())
	case reflect.Struct:
		if got.Type() == reflect.TypeFor[time.Time]() {
			return path, show(got), show(want), false
		}
		for i := range got.NumField() {
			if !got.Type().Field(i).IsExported() {
				continue
			}
			if p, g, w, ok := firstDiff(path+"."+got.Type().Field(i).Name, got.Field(i), want.Field(i)); !ok {
				return p, g, w, false
			}
		}
	case reflect.Slice, reflect.Array:
		if got.Kind() == reflect.Slice && got.IsNil() != want.IsNil() {
			return path, show(got), show(want), false
		}
		if got.Len() != want.Len() {
			return path + ".len", fmt.Sprint(got.Len()), fmt.Sprint(want.Len()), false
		}
		for i := range got.Len() {
			if p, g, w, ok := firstDiff(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i)); !ok {
				return p, g, w, false
			}
		}
	case reflect.Map:
		if got.IsNil() != want.IsNil() {
			return path, show(got), show(want), false
		}
		for _, k := range want.MapKeys() {
			if !got.MapIndex(k).IsValid() {
				return fmt.Sprintf("%s[%v]", path, k), "missing", show(want.MapIndex(k)), false
			}
			if p, g, w, ok := firstDiff(fmt.Sprintf("%s[%v]", path, k), got.MapIndex(k), want.MapIndex(k)); !ok {
				return p, g, w, false
			}
		}
		for _, k := range got.MapKeys() {
			if !want.MapIndex(k).IsValid() {
				return fmt.Sprintf("%s[%v]", path, k), show(got.MapIndex(k)), "missing", false
			}
		}
	}
	return path, show(got), show(want), false
}

// traceIDs lists the ids of a page's traces.
func traceIDs(ts []genai.Trace) []string {
	ids := make([]string, len(ts))
	for i, tr := range ts {
		ids[i] = tr.TraceID
	}
	return ids
}
