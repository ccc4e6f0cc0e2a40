package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/testenv"
)

// benchBatch is a batch of n LLM-sized spans, five per trace (an agent over four chat
// calls), each with about 2 KB of attributes and the normalized call that goes with them.
// Trace ids start at first.
func benchBatch(n, first int, start time.Time) store.Batch {
	prompt := strings.Repeat("Summarize the customer's last three orders and suggest a follow-up. ", 18) // ≈1.2 KB
	answer := strings.Repeat("The customer ordered running shoes twice. ", 10)                           // ≈0.4 KB
	attrs := map[string]any{
		"gen_ai.operation.name":      "chat",
		"gen_ai.provider.name":       "openai",
		"gen_ai.request.model":       "gpt-4o-mini",
		"gen_ai.response.model":      "gpt-4o-mini-2024-07-18",
		"gen_ai.response.id":         "chatcmpl-AbCdEf0123456789",
		"gen_ai.request.temperature": 0.2,
		"gen_ai.request.max_tokens":  512.0,
		"gen_ai.usage.input_tokens":  1234.0,
		"gen_ai.usage.output_tokens": 256.0,
		"gen_ai.input.messages":      `[{"role":"user","parts":[{"type":"text","content":"` + prompt + `"}]}]`,
		"gen_ai.output.messages":     `[{"role":"assistant","parts":[{"type":"text","content":"` + answer + `"}]}]`,
		"server.address":             "api.openai.com",
		"http.response.status_code":  200.0,
	}
	resource := map[string]any{"service.name": "shop-assistant", "service.version": "1.4.2", "deployment.environment": "prod"}
	spans := make([]genai.Span, n)
	for i := range spans {
		tr, pos := first+i/5, i%5
		s := genai.Span{
			ProjectID: "bench", TraceID: benchTraceID(tr), SpanID: fmt.Sprintf("%016x", tr*8+pos+1),
			Name: "chat gpt-4o-mini", Kind: "client", ServiceName: "shop-assistant",
			StartTime:  start.Add(time.Duration(tr)*time.Millisecond + time.Duration(pos)*time.Microsecond),
			StatusCode: genai.StatusOK, Attributes: attrs, Resource: resource,
			ScopeName: "opentelemetry.instrumentation.openai", ScopeVersion: "0.47.0",
		}
		s.EndTime = s.StartTime.Add(800 * time.Millisecond)
		cost := 0.00042
		s.GenAI = &genai.Call{
			Type: genai.TypeLLM, Operation: "chat", Provider: "openai",
			RequestModel: "gpt-4o-mini", ResponseModel: "gpt-4o-mini-2024-07-18",
			Usage:          genai.Usage{InputTokens: 1234, OutputTokens: 256, TotalTokens: 1490, Reported: true},
			Cost:           genai.Cost{TotalUSD: &cost, Source: genai.CostComputed, PriceID: "openai/gpt-4o-mini"},
			InputMessages:  []genai.Message{{Role: "user", Content: prompt}},
			OutputMessages: []genai.Message{{Role: "assistant", Content: answer}},
			Conventions:    []string{"otel_genai"},
		}
		if pos == 0 {
			s.Name = "invoke_agent shop-assistant"
			s.GenAI = &genai.Call{Type: genai.TypeAgent, Operation: "invoke_agent", AgentName: "shop-assistant",
				Usage: genai.Usage{InputTokens: 4936, OutputTokens: 1024, TotalTokens: 5960, Reported: true}}
		} else {
			s.ParentSpanID = fmt.Sprintf("%016x", tr*8+1)
		}
		spans[i] = s
	}
	return store.Batch{Spans: spans}
}

// benchTraceID is a random-looking, reproducible trace id: real trace ids are random, and
// sequential ones would flatter the unique index on them.
func benchTraceID(n int) string {
	x := uint64(n) + 0x9e3779b97f4a7c15 // splitmix64
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return fmt.Sprintf("%016x%016x", x, n)
}

// BenchmarkWrite measures ingest through Write: batches of 100 and of 1,000 new traces' spans
// (a worker's batches at a moderate load and under a backlog), written one after another as
// a worker does. Besides wall-clock spans/s it reports spans per CPU-second of the whole
// process (the writer, the encoders, the checkpointer, the GC), which is what a shared
// machine cannot distort, the p99 and slowest write of a batch (the full-text index's
// merges show there, growing with the index), and the bytes the process sent to storage per
// span (Linux): the WAL's pages, the checkpoints' copies of them and the search database's.
//
//	go test ./internal/store/sqlite -run '^$' -bench 'BenchmarkWrite/batch=100$' -benchtime 3000x   # 300,000 spans
func BenchmarkWrite(b *testing.B) {
	for _, batchSize := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batchSize), func(b *testing.B) { benchmarkWrite(b, batchSize) })
	}
}

func benchmarkWrite(b *testing.B, batchSize int) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer s.Close()
	start := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	batches := make([]store.Batch, b.N)
	for i := range batches {
		batches[i] = benchBatch(batchSize, i*batchSize/5, start)
	}
	ctx := context.Background()
	took := make([]time.Duration, b.N)
	cpu0, cpuOK := processCPU()
	written0, writtenOK := testenv.WrittenBytes()
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if err := s.Write(ctx, batches[i]); err != nil {
			b.Fatalf("Write: %v", err)
		}
		took[i] = time.Since(t0)
	}
	waitIndexedAll(b, s) // the spans/s are of spans stored and searchable
	b.StopTimer()
	b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "spans/s")
	if cpu1, ok := processCPU(); ok && cpuOK && cpu1 > cpu0 {
		b.ReportMetric(float64(b.N*batchSize)/(cpu1-cpu0).Seconds(), "spans/cpu-s")
	}
	if written1, ok := testenv.WrittenBytes(); ok && writtenOK {
		b.ReportMetric(float64(written1-written0)/float64(b.N*batchSize)/1e3, "disk-KB/span")
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[(len(took)-1)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
}

// waitIndexedAll waits until the index has applied every queued row.
func waitIndexedAll(tb testing.TB, s *Store) {
	tb.Helper()
	queued, err := s.queuedID(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	for s.ix.appliedID() < queued {
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkIndexRebuild rebuilds the full-text index of 100,000 stored spans (80,000 LLM
// spans with ~1.6 KB of words each) from the spans, as Open does when the search database
// is lost or does not match, and after migration 0910:
//
//	go test ./internal/store/sqlite -run '^$' -bench BenchmarkIndexRebuild -benchtime 1x
func BenchmarkIndexRebuild(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	for seq := range 100 {
		if err := s.Write(ctx, benchBatch(1000, seq*200, start)); err != nil {
			b.Fatal(err)
		}
	}
	waitIndexedAll(b, s)
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		removeSearchFiles(b, path)
		b.StartTimer()
		if s, err = Open(ctx, path, nil); err != nil {
			b.Fatal(err)
		}
		waitIndexedAll(b, s)
		b.StopTimer()
		if n := s.ix.readBackCount(); n != 80_000 {
			b.Fatalf("texts read from the spans: %d, want 80,000", n)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(80_000*b.N)/b.Elapsed().Seconds(), "llm-spans/s")
}
