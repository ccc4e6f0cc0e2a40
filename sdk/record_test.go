package lumina

import (
	"context"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestRecorderMatchesTracer sends the same calls through a client whose transport spans are
// built by the recorder and through one whose spans go through the SDK's tracer, and wants
// the same spans: name, kind, parent, flags, times, attributes in order, status, resource and
// scope; only the random ids differ.
func TestRecorderMatchesTracer(t *testing.T) {
	srv := fakeServer(t, map[string]*fake{
		"/v1/chat/completions":        {body: readFile(t, "openai_chat.json")},
		"/stream/v1/chat/completions": {events: split(readFile(t, "openai_chat_stream.sse"), 64)},
		"/err/v1/chat/completions":    {status: 429, body: `{"error":{"message":"slow down","type":"rate_limit"}}`},
		"/v1/messages":                {body: readFile(t, "anthropic_message.json")},
		"/v1/responses":               {body: readFile(t, "openai_responses.json")},
	})
	parentCtx, parent := sdktrace.NewTracerProvider().Tracer("app").Start(context.Background(), "parent")
	defer parent.End()
	cases := []struct {
		name, path, body string
		ctx              context.Context
		cfg              Config
	}{
		{"chat", "/v1/chat/completions", chatRequestBody, context.Background(), Config{}},
		{"chat with parent and identity", "/v1/chat/completions", chatRequestBody,
			WithMetadata(WithTags(WithUser(WithSession(parentCtx, "s1"), "u1"), "a", "b"), "k", "v"), Config{}},
		{"chat without content", "/v1/chat/completions", chatRequestBody, context.Background(), Config{DisableContent: true}},
		{"stream", "/stream/v1/chat/completions", `{"model":"o4-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
			context.Background(), Config{}},
		{"error", "/err/v1/chat/completions", chatRequestBody, context.Background(), Config{}},
		{"anthropic", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`,
			context.Background(), Config{}},
		{"responses", "/v1/responses", `{"model":"gpt-4.1","input":"hi"}`, context.Background(), Config{}},
		{"sampled out", "/v1/chat/completions", chatRequestBody, context.Background(), Config{Sampler: sdktrace.NeverSample()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]tracetest.SpanStubs
			for i, direct := range []bool{true, false} {
				c, exp := newTestClient(t, tc.cfg)
				if c.direct == nil {
					t.Fatal("Init did not set up the recorder")
				}
				if !direct {
					c.direct = nil
				}
				post(t, tc.ctx, c.HTTPClient(), srv.URL+tc.path, tc.body, "anthropic-version", "2023-06-01")
				got[i] = spans(t, c, exp)
			}
			if want := map[bool]int{true: 0, false: 1}[tc.name == "sampled out"]; len(got[1]) != want {
				t.Fatalf("tracer made %d spans, want %d", len(got[1]), want)
			}
			if len(got[0]) != len(got[1]) {
				t.Fatalf("recorder made %d spans, tracer %d", len(got[0]), len(got[1]))
			}
			for i := range got[0] {
				d, s := normStub(t, got[0][i]), normStub(t, got[1][i])
				if !d.Resource.Equal(s.Resource) {
					t.Errorf("resource %v, want %v", d.Resource, s.Resource)
				}
				d.Resource, s.Resource = nil, nil
				if !reflect.DeepEqual(d, s) {
					t.Errorf("recorder's span\n%+v\nwant the tracer's\n%+v", d, s)
				}
			}
		})
	}
}

// normStub clears what differs between two recordings of the same call: ids and times
// (checked for validity and order), and the empty-versus-nil events and links.
func normStub(t *testing.T, s tracetest.SpanStub) tracetest.SpanStub {
	t.Helper()
	if !s.SpanContext.IsValid() || s.StartTime.IsZero() || s.EndTime.Before(s.StartTime) {
		t.Errorf("span context %v, times %v–%v", s.SpanContext, s.StartTime, s.EndTime)
	}
	if s.Parent.IsValid() && s.Parent.TraceID() != s.SpanContext.TraceID() {
		t.Errorf("trace id %v, want the parent's %v", s.SpanContext.TraceID(), s.Parent.TraceID())
	}
	s.SpanContext = trace.NewSpanContext(trace.SpanContextConfig{TraceFlags: s.SpanContext.TraceFlags(),
		TraceState: s.SpanContext.TraceState()})
	if s.Parent.IsValid() {
		s.Parent = trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1},
			TraceFlags: s.Parent.TraceFlags()})
	}
	s.StartTime, s.EndTime = time.Time{}, time.Time{}
	if len(s.Events) == 0 {
		s.Events = nil
	}
	if len(s.Links) == 0 {
		s.Links = nil
	}
	for i, kv := range s.Attributes {
		if kv.Key == keyTimeToFirstChunk {
			s.Attributes[i] = attribute.Float64(keyTimeToFirstChunk, 0)
		}
	}
	return s
}

// TestRecorderFallsBack checks that the tracer records the spans when the recorder cannot
// reproduce the provider: span limits set in the environment, or a provider not Init's.
func TestRecorderFallsBack(t *testing.T) {
	t.Setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "8")
	c, _ := newTestClient(t, Config{})
	if c.direct != nil {
		t.Error("recorder set up with OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT set")
	}
	t.Setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "")
	c, _ = newTestClient(t, Config{TracerProvider: sdktrace.NewTracerProvider()})
	if c.direct != nil {
		t.Error("recorder set up for the application's provider")
	}
}
