package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// benchBatch builds a batch of n LLM-sized spans, five per trace (an agent root over four
// model calls), with about 2 KB of attributes and 2 KB of message text each, and a
// resource shared by the batch as an OTLP request shares it. seq makes the ids unique.
func benchBatch(seq, n int, start time.Time) store.Batch {
	resource := map[string]any{
		"service.name": "checkout-assistant", "service.version": "1.42.0",
		"deployment.environment": "prod", "telemetry.sdk.language": "python",
		"telemetry.sdk.name": "opentelemetry", "telemetry.sdk.version": "1.27.0",
		"host.name": "worker-7f9c", "cloud.region": "eu-west-1",
	}
	prompt := strings.Repeat("Summarize the customer's order history and suggest a reply. ", 20) // ~1.2 KB
	// The call's messages, as normalization finds them in real traffic: ~1.5 KB in, ~0.5 KB
	// out, drawn from the loadgen's kind of vocabulary (their words are what the search
	// index holds, the largest part of a chat span's write).
	vocabulary := strings.Fields(`the customer order invoice refund shipping account password reset
		please help me with my last payment it was charged twice and I would like to know why
		according to our policy refunds are processed within five business days you can track
		the status in your dashboard under billing history summarize the following document`)
	text := func(seed, n int) string {
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			b.WriteString(vocabulary[(seed*31+i*i*7+i)%len(vocabulary)])
			b.WriteByte(' ')
		}
		return b.String()
	}
	input, output := text(1, 1500), text(2, 500)
	spans := make([]genai.Span, n)
	for i := range spans {
		tr, k := (seq*n+i)/5, i%5
		st := start.Add(time.Duration(i) * time.Millisecond)
		s := genai.Span{
			ProjectID: "bench", TraceID: fmt.Sprintf("%032x", tr+1), SpanID: fmt.Sprintf("%016x", seq*n+i+1),
			Name: "chat gpt-4o", Kind: "client", ServiceName: "checkout-assistant",
			StartTime: st, EndTime: st.Add(850 * time.Millisecond), StatusCode: genai.StatusOK,
			Resource: resource, ScopeName: "opentelemetry.instrumentation.openai", ScopeVersion: "0.48b0",
			Attributes: map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.provider.name": "openai",
				"gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06",
				"gen_ai.response.id": fmt.Sprintf("chatcmpl-%d", seq*n+i), "gen_ai.request.temperature": 0.2,
				"gen_ai.request.max_tokens": 1024.0, "gen_ai.usage.input_tokens": 1200.0,
				"gen_ai.usage.output_tokens": 350.0, "gen_ai.response.finish_reasons": []any{"stop"},
				"server.address": "api.openai.com", "server.port": 443.0,
				"session.id": fmt.Sprintf("sess-%d", tr%100), "user.id": fmt.Sprintf("user-%d", tr%1000),
				"gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": prompt,
				"gen_ai.completion.0.role":    "assistant",
				"gen_ai.completion.0.content": "Your last three orders shipped on time; offer a 10% coupon.",
			},
			GenAI: &genai.Call{
				Type: genai.TypeLLM, Operation: "chat", Provider: "openai",
				RequestModel: "gpt-4o", ResponseModel: "gpt-4o-2024-08-06",
				Usage:          genai.Usage{InputTokens: 1200, OutputTokens: 350, TotalTokens: 1550, Reported: true},
				Cost:           genai.Cost{TotalUSD: new(0.0065), InputUSD: 0.003, OutputUSD: 0.0035, Source: genai.CostComputed},
				InputMessages:  []genai.Message{{Role: "user", Content: input}},
				OutputMessages: []genai.Message{{Role: "assistant", Content: output, FinishReason: "stop"}},
				SessionID:      fmt.Sprintf("sess-%d", tr%100), UserID: fmt.Sprintf("user-%d", tr%1000),
				Environment: "prod",
			},
		}
		if k == 0 {
			s.Name = "invoke_agent support"
			s.EndTime = st.Add(4 * time.Second)
			s.GenAI = &genai.Call{Type: genai.TypeAgent, Operation: "invoke_agent", AgentName: "support",
				SessionID: s.GenAI.SessionID, UserID: s.GenAI.UserID, Environment: "prod"}
		} else {
			s.ParentSpanID = spans[i-k].SpanID
		}
		spans[i] = s
	}
	return store.Batch{Spans: spans}
}

// BenchmarkWrite writes batches of 1,000 LLM-sized spans (new traces of five spans) and
// reports spans/s; writers is the number of concurrent Write calls, as worker goroutines
// or processes would make them. Each batch is a copy of one template with fresh ids, so the
// benchmark measures the store rather than building spans or scanning a large heap.
//
// On a shared machine the wall-clock rate says more about the neighbours than about the
// store, so it also reports the CPU each span costs: go-µs/span in this process and, when
// PostgreSQL runs on this machine, pg-µs/span in the backends serving the benchmark's
// connections (WAL writer and checkpointer not included).
//
//	LUMINA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test ./internal/store/postgres -run '^$' -bench BenchmarkWrite -benchtime 100x
func BenchmarkWrite(b *testing.B) {
	for _, writers := range []int{1, 2} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := openTemp(b, defaultConfig())
			const batchSize = 1000
			template := benchBatch(0, batchSize, time.Now())
			ctx := context.Background()
			backends := openBackends(b, s, writers)
			var next atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			goCPU0, goOK := processCPU()
			pgCPU0, pgOK := backendsCPU(backends)
			b.ResetTimer()
			t0 := time.Now()
			for range writers {
				wg.Go(func() {
					spans := make([]genai.Span, batchSize)
					for {
						seq := int(next.Add(1))
						if seq > b.N {
							return
						}
						copy(spans, template.Spans)
						for i := range spans {
							id := seq*batchSize + i
							spans[i].TraceID = fmt.Sprintf("%032x", id/5+1)
							spans[i].SpanID = fmt.Sprintf("%016x", id+1)
							if i%5 != 0 {
								spans[i].ParentSpanID = spans[i-i%5].SpanID
							}
						}
						if err := s.Write(ctx, store.Batch{Spans: spans}); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(t0)
			b.StopTimer()
			goCPU1, _ := processCPU()
			pgCPU1, _ := backendsCPU(backends)
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			spans := float64(b.N * batchSize)
			b.ReportMetric(spans/elapsed.Seconds(), "spans/s")
			if goOK {
				b.ReportMetric(float64((goCPU1-goCPU0).Microseconds())/spans, "go-µs/span")
			}
			if pgOK {
				b.ReportMetric(float64((pgCPU1-pgCPU0).Microseconds())/spans, "pg-µs/span")
			}
		})
	}
}

// openBackends opens n pool connections (and keeps them in the pool) and returns their
// backend process ids.
func openBackends(b *testing.B, s *Store, n int) []uint32 {
	b.Helper()
	ctx := context.Background()
	var pids []uint32
	var conns []interface{ Release() }
	for range n + 1 {
		c, err := s.pool.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		pids = append(pids, c.Conn().PgConn().PID())
	}
	for _, c := range conns {
		c.Release()
	}
	return pids
}

// backendsCPU sums the CPU time of the given local backends.
func backendsCPU(pids []uint32) (time.Duration, bool) {
	var sum time.Duration
	for _, pid := range pids {
		d, ok := pidCPU(pid)
		if !ok {
			return 0, false
		}
		sum += d
	}
	return sum, true
}
