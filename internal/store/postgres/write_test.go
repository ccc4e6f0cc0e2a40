package postgres

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// llmSpan is a counted model call of trace tr under parent.
func llmSpan(tr, id, parent int, start time.Time) genai.Span {
	s := dated(tr, start)
	s.SpanID = fmt.Sprintf("%016x", id)
	if parent != 0 {
		s.ParentSpanID = fmt.Sprintf("%016x", parent)
	}
	s.GenAI = &genai.Call{
		Type: genai.TypeLLM, Operation: "chat", Provider: "openai", RequestModel: "gpt-4o",
		Usage: genai.Usage{InputTokens: 10, OutputTokens: 5, TotalTokens: 15, Reported: true},
		Cost:  genai.Cost{TotalUSD: new(0.5), Source: genai.CostComputed},
	}
	return s
}

// TestWritersOnOverlappingTraces plays several worker processes (stores of their own)
// writing batches that touch the same traces in different orders: every write succeeds
// (no deadlock) and every trace's rollup counts every span.
func TestWritersOnOverlappingTraces(t *testing.T) {
	ctx := context.Background()
	dsn := tempSchema(t)
	const (
		processes = 3
		batches   = 8
		traces    = 6
	)
	stores := make([]*Store, processes)
	for i := range stores {
		s, err := Open(ctx, dsn, quietLogger())
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer s.Close()
		stores[i] = s
	}
	start := time.Now().Add(-time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, processes*batches)
	for p, s := range stores {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(p), 1))
			for b := range batches {
				var spans []genai.Span
				for _, tr := range rng.Perm(traces) {
					id := 1 + (p*batches+b)*traces + tr
					spans = append(spans, llmSpan(tr+1, id, 0, start.Add(time.Duration(id)*time.Millisecond)))
				}
				if err := s.Write(ctx, store.Batch{Spans: spans}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Write: %v", err)
	}
	for tr := 1; tr <= traces; tr++ {
		d, err := stores[0].Trace(ctx, "p", fmt.Sprintf("%032x", tr))
		if err != nil {
			t.Fatalf("Trace %d: %v", tr, err)
		}
		want := processes * batches
		if d.Trace.SpanCount != want || len(d.Spans) != want || d.Trace.LLMCallCount != want ||
			d.Trace.Usage.TotalTokens != int64(15*want) || d.Trace.CostUSD == nil || *d.Trace.CostUSD != 0.5*float64(want) {
			t.Errorf("trace %d: got %d spans (%d read), %d calls, %d tokens, cost %v; want %d, %d, %d, %v",
				tr, d.Trace.SpanCount, len(d.Spans), d.Trace.LLMCallCount, d.Trace.Usage.TotalTokens, d.Trace.CostUSD,
				want, want, 15*want, 0.5*float64(want))
		}
	}
}

// TestRestartedSpanReplacesRow: the start time is part of the row key (it is the partition
// key), yet a span id is one span: a redelivered span with another start replaces the row.
func TestRestartedSpanReplacesRow(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, defaultConfig())
	now := time.Now().UTC().Truncate(time.Second)
	first := llmSpan(1, 1, 0, now)
	moved := llmSpan(1, 1, 0, now.Add(-25*time.Hour)) // another day, so another partition
	moved.Name = "moved"
	child := llmSpan(1, 2, 1, now.Add(time.Second))
	for _, b := range [][]genai.Span{{first, child}, {moved}} {
		if err := s.Write(ctx, store.Batch{Spans: b}); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	d, err := s.Trace(ctx, "p", first.TraceID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Spans) != 2 || d.Trace.SpanCount != 2 {
		t.Fatalf("got %d spans (rollup %d), want 2", len(d.Spans), d.Trace.SpanCount)
	}
	if d.Spans[0].Name != "moved" || !d.Spans[0].StartTime.Equal(moved.StartTime) {
		t.Errorf("first span: got %q at %s, want %q at %s", d.Spans[0].Name, d.Spans[0].StartTime, "moved", moved.StartTime)
	}
	if !d.Trace.StartTime.Equal(moved.StartTime) {
		t.Errorf("trace start: got %s, want %s", d.Trace.StartTime, moved.StartTime)
	}
	// The child is the counted call; the parent wraps it.
	if d.Spans[0].GenAI.Counted || !d.Spans[1].GenAI.Counted {
		t.Errorf("Counted: got parent %v, child %v; want false, true", d.Spans[0].GenAI.Counted, d.Spans[1].GenAI.Counted)
	}
}

