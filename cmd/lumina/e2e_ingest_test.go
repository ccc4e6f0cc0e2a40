package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"
)

// TestOTelSDKExporters sends spans through the OpenTelemetry Go SDK's own OTLP exporters,
// over HTTP and over gRPC with gzip, and reads them back through the API.
func TestOTelSDKExporters(t *testing.T) {
	a := startTestApp(t)
	exporters := map[string]func(ctx context.Context) (*otlptrace.Exporter, error){
		"http": func(ctx context.Context) (*otlptrace.Exporter, error) {
			return otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(a.addr("otlp-http")), otlptracehttp.WithInsecure())
		},
		"http-gzip-ingest-port": func(ctx context.Context) (*otlptrace.Exporter, error) {
			return otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(a.addr("ingest")), otlptracehttp.WithInsecure(), otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
		},
		"grpc-gzip": func(ctx context.Context) (*otlptrace.Exporter, error) {
			return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(a.addr("otlp-grpc")), otlptracegrpc.WithInsecure(), otlptracegrpc.WithCompressor("gzip"))
		},
	}
	for name, newExporter := range exporters {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			exp, err := newExporter(ctx)
			if err != nil {
				t.Fatal(err)
			}
			res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName("svc-"+name))
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
			tracer := tp.Tracer("e2e")
			ctx, root := tracer.Start(ctx, "answer question")
			_, llm := tracer.Start(ctx, "chat gpt-4o-mini", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
				attribute.String("gen_ai.operation.name", "chat"),
				attribute.String("gen_ai.provider.name", "openai"),
				attribute.String("gen_ai.request.model", "gpt-4o-mini"),
				attribute.Int("gen_ai.usage.input_tokens", 11),
				attribute.Int("gen_ai.usage.output_tokens", 7),
			))
			llm.AddEvent("chunk", trace.WithAttributes(attribute.Int("n", 1)))
			llm.SetStatus(codes.Error, "rate limited")
			llm.End()
			root.End()
			if err := tp.Shutdown(ctx); err != nil {
				t.Fatalf("exporter shutdown: %v", err)
			}
			traceID := root.SpanContext().TraceID().String()
			tr := a.waitTrace(traceID, 2)
			if tr.Name != "answer question" || tr.ServiceName != "svc-"+name {
				t.Errorf("got trace %q of %q, want %q of %q", tr.Name, tr.ServiceName, "answer question", "svc-"+name)
			}
			if tr.Status != "error" {
				t.Errorf("got trace status %q, want error (a span failed)", tr.Status)
			}
			var chat = tr.Spans[1]
			if chat.Name != "chat gpt-4o-mini" || chat.ParentSpanID != root.SpanContext().SpanID().String() || chat.Kind != "client" {
				t.Errorf("got child span %q parent %s kind %s, want chat gpt-4o-mini under the root, client", chat.Name, chat.ParentSpanID, chat.Kind)
			}
			if chat.Attributes["gen_ai.request.model"] != "gpt-4o-mini" || len(chat.Events) != 1 {
				t.Errorf("got attributes %v and %d events, want the model attribute and 1 event", chat.Attributes, len(chat.Events))
			}
			if chat.GenAI == nil || chat.GenAI.InputTokens != 11 || chat.GenAI.OutputTokens != 7 {
				t.Fatalf("got genai %+v, want 11 input and 7 output tokens", chat.GenAI)
			}
			if tr.InputTokens != 11 || tr.OutputTokens != 7 || tr.LLMCallCount != 1 {
				t.Errorf("got trace tokens %d/%d and %d calls, want 11/7 and 1", tr.InputTokens, tr.OutputTokens, tr.LLMCallCount)
			}
		})
	}
}

