package lumina

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"runtime/metrics"
	"slices"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// cannedTransport answers every request from memory, so a benchmark measures the SDK and not
// the network.
type cannedTransport struct {
	body  []byte
	ctype string
}

func (t cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {t.ctype}},
		Body: io.NopCloser(bytes.NewReader(t.body)), Request: req}, nil
}

type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

const benchChatRequest = `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},` +
	`{"role":"user","content":"What is the capital of France? Answer in one word."}],"temperature":0.2,"max_tokens":64}`

func benchCase(b *testing.B, stream bool) (cannedTransport, string) {
	b.Helper()
	if stream {
		s, err := os.ReadFile("testdata/openai_chat_stream.sse")
		if err != nil {
			b.Fatal(err)
		}
		return cannedTransport{body: s, ctype: "text/event-stream"},
			`{"model":"o4-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello"}]}`
	}
	s, err := os.ReadFile("testdata/openai_chat.json")
	if err != nil {
		b.Fatal(err)
	}
	return cannedTransport{body: s, ctype: "application/json"}, benchChatRequest
}

// doCall is one application call: build the request, send it, read and close the body.
func doCall(b *testing.B, ctx context.Context, client *http.Client, body string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://api.openai.com/v1/chat/completions", bytes.NewReader([]byte(body)))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// bareAttrs are the 12 attributes a minimal hand-written LLM span would carry.
func bareAttrs() []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String(keyOperation, "chat"), attribute.String(keyProvider, "openai"),
		attribute.String(keyRequestModel, "gpt-4o-mini"), attribute.String(keyResponseModel, "gpt-4o-mini-2024-07-18"),
		attribute.String(keyResponseID, "chatcmpl-1"), attribute.Float64(keyTemperature, 0.2),
		attribute.Int(keyMaxTokens, 64), attribute.Int(keyInputTokens, 1117), attribute.Int(keyOutputTokens, 46),
		attribute.Int(keyCacheReadTokens, 1024), attribute.StringSlice(keyFinishReasons, []string{"stop"}),
		attribute.String(keyServerAddress, "api.openai.com"),
	}
}

func benchClient(b *testing.B, cfg Config) *Client {
	b.Helper()
	cfg.Endpoint, cfg.KeepGlobal = EndpointNone, true
	if cfg.Exporters == nil {
		cfg.Exporters = []sdktrace.SpanExporter{discardExporter{}}
	}
	c, err := Init(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Shutdown(context.Background()) })
	return c
}

// BenchmarkCall compares one chat call with no SDK, with a bare OpenTelemetry span of 12
// attributes around it, and through the instrumented transport (content capture on and off),
// plain and streamed, with the batch processor running against a discarding exporter.
func BenchmarkCall(b *testing.B) {
	for _, mode := range []string{"plain", "stream"} {
		canned, body := benchCase(b, mode == "stream")
		b.Run(mode+"/no_sdk", func(b *testing.B) {
			client := &http.Client{Transport: canned}
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				doCall(b, context.Background(), client, body)
			}
		})
		b.Run(mode+"/bare_otel_span", func(b *testing.B) {
			c := benchClient(b, Config{})
			client := &http.Client{Transport: canned}
			attrs := bareAttrs()
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				ctx, span := c.tracer.Start(context.Background(), "chat gpt-4o-mini", trace.WithSpanKind(trace.SpanKindClient))
				doCall(b, ctx, client, body)
				span.SetAttributes(attrs...)
				span.End()
			}
		})
		for _, content := range []bool{false, true} {
			name := map[bool]string{false: "/lumina_no_content", true: "/lumina_content"}[content]
			b.Run(mode+name, func(b *testing.B) {
				// Queues large enough that a tight loop drops nothing: every span is paid for.
				c := benchClient(b, Config{DisableContent: !content, Batch: BatchConfig{MaxQueueSize: 1 << 16}})
				client := &http.Client{Transport: c.Transport(canned)}
				b.ReportAllocs()
				stop := reportCPU(b)
				for b.Loop() {
					doCall(b, context.Background(), client, body)
				}
				if err := c.Flush(context.Background()); err != nil { // the processor's backlog, counted in CPU
					b.Fatal(err)
				}
				stop()
				reportDrops(b, c)
			})
		}
	}
}

