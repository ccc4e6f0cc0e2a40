package lumina

import (
	"context"
	"testing"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	ooption "github.com/openai/openai-go/v3/option"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestOpenAIGoClient(t *testing.T) {
	srv := fakeServer(t, map[string]*fake{
		"/v1/chat/completions": {body: readFile(t, "openai_chat.json")},
	})
	c, exp := newTestClient(t, Config{})
	client := openai.NewClient(ooption.WithBaseURL(srv.URL+"/v1/"), ooption.WithAPIKey("test"),
		ooption.WithHTTPClient(c.HTTPClient()), ooption.WithMaxRetries(0))
	ctx, parent := c.Start(context.Background(), "answer")
	res, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("Weather in Paris?")},
	})
	parent.End(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Choices[0].Message.ToolCalls[0].Function.Name; got != "get_weather" {
		t.Fatalf("client decoded tool call %q, want get_weather", got)
	}
	got := spans(t, c, exp)
	if len(got) != 2 {
		t.Fatalf("got %d spans, want 2", len(got))
	}
	// The call's span is recorded after the fact, so it may be exported after its parent;
	// its times are those of the call, inside the parent's.
	llm, app := got[0], got[1]
	if app.Name != "answer" {
		llm, app = app, llm
	}
	if llm.Parent.SpanID() != app.SpanContext.SpanID() {
		t.Errorf("the call's span is not a child of the application's span")
	}
	if llm.StartTime.Before(app.StartTime) || llm.EndTime.After(app.EndTime) || !llm.EndTime.After(llm.StartTime) {
		t.Errorf("call span %v–%v is not within its parent %v–%v", llm.StartTime, llm.EndTime, app.StartTime, app.EndTime)
	}
	a := attrs(llm)
	wantAttr(t, a, keyRequestModel, "gpt-4o")
	wantAttr(t, a, keyInputTokens, 1117)
	wantJSON(t, a, keyInputMessages, `[{"role":"system","parts":[{"type":"text","content":"Be brief."}]},{"role":"user","parts":[{"type":"text","content":"Weather in Paris?"}]}]`)
}

func TestOpenAIGoClientStream(t *testing.T) {
	srv := fakeServer(t, map[string]*fake{
		"/v1/chat/completions": {events: split(readFile(t, "openai_chat_stream.sse"), 40)},
	})
	c, exp := newTestClient(t, Config{})
	client := openai.NewClient(ooption.WithBaseURL(srv.URL+"/v1/"), ooption.WithAPIKey("test"),
		ooption.WithHTTPClient(c.HTTPClient()), ooption.WithMaxRetries(0))
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:         "o4-mini",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if err := stream.Close(); err != nil {
		t.Fatal(err)
	}
	if got := acc.Choices[0].Message.Content; got != "Hello, world!" {
		t.Fatalf("client accumulated %q", got)
	}
	a := attrs(only(t, c, exp))
	wantAttr(t, a, keyOutputTokens, 210)
	wantAttr(t, a, keyReasoningTokens, 192)
	wantJSON(t, a, keyOutputMessages, `[{"role":"assistant","finish_reason":"stop","parts":[{"type":"text","content":"Hello, world!"}]}]`)
}

