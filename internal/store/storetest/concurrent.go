package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

func testConcurrentWrites(t *testing.T, s store.Store) {
	const (
		writers = 6
		batches = 5
		traces  = 4 // per batch, each of two spans
	)
	// Every writer also adds one LLM span to a shared trace, so rollups of the same trace
	// computed by concurrent transactions must not lose each other's spans.
	const shared = 999_999
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				var spans []genai.Span
				for i := range traces {
					tr := 1 + (w*batches+b)*traces + i
					spans = append(spans,
						span(projectA, tr, 1, 0, "root", time.Duration(tr)*time.Millisecond, time.Second),
						llm(projectA, tr, 2, 1, "gpt-4o", 10, 5, f64(0.5)))
				}
				if b == 0 {
					spans = append(spans, llm(projectA, shared, 10+w, 1, "gpt-4o", 10, 5, f64(0.25)))
				}
				if err := s.Write(context.Background(), store.Batch{Spans: spans, Logs: []genai.LogRecord{
					plainLog(projectA, 1+(w*batches+b)*traces, 1, spanID(w*batches+b), 0),
				}}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Write: %v", err)
	}

	page, err := s.Traces(context.Background(), store.TraceQuery{ProjectID: projectA, Limit: 1000})
	if err != nil {
		t.Fatalf("Traces: %v", err)
	}
	if got, want := len(page.Traces), writers*batches*traces+1; got != want {
		t.Errorf("traces: got %d, want %d", got, want)
	}
	for _, tr := range page.Traces {
		if tr.TraceID == traceID(shared) {
			continue
		}
		if tr.SpanCount != 2 || tr.LLMCallCount != 1 || tr.Usage.TotalTokens != 15 {
			t.Errorf("trace %s: got %d spans, %d calls, %d tokens, want 2, 1, 15", tr.TraceID, tr.SpanCount, tr.LLMCallCount, tr.Usage.TotalTokens)
		}
	}
	d := detail(t, s, projectA, shared)
	if d.Trace.SpanCount != writers || d.Trace.LLMCallCount != writers || d.Trace.Usage.TotalTokens != 15*writers {
		t.Errorf("shared trace: got %d spans, %d calls, %d tokens, want %d, %d, %d",
			d.Trace.SpanCount, d.Trace.LLMCallCount, d.Trace.Usage.TotalTokens, writers, writers, 15*writers)
	}
	if d.Trace.CostUSD == nil || *d.Trace.CostUSD != 0.25*writers {
		t.Errorf("shared trace CostUSD: got %v, want %v", d.Trace.CostUSD, 0.25*writers)
	}
	logs, err := s.Logs(context.Background(), store.LogQuery{ProjectID: projectA, Limit: 1000})
	if err != nil {
		t.Fatalf("Logs: %v", err)
	}
	if got, want := len(logs), writers*batches; got != want {
		t.Errorf("logs: got %d, want %d", got, want)
	}
}