// reportDrops reports what the pipeline dropped: a CPU figure is only a cost per span when
// both are zero.
func reportDrops(b *testing.B, c *Client) {
	st := c.Stats()
	b.ReportMetric(float64(st.Dropped), "dropped-spans")
	b.ReportMetric(float64(st.DroppedCalls), "dropped-calls")
	b.ReportMetric(float64(st.Failed), "failed-spans")
}

// reportCPU starts measuring the process's CPU time; the function it returns reports it per
// operation. CPU time, unlike wall time, is not inflated by other processes on the machine.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op") }
}

// heapAllocs returns the objects and bytes the process has allocated so far. Unlike allocs/op,
// which counts only the loop, the difference across a run that ends with a Flush counts every
// span's processing and export.
func heapAllocs() [2]uint64 {
	m := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(m)
	return [2]uint64{m[0].Value.Uint64(), m[1].Value.Uint64()}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCallerLatency reports the caller's latency per call (p50, p99, p999) and the
// process CPU per call, including the export over OTLP/HTTP to a receiver in another process
// (so the CPU counted is the application's and the SDK's only), for the same call without the
// SDK and through it. The SDK's cost is the difference. "tight"
// calls back to back, with queues large enough to drop nothing, so its CPU per call includes
// every span's processing and export; "paced" sleeps 200 µs between calls (outside the
// timing), closer to an application's rate: its CPU figure is dominated by the runtime's
// idle work around the sleeps and is not a cost per span. "bursts" sends 100 calls back to
// back every 25 ms (4,000 calls/s): the pipeline keeps up and the idle work is shared by 100
// calls, so the difference of cpu-ns/op with and without the SDK is the SDK's CPU per span,
// export included, at a steady state.
func BenchmarkCallerLatency(b *testing.B) {
	for _, mode := range []string{"plain", "stream"} {
		canned, body := benchCase(b, mode == "stream")
		for _, pace := range []string{"tight", "paced", "bursts"} {
			for _, sdk := range []bool{false, true} {
				name := mode + "/" + pace + map[bool]string{false: "/no_sdk", true: "/lumina_otlp_http"}[sdk]
				b.Run(name, func(b *testing.B) { callerLatency(b, canned, body, sdk, pace) })
			}
			if pace == "tight" {
				b.Run(mode+"/tight/bare_otel_otlp_http", func(b *testing.B) { bareOTelLatency(b, canned, body) })
			}
		}
	}
}

func callerLatency(b *testing.B, canned cannedTransport, body string, sdk bool, pace string) {
	client := &http.Client{Transport: canned}
	var c *Client
	if sdk {
		exp, err := newExporter(context.Background(), settings{Config: Config{Endpoint: externalSink(b), Protocol: ProtocolHTTP}})
		if err != nil {
			b.Fatal(err)
		}
		// Queues large enough that a tight loop drops nothing: every span is paid for.
		// A long export timeout, for runs under valgrind.
		c = benchClient(b, Config{Exporters: []sdktrace.SpanExporter{exp}, Batch: BatchConfig{MaxQueueSize: 1 << 16, ExportTimeout: time.Minute}})
		client = &http.Client{Transport: c.Transport(canned)}
	}
	var sent0 int64
	if sdk {
		sent0 = sinkSpans(b)
	}
	lat := make([]time.Duration, 0, 1<<16)
	heap0 := heapAllocs()
	cpu0 := cpuTime()
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		switch {
		case pace == "paced":
			b.StopTimer()
			time.Sleep(200 * time.Microsecond)
			b.StartTimer()
		case pace == "bursts" && n%100 == 99:
			b.StopTimer()
			time.Sleep(25 * time.Millisecond)
			b.StartTimer()
		}
		t0 := time.Now()
		doCall(b, context.Background(), client, body)
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
		n++
	}
	b.StopTimer()
	if sdk {
		if err := c.Flush(context.Background()); err != nil { // the last spans, counted in CPU
			b.Fatal(err)
		}
	}
	cpu := cpuTime() - cpu0
	heap := heapAllocs()
	if sdk {
		reportDrops(b, c)
		if got := sinkSpans(b) - sent0; got != int64(n) {
			b.Fatalf("the receiver got %d spans, want %d", got, n)
		}
	}
	reportLoop(b, n, lat, cpu, heap0, heap)
}