// anthropicCall makes one call, plain or streamed, through the instrumented client.
func anthropicCall(t *testing.T, c *Client, url string, stream bool, opts ...aoption.RequestOption) string {
	t.Helper()
	opts = append([]aoption.RequestOption{aoption.WithBaseURL(url), aoption.WithAPIKey("test"),
		aoption.WithHTTPClient(c.HTTPClient()), aoption.WithMaxRetries(0)}, opts...)
	client := anthropic.NewClient(opts...)
	params := anthropic.MessageNewParams{
		Model: "claude-haiku-4-5", MaxTokens: 64,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))},
	}
	if !stream {
		msg, err := client.Messages.New(context.Background(), params)
		if err != nil {
			t.Fatal(err)
		}
		return msg.Content[1].Text
	}
	s := client.Messages.NewStreaming(context.Background(), params)
	var msg anthropic.Message
	for s.Next() {
		if err := msg.Accumulate(s.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	return msg.Content[0].Text
}

// countUsage returns how many spans carry usage: what Lumina would count.
func countUsage(ss tracetest.SpanStubs) int {
	n := 0
	for _, s := range ss {
		if _, ok := attrs(s)[keyInputTokens]; ok {
			n++
		}
	}
	return n
}

// TestAnthropicSDKOneSpan checks that one call through anthropic-sdk-go with the instrumented
// transport is one span carrying usage, however the SDK's own telemetry is set up.
func TestAnthropicSDKOneSpan(t *testing.T) {
	for _, stream := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "stream"}[stream]
		want := map[bool]string{false: "Let me check.", true: "Hello!"}[stream]
		routes := map[string]*fake{"/v1/messages": {body: readFile(t, "anthropic_message.json")}}
		if stream {
			routes["/v1/messages"] = &fake{events: split(readFile(t, "anthropic_stream.sse"), 45)}
		}

		t.Run(name+"/sdk telemetry off", func(t *testing.T) {
			srv := fakeServer(t, routes)
			c, exp := newTestClient(t, Config{})
			if got := anthropicCall(t, c, srv.URL, stream, aoption.WithoutOpenTelemetry()); got != want {
				t.Fatalf("client read %q, want %q", got, want)
			}
			s := only(t, c, exp)
			if s.InstrumentationScope.Name != scopeName {
				t.Errorf("span scope %q, want the transport's", s.InstrumentationScope.Name)
			}
			a := attrs(s)
			wantAttr(t, a, keyProvider, "anthropic")
			wantJSON(t, a, keyInputMessages, `[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]`)
		})

		t.Run(name+"/sdk spans to lumina", func(t *testing.T) {
			srv := fakeServer(t, routes)
			c, exp := newTestClient(t, Config{})
			if got := anthropicCall(t, c, srv.URL, stream, aoption.WithTracerProvider(c.TracerProvider())); got != want {
				t.Fatalf("client read %q, want %q", got, want)
			}
			// The SDK's span, enriched with the messages it leaves out by default.
			s := only(t, c, exp)
			if s.Name != "anthropic.messages.create" {
				t.Errorf("span %q, want the SDK's anthropic.messages.create", s.Name)
			}
			a := attrs(s)
			wantAttr(t, a, keyProvider, "anthropic")
			if _, ok := a[keyInputTokens]; !ok {
				t.Error("the SDK's span lost its usage")
			}
			wantJSON(t, a, keyInputMessages, `[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]`)
			if _, ok := a[keyOutputMessages]; !ok {
				t.Error("output messages missing on the SDK's span")
			}
		})

		t.Run(name+"/sdk content mode", func(t *testing.T) {
			srv := fakeServer(t, routes)
			c, exp := newTestClient(t, Config{})
			anthropicCall(t, c, srv.URL, stream, aoption.WithTracerProvider(c.TracerProvider()),
				aoption.WithOpenTelemetryTracesContentMode(aoption.OpenTelemetryContentModeContent))
			s := only(t, c, exp)
			if _, ok := attrs(s)[keyInputMessages]; !ok {
				t.Error("the SDK's own content is missing")
			}
		})

		t.Run(name+"/sdk spans elsewhere", func(t *testing.T) {
			srv := fakeServer(t, routes)
			c, exp := newTestClient(t, Config{})
			other := tracetest.NewInMemoryExporter()
			app := sdktrace.NewTracerProvider(sdktrace.WithSyncer(other))
			defer app.Shutdown(context.Background())
			anthropicCall(t, c, srv.URL, stream, aoption.WithTracerProvider(app))
			// Lumina gets the transport's span; the other backend gets the SDK's.
			s := only(t, c, exp)
			if s.InstrumentationScope.Name != scopeName {
				t.Errorf("Lumina got %q from %q, want the transport's span", s.Name, s.InstrumentationScope.Name)
			}
			appSpans := other.GetSpans()
			if len(appSpans) != 1 || countUsage(appSpans)+countUsage(tracetest.SpanStubs{s}) != 2 {
				t.Fatalf("other backend got %d spans, want the SDK's one", len(appSpans))
			}
			if s.Parent.SpanID() != appSpans[0].SpanContext.SpanID() || s.SpanContext.TraceID() != appSpans[0].SpanContext.TraceID() {
				t.Error("the transport's span is not the SDK span's child")
			}
		})
	}
}
