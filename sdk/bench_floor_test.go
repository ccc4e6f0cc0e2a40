package lumina

import (
	"context"
	"net/http"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// The floor of issue 10: what the same span costs with the OpenTelemetry SDK alone, exported
// the same way (the OTLP/HTTP exporter to the receiver in another process), so the SDK's own
// share of its CPU per span is the difference.

// luminaSpan returns the name and attributes of the span the SDK records for one call.
func luminaSpan(b *testing.B, canned cannedTransport, body string) tracetest.SpanStub {
	b.Helper()
	exp := newKept()
	c := benchClient(b, Config{Exporters: []sdktrace.SpanExporter{exp}})
	doCall(b, context.Background(), &http.Client{Transport: c.Transport(canned)}, body)
	if err := c.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	got := exp.GetSpans()
	if len(got) != 1 {
		b.Fatalf("got %d spans, want 1", len(got))
	}
	return got[0]
}

// bareOTelLatency is callerLatency's SDK case done by hand with the OpenTelemetry SDK: a
// live span from the provider's tracer around the same call, with the same attributes as
// Lumina's span (already built: only the span's own cost is counted), ended, batched by the
// OpenTelemetry batch span processor (Lumina's batch settings) and exported over OTLP/HTTP.
func bareOTelLatency(b *testing.B, canned cannedTransport, body string) {
	stub := luminaSpan(b, canned, body)
	name, attrs := stub.Name, stub.Attributes
	exp, err := newExporter(context.Background(), settings{Config: Config{Endpoint: externalSink(b), Protocol: ProtocolHTTP}})
	if err != nil {
		b.Fatal(err)
	}
	bsp := sdktrace.NewBatchSpanProcessor(exp, sdktrace.WithMaxQueueSize(1<<16),
		sdktrace.WithBatchTimeout(DefaultExportDelay), sdktrace.WithMaxExportBatchSize(DefaultMaxBatchSize),
		sdktrace.WithExportTimeout(time.Minute))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(bsp))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tracer := tp.Tracer(scopeName, trace.WithInstrumentationVersion(Version))
	client := &http.Client{Transport: canned}
	sent0 := sinkSpans(b)
	lat := make([]time.Duration, 0, 1<<16)
	heap0 := heapAllocs()
	cpu0 := cpuTime()
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		ctx, span := tracer.Start(context.Background(), name, spanKindClient, trace.WithAttributes(attrs...))
		doCall(b, ctx, client, body)
		span.End()
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
		n++
	}
	b.StopTimer()
	if err := tp.ForceFlush(context.Background()); err != nil {
		b.Fatal(err)
	}
	cpu := cpuTime() - cpu0
	heap := heapAllocs()
	if got := sinkSpans(b) - sent0; got != int64(n) {
		b.Fatalf("the receiver got %d spans, want %d (the batch span processor dropped some)", got, n)
	}
	reportLoop(b, n, lat, cpu, heap0, heap)
}

// BenchmarkExportFloor is the OTLP/HTTP exporter alone: spans with the attributes of
// Lumina's (the same resource and scope), already finished, exported in batches of DefaultMaxBatchSize to the receiver in
// another process. cpu-ns/span is what the OpenTelemetry exporter (transform to protobuf,
// marshal, HTTP) costs per span, below which no OTLP export can go on this machine.
func BenchmarkExportFloor(b *testing.B) {
	for _, mode := range []string{"plain", "stream"} {
		canned, body := benchCase(b, mode == "stream")
		b.Run(mode, func(b *testing.B) {
			stub := luminaSpan(b, canned, body)
			exp, err := newExporter(context.Background(), settings{Config: Config{Endpoint: externalSink(b), Protocol: ProtocolHTTP}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
			batch := make([]sdktrace.ReadOnlySpan, 0, DefaultMaxBatchSize)
			sent0 := sinkSpans(b)
			heap0 := heapAllocs()
			cpu0 := cpuTime()
			send := func() {
				if err := exp.ExportSpans(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				clear(batch)
				batch = batch[:0]
			}
			b.ReportAllocs()
			for b.Loop() {
				stub.SpanContext = trace.NewSpanContext(trace.SpanContextConfig{
					TraceID: newTraceID(), SpanID: newSpanID(), TraceFlags: trace.FlagsSampled})
				batch = append(batch, stub.Snapshot())
				if len(batch) == cap(batch) {
					send()
				}
			}
			if len(batch) > 0 {
				send()
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			heap := heapAllocs()
			if got := sinkSpans(b) - sent0; got != int64(b.N) {
				b.Fatalf("the receiver got %d spans, want %d", got, b.N)
			}
			b.ReportMetric(float64(heap[0]-heap0[0])/float64(b.N), "total-allocs/span")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/span")
		})
	}
}