// reportLoop reports a timed loop of n calls: heap allocations and bytes per call (from the
// counters before and after), the caller's latency quantiles over lat (sorted here) and the
// process CPU per call.
func reportLoop(b *testing.B, n int, lat []time.Duration, cpu time.Duration, heap0, heap [2]uint64) {
	b.ReportMetric(float64(heap[0]-heap0[0])/float64(n), "total-allocs/op")
	b.ReportMetric(float64(heap[1]-heap0[1])/float64(n), "total-B/op")
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) }
	b.ReportMetric(q(0.50), "p50-ns")
	b.ReportMetric(q(0.99), "p99-ns")
	b.ReportMetric(q(0.999), "p999-ns")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
}

// BenchmarkCallerSide splits a call's cost between the application's goroutine and the
// SDK's. The processor is held back during the loop (its queue holds every call), so ns/op,
// allocs/op and caller-cpu-ns/op are the caller's own; then the processor records the spans
// and the batch processor exports them over OTLP/HTTP to a receiver in another process, and
// bg-cpu-ns/span is that phase's process CPU per span: the SDK's work after the call.
// Pools start empty because nothing is recycled during the loop, so the caller's allocations
// are an upper bound as well.
func BenchmarkCallerSide(b *testing.B) {
	for _, mode := range []string{"plain", "stream"} {
		canned, body := benchCase(b, mode == "stream")
		b.Run(mode+"/no_sdk", func(b *testing.B) {
			client := &http.Client{Transport: canned}
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				doCall(b, context.Background(), client, body)
			}
		})
		for _, content := range []bool{true, false} {
			name := map[bool]string{false: "/lumina_no_content", true: "/lumina_content"}[content]
			b.Run(mode+name, func(b *testing.B) {
				exp, err := newExporter(context.Background(), settings{Config: Config{Endpoint: externalSink(b), Protocol: ProtocolHTTP}})
				if err != nil {
					b.Fatal(err)
				}
				c := benchClient(b, Config{DisableContent: !content, Exporters: []sdktrace.SpanExporter{exp},
					Batch: BatchConfig{MaxQueueSize: 1 << 20}})
				held := newProcessor(1 << 30)
				c.proc = held
				client := &http.Client{Transport: c.Transport(canned)}
				sent0 := sinkSpans(b)
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					doCall(b, context.Background(), client, body)
				}
				b.StopTimer()
				cpu1 := cpuTime()
				if n := held.queued(); n != b.N {
					b.Fatalf("%d calls queued, want %d", n, b.N)
				}
				held.handle(nil)
				held.start() // for Flush and Shutdown
				if err := c.Flush(context.Background()); err != nil {
					b.Fatal(err)
				}
				cpu2 := cpuTime()
				st := c.Stats()
				if st.Exported != uint64(b.N) {
					b.Fatalf("stats %+v, want %d exported", st, b.N)
				}
				if got := sinkSpans(b) - sent0; got != int64(b.N) {
					b.Fatalf("the receiver got %d spans, want %d", got, b.N)
				}
				b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(b.N), "caller-cpu-ns/op")
				b.ReportMetric(float64((cpu2-cpu1).Nanoseconds())/float64(b.N), "bg-cpu-ns/span")
			})
		}
	}
}
