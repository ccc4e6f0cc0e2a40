package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// retentionFixture writes, in projects A and B, traces 1..5 starting 10 days before base
// (one per hour), trace 6 starting 9 days before base with a late span after the cutoff,
// and trace 7 starting at base; each trace has an LLM span of model "m-<n>" and a log
// record; plus an old and a new orphan log record per project. It returns the cutoff:
// 8 days before base.
func retentionFixture(t *testing.T, s store.Store) time.Time {
	t.Helper()
	day := 24 * time.Hour
	for _, p := range []string{projectA, projectB} {
		var spans []genai.Span
		var logs []genai.LogRecord
		add := func(tr int, start time.Duration) {
			root := span(p, tr, tr*10, 0, "root", start, time.Second)
			call := llm(p, tr, tr*10+1, tr*10, "m-"+string(rune('0'+tr)), 10, 5, f64(0.001))
			call.StartTime, call.EndTime = at(start+time.Millisecond), at(start+time.Second)
			spans = append(spans, root, call)
			logs = append(logs, genai.LogRecord{
				ProjectID: p, ID: p + "-log-" + traceID(tr), TraceID: traceID(tr), SpanID: spanID(tr*10 + 1),
				Time: at(start), EventName: "gen_ai.user.message", ServiceName: "svc",
			})
		}
		for tr := 1; tr <= 5; tr++ {
			add(tr, -10*day+time.Duration(tr)*time.Hour)
		}
		add(6, -9*day)
		late := span(p, 6, 69, 60, "late", -7*day, time.Second) // after the cutoff
		spans = append(spans, late)
		add(7, 0)
		logs = append(logs,
			genai.LogRecord{ProjectID: p, ID: p + "-orphan-old", Time: at(-9 * day), EventName: "gen_ai.user.message"},
			genai.LogRecord{ProjectID: p, ID: p + "-orphan-new", Time: at(-time.Hour), EventName: "gen_ai.user.message"},
			// Old, but names trace 7, which is kept.
			genai.LogRecord{ProjectID: p, ID: p + "-early-log", TraceID: traceID(7), Time: at(-9 * day), EventName: "x"},
		)
		write(t, s, spans, logs...)
	}
	return at(-8 * day)
}

func testRetention(t *testing.T, s store.Store) {
	ctx := context.Background()
	cutoff := retentionFixture(t, s)
	// Project B keeps everything; A uses the default cutoff; batches of two traces.
	policy := store.RetentionPolicy{Cutoff: cutoff, Projects: map[string]time.Time{projectB: {}}, BatchSize: 2}
	st, err := s.DeleteBefore(ctx, policy)
	if err != nil {
		t.Fatalf("DeleteBefore: %v", err)
	}
	// Traces 1..6 of A: 13 spans (two each, plus trace 6's late span), 6 trace logs and
	// one old orphan; the early log of trace 7 stays with its trace.
	if st.Traces != 6 || st.Spans != 13 || st.Logs != 7 {
		t.Errorf("stats: got %d traces, %d spans, %d logs, want 6, 13, 7", st.Traces, st.Spans, st.Logs)
	}
	if st.Batches < 3 {
		t.Errorf("stats: got %d batches, want at least 3 with a batch size of 2", st.Batches)
	}
	for tr := 1; tr <= 6; tr++ {
		if _, err := s.Trace(ctx, projectA, traceID(tr)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Trace(A, %d) after retention: got %v, want ErrNotFound", tr, err)
		}
		if d := detail(t, s, projectB, tr); len(d.Spans) < 2 || len(d.Logs) != 1 {
			t.Errorf("Trace(B, %d): got %d spans, %d logs, want B kept whole", tr, len(d.Spans), len(d.Logs))
		}
	}
	kept := detail(t, s, projectA, 7)
	if len(kept.Spans) != 2 || len(kept.Logs) != 2 {
		t.Errorf("Trace(A, 7): got %d spans, %d logs, want 2 and 2 (its early log kept)", len(kept.Spans), len(kept.Logs))
	}
	page, err := s.Traces(ctx, store.TraceQuery{ProjectID: projectA, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Traces) != 1 || page.Traces[0].TraceID != traceID(7) {
		t.Errorf("Traces(A): got %d traces, want only trace 7", len(page.Traces))
	}
	for _, q := range []store.TraceQuery{
		{ProjectID: projectA, Model: "m-1", Limit: 10},
		{ProjectID: projectA, Service: "svc", Since: at(-11 * 24 * time.Hour), Until: cutoff, Limit: 10},
	} {
		page, err := s.Traces(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Traces) != 0 {
			t.Errorf("Traces(%+v) after retention: got %d traces, want 0", q, len(page.Traces))
		}
	}
	logs, err := s.Logs(ctx, store.LogQuery{ProjectID: projectA, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range logs {
		ids = append(ids, l.ID)
	}
	if len(logs) != 3 {
		t.Errorf("Logs(A) after retention: got %v, want the new orphan and trace 7's two", ids)
	}

	// Nothing is left to delete, and a late span of a deleted trace starts a new rollup.
	again, err := s.DeleteBefore(ctx, policy)
	if err != nil {
		t.Fatal(err)
	}
	if again.Traces != 0 || again.Spans != 0 || again.Logs != 0 {
		t.Errorf("second DeleteBefore: got %+v, want nothing deleted", again)
	}
	late := llm(projectA, 1, 99, 0, "m-1", 1, 1, f64(0.5))
	write(t, s, []genai.Span{late})
	if d := detail(t, s, projectA, 1); len(d.Spans) != 1 || d.Trace.SpanCount != 1 {
		t.Errorf("trace 1 rewritten after retention: got %d spans (span_count %d), want 1", len(d.Spans), d.Trace.SpanCount)
	}
	page, err = s.Traces(ctx, store.TraceQuery{ProjectID: projectA, Model: "m-1", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Traces) != 1 {
		t.Errorf("Traces(model m-1) after the rewrite: got %d traces, want 1", len(page.Traces))
	}
}

func testRetentionKeepsForever(t *testing.T, s store.Store) {
	ctx := context.Background()
	cutoff := retentionFixture(t, s)
	for _, policy := range []store.RetentionPolicy{
		{}, // zero cutoff: keep every project
		{Projects: map[string]time.Time{projectA: {}, projectB: {}}},
		{Cutoff: cutoff.Add(-365 * 24 * time.Hour)}, // nothing is that old
	} {
		st, err := s.DeleteBefore(ctx, policy)
		if err != nil {
			t.Fatalf("DeleteBefore(%+v): %v", policy, err)
		}
		if st.Traces != 0 || st.Spans != 0 || st.Logs != 0 {
			t.Errorf("DeleteBefore(%+v): got %+v, want nothing deleted", policy, st)
		}
	}
	// An override shorter than the default applies to its project only.
	st, err := s.DeleteBefore(ctx, store.RetentionPolicy{Projects: map[string]time.Time{projectB: cutoff}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Traces != 6 {
		t.Errorf("override for B only: got %d traces deleted, want 6", st.Traces)
	}
	if d := detail(t, s, projectA, 1); len(d.Spans) != 2 {
		t.Errorf("Trace(A, 1): got %d spans, want A untouched", len(d.Spans))
	}
}