// TestRawBodies posts hand-written OTLP/JSON and gzip-compressed protobuf.
func TestRawBodies(t *testing.T) {
	a := startTestApp(t)
	traceID := "5b8efff798038103d269b633813fc60c"
	jsonBody := `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-svc"}}]},
	  "scopeSpans":[{"scope":{"name":"manual"},"spans":[
	    {"traceId":"` + traceID + `","spanId":"eee19b7ec3c1b174","name":"GET /ask","kind":2,
	     "startTimeUnixNano":"1733220000000000000","endTimeUnixNano":"1733220000250000000",
	     "attributes":[{"key":"http.route","value":{"stringValue":"/ask"}},{"key":"retries","value":{"intValue":"3"}}],
	     "status":{"code":1}}]}]}]}`
	resp, body := post(t, a.url("ingest", "/v1/traces"), "application/json", "", []byte(jsonBody))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %s %s, want 200 application/json", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	tr := a.waitTrace(traceID, 1)
	if got := tr.Spans[0]; got.Name != "GET /ask" || got.Kind != "server" || got.Status != "ok" || got.Attributes["retries"] != float64(3) {
		t.Errorf("got span %+v, want GET /ask, server, ok, retries=3", got)
	}
	if tr.Spans[0].GenAI != nil {
		t.Errorf("got a genai view on a plain HTTP span: %+v", tr.Spans[0].GenAI)
	}

	td, gzID := buildTraces("gzip-svc", 3)
	resp, body = post(t, a.url("otlp-http", "/v1/traces"), "application/x-protobuf", "gzip", gzipped(protoBody(t, td)))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-protobuf" {
		t.Fatalf("got %d %s, want 200 application/x-protobuf", resp.StatusCode, body)
	}
	got := ptraceotlp.NewExportResponse()
	if err := got.UnmarshalProto(body); err != nil {
		t.Fatalf("response is not an ExportTraceServiceResponse: %v", err)
	}
	if got.PartialSuccess().RejectedSpans() != 0 {
		t.Errorf("got %d rejected spans, want 0", got.PartialSuccess().RejectedSpans())
	}
	a.waitTrace(gzID, 3)
}

// TestBadInput checks every refusal: status, message, and that nothing else is lost.
func TestBadInput(t *testing.T) {
	const limit = 64 << 10
	a := startTestApp(t, "--max-body-bytes", fmt.Sprint(limit))
	good, goodID := buildTraces("good", 2)
	zeroTrace, _ := buildTraces("bad-ids", 3)
	spans := zeroTrace.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	spans.At(1).SetTraceID([16]byte{})
	spans.At(2).SetSpanID([8]byte{})
	keptID := hex.EncodeToString(func() []byte { id := spans.At(0).TraceID(); return id[:] }())
	huge := make([]byte, 2*limit)
	cases := []struct {
		name, contentType, encoding string
		body                        []byte
		wantStatus                  int
		wantMessage                 string
	}{
		{"malformed protobuf", "application/x-protobuf", "", []byte{0x0a, 0xff, 0xff, 0x01}, 400, "malformed OTLP traces (protobuf)"},
		{"malformed json", "application/json", "", []byte(`{"resourceSpans":[{`), 400, "malformed OTLP traces (json)"},
		{"bad hex id in json", "application/json", "", []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"eee19b7ec3c1b174","name":"x"}]}]}]}`), 400, "malformed OTLP traces (json)"},
		{"wrong content type", "text/plain", "", []byte("hello"), 415, "unsupported Content-Type"},
		{"missing content type", "", "", protoBody(t, good), 415, "unsupported Content-Type"},
		{"unsupported encoding", "application/x-protobuf", "br", protoBody(t, good), 415, "unsupported Content-Encoding"},
		{"invalid gzip", "application/x-protobuf", "gzip", []byte("not gzip"), 400, "invalid gzip body"},
		{"too large", "application/x-protobuf", "", huge, 413, "exceeds the 65536-byte limit"},
		{"gzip bomb", "application/x-protobuf", "gzip", gzipped(make([]byte, 64*limit)), 413, "exceeds the 65536-byte limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(t, a.url("ingest", "/v1/traces"), tc.contentType, tc.encoding, tc.body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("got status %d (%s), want %d", resp.StatusCode, body, tc.wantStatus)
			}
			if !strings.Contains(string(body), tc.wantMessage) {
				t.Errorf("got body %q, want it to say %q", body, tc.wantMessage)
			}
		})
	}
	t.Run("invalid ids rejected in partial success", func(t *testing.T) {
		resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, zeroTrace))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got %d %s, want 200 with partial success", resp.StatusCode, body)
		}
		got := ptraceotlp.NewExportResponse()
		if err := got.UnmarshalProto(body); err != nil {
			t.Fatal(err)
		}
		if ps := got.PartialSuccess(); ps.RejectedSpans() != 2 || !strings.Contains(ps.ErrorMessage(), "all-zero trace_id") || !strings.Contains(ps.ErrorMessage(), "all-zero span_id") {
			t.Errorf("got partial success %d %q, want 2 rejected naming both problems", ps.RejectedSpans(), ps.ErrorMessage())
		}
		a.waitTrace(keptID, 1)
	})
	t.Run("wrong method", func(t *testing.T) {
		resp, err := http.Get(a.url("ingest", "/v1/traces"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("got %d, want 405", resp.StatusCode)
		}
	})
	// After all of that, good spans still flow.
	resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, good))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d %s for a good request after bad ones", resp.StatusCode, body)
	}
	a.waitTrace(goodID, 2)
}