// TestCountedColumnAndDocumentAgree: a late child flips its stored parent's Counted flag,
// in the column that aggregates use and in the stored document alike.
func TestCountedColumnAndDocumentAgree(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, defaultConfig())
	now := time.Now()
	parent, child := llmSpan(1, 1, 0, now), llmSpan(1, 2, 1, now.Add(time.Millisecond))
	for _, b := range [][]genai.Span{{parent}, {child}} {
		if err := s.Write(ctx, store.Batch{Spans: b}); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	rows, err := s.pool.Query(ctx, "SELECT span_id, counted, (genai->>'counted')::boolean FROM spans ORDER BY span_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[string]bool{parent.SpanID: false, child.SpanID: true}
	for rows.Next() {
		var id string
		var col, doc bool
		if err := rows.Scan(&id, &col, &doc); err != nil {
			t.Fatal(err)
		}
		if col != want[id] || doc != want[id] {
			t.Errorf("span %s: counted column %v, document %v; want both %v", id, col, doc, want[id])
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestHostileValues: text PostgreSQL cannot hold (NUL, invalid UTF-8) and numbers JSON
// cannot hold (NaN, ±Inf) are stored rather than failing the batch.
func TestHostileValues(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, defaultConfig())
	sp := llmSpan(1, 1, 0, time.Now())
	sp.Name = "bad\x00name\xff"
	sp.Attributes = map[string]any{
		"nul\x00key": "nul\x00value", "invalid": "a\xffb", "nan": math.NaN(), "inf": math.Inf(1),
		"escaped": `literal \u0000 text`,
	}
	sp.GenAI.InputMessages = []genai.Message{{Role: "user", Content: "x\x00y"}}
	sp.GenAI.TimeToFirstToken = new(math.NaN())
	sp.Events = []genai.Event{{Time: time.Now(), Name: "e", Attributes: map[string]any{"v": math.Inf(-1)}}}
	log := genai.LogRecord{ProjectID: "p", ID: "l\x00", TraceID: sp.TraceID, Body: "b\x00", Time: time.Now()}
	if err := s.Write(ctx, store.Batch{Spans: []genai.Span{sp}, Logs: []genai.LogRecord{log}}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	d, err := s.Trace(ctx, "p", sp.TraceID)
	if err != nil {
		t.Fatalf("Trace: %v", err)
	}
	got := d.Spans[0]
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"name", got.Name, "bad\uFFFDname\uFFFD"},
		{"NUL key", got.Attributes["nul\uFFFDkey"], "nul\uFFFDvalue"},
		{"invalid UTF-8", got.Attributes["invalid"], "a\uFFFDb"},
		{"NaN", got.Attributes["nan"], "NaN"},
		{"Inf", got.Attributes["inf"], "+Inf"},
		{"escaped backslash", got.Attributes["escaped"], `literal \u0000 text`},
		{"message", got.GenAI.InputMessages[0].Content, "x\uFFFDy"},
		{"NaN pointer", got.GenAI.TimeToFirstToken == nil, true},
		{"event attribute", got.Events[0].Attributes["v"], "-Inf"},
		{"log id", len(d.Logs) == 1 && d.Logs[0].ID == "l\uFFFD", true},
		{"log body", len(d.Logs) == 1 && d.Logs[0].Body == "b\uFFFD", true},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %#v, want %#v", c.what, c.got, c.want)
		}
	}
}

// TestSpansWithoutTraceRow: spans whose trace row is gone (say, deleted by hand or by a
// retention job) are rewritten, not refused, and the rollup counts them again.
func TestSpansWithoutTraceRow(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, defaultConfig())
	now := time.Now()
	first := []genai.Span{llmSpan(1, 1, 0, now), llmSpan(1, 2, 0, now.Add(time.Millisecond))}
	if err := s.Write(ctx, store.Batch{Spans: first}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if _, err := s.pool.Exec(ctx, "DELETE FROM traces"); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, store.Batch{Spans: []genai.Span{first[0], llmSpan(1, 3, 0, now.Add(2*time.Millisecond))}}); err != nil {
		t.Fatalf("Write after the trace row was deleted: %v", err)
	}
	d, err := s.Trace(ctx, "p", first[0].TraceID)
	if err != nil {
		t.Fatalf("Trace: %v", err)
	}
	if d.Trace.SpanCount != 3 || len(d.Spans) != 3 || d.Trace.LLMCallCount != 3 {
		t.Errorf("got %d spans (%d read), %d calls; want 3, 3, 3", d.Trace.SpanCount, len(d.Spans), d.Trace.LLMCallCount)
	}
}
