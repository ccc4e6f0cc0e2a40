package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// plainLog is a non-GenAI application log record.
func plainLog(p string, tr, sp int, id string, d time.Duration) genai.LogRecord {
	r := genai.LogRecord{
		ProjectID: p, ID: id, Time: at(d), SeverityText: "INFO", SeverityNumber: 9,
		Body: "request handled", ServiceName: "checkout",
	}
	if tr != 0 {
		r.TraceID = traceID(tr)
	}
	if sp != 0 {
		r.SpanID = spanID(sp)
	}
	return r
}

// eventLog is a GenAI event record without normalized messages.
func eventLog(p string, tr, sp int, id string, d time.Duration) genai.LogRecord {
	r := plainLog(p, tr, sp, id, d)
	r.EventName = "gen_ai.client.inference.operation.details"
	r.Body = map[string]any{"n": 1.0}
	return r
}

func testLogs(t *testing.T, s store.Store) {
	ctx := context.Background()
	l1 := fullLog(projectA, 1, 2, "l1", 30*time.Millisecond)
	l2 := plainLog(projectA, 1, 1, "l2", 10*time.Millisecond)
	l3 := eventLog(projectA, 1, 2, "l3", 20*time.Millisecond)
	l4 := plainLog(projectA, 2, 1, "l4", 5*time.Millisecond)
	l5 := plainLog(projectA, 0, 0, "l5", 0)
	// Logs arrive before the spans they describe and are joined once the spans arrive.
	write(t, s, nil, l1, l2, l3, l4, l5)
	write(t, s, []genai.Span{span(projectA, 1, 1, 0, "root", 0, time.Second), llm(projectA, 1, 2, 1, "gpt-4o", 1, 1, nil)})
	// Redelivered records are stored once.
	write(t, s, nil, l1, l2)

	diff(t, "Trace logs", detail(t, s, projectA, 1).Logs, []genai.LogRecord{l2, l3, l1})
	tests := []struct {
		name string
		q    store.LogQuery
		want []genai.LogRecord
	}{
		{"by trace", store.LogQuery{TraceID: traceID(1)}, []genai.LogRecord{l2, l3, l1}},
		{"by trace and span", store.LogQuery{TraceID: traceID(1), SpanID: spanID(2)}, []genai.LogRecord{l3, l1}},
		{"by span", store.LogQuery{SpanID: spanID(1)}, []genai.LogRecord{l4, l2}},
		{"by trace with limit", store.LogQuery{TraceID: traceID(1), Limit: 2}, []genai.LogRecord{l2, l3}},
		{"trace miss", store.LogQuery{TraceID: traceID(3)}, nil},
		{"whole project", store.LogQuery{}, []genai.LogRecord{l5, l4, l2, l3, l1}},
		{"other project", store.LogQuery{ProjectID: projectB}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			if q.ProjectID == "" {
				q.ProjectID = projectA
			}
			got, err := s.Logs(ctx, q)
			if err != nil {
				t.Fatalf("Logs(%+v): %v", q, err)
			}
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			diff(t, "Logs", got, tt.want)
		})
	}
}

func testOrphans(t *testing.T, s store.Store) {
	ctx := context.Background()
	withMessages := fullLog(projectA, 1, 5, "messages", 40*time.Millisecond)
	withMessages.EventName = "" // content alone makes it a GenAI record
	event := eventLog(projectA, 1, 6, "event", 30*time.Millisecond)
	joined := fullLog(projectA, 1, 2, "joined", 20*time.Millisecond)
	noSpan := fullLog(projectA, 3, 0, "no-span", 10*time.Millisecond)
	noSpan.SpanID = ""
	plain := plainLog(projectA, 1, 7, "plain", 0)
	otherProject := fullLog(projectB, 1, 5, "other", 0)
	write(t, s, []genai.Span{span(projectA, 1, 1, 0, "root", 0, time.Second), llm(projectA, 1, 2, 1, "gpt-4o", 1, 1, nil)},
		withMessages, event, joined, noSpan, plain, otherProject)

	orphans := func() []genai.LogRecord {
		t.Helper()
		got, err := s.Logs(ctx, store.LogQuery{ProjectID: projectA, Orphans: true})
		if err != nil {
			t.Fatalf("Logs(Orphans): %v", err)
		}
		return got
	}
	diff(t, "orphans", orphans(), []genai.LogRecord{noSpan, event, withMessages})

	// The span arrives late: its records are no longer orphans and join the trace.
	late := llm(projectA, 1, 6, 1, "gpt-4o", 1, 1, nil)
	write(t, s, []genai.Span{late})
	diff(t, "orphans after the span arrived", orphans(), []genai.LogRecord{noSpan, withMessages})
	diff(t, "trace logs", detail(t, s, projectA, 1).Logs, []genai.LogRecord{plain, joined, event, withMessages})

	got, err := s.Logs(ctx, store.LogQuery{ProjectID: projectA, Orphans: true, Limit: 1})
	if err != nil {
		t.Fatalf("Logs(Orphans, Limit 1): %v", err)
	}
	diff(t, "orphans with limit", got, []genai.LogRecord{noSpan})
}
