package lumina

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestRedaction(t *testing.T) {
	email := regexp.MustCompile(`[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-z]{2,}`)
	srv := fakeServer(t, map[string]*fake{"/v1/chat/completions": {body: readFile(t, "openai_chat.json")}})
	var keys []string
	var mu sync.Mutex
	redact := RedactPatterns("[email]", email)
	c, exp := newTestClient(t, Config{Redact: func(k, v string) string {
		mu.Lock()
		keys = append(keys, k)
		mu.Unlock()
		if k == keyToolDefinitions {
			return "" // removes the attribute
		}
		return redact(k, v)
	}})
	req := `{"model":"gpt-4o","messages":[{"role":"user","content":"Mail ada@example.com the report"}],"tools":[{"type":"function"}]}`
	_, got := post(t, context.Background(), c.HTTPClient(), srv.URL+"/v1/chat/completions", req)
	if got != readFile(t, "openai_chat.json") {
		t.Fatal("redaction changed what the application read")
	}
	a := attrs(only(t, c, exp))
	wantJSON(t, a, keyInputMessages, `[{"role":"user","parts":[{"type":"text","content":"Mail [email] the report"}]}]`)
	noAttr(t, a, keyToolDefinitions)
	wantAttr(t, a, keyRequestModel, "gpt-4o") // not content: untouched
	if !strings.Contains(strings.Join(keys, ","), keyOutputMessages) {
		t.Errorf("redactor saw %v, want the output messages too", keys)
	}
}

func TestContentCaptureOff(t *testing.T) {
	srv := fakeServer(t, map[string]*fake{"/v1/messages": {body: readFile(t, "anthropic_message.json")}})
	c, exp := newTestClient(t, Config{DisableContent: true})
	post(t, context.Background(), c.HTTPClient(), srv.URL+"/v1/messages", anthropicRequestBody, anthropicHeader...)
	a := attrs(only(t, c, exp))
	for _, k := range []string{keyInputMessages, keyOutputMessages, keySystemInstr, keyToolDefinitions} {
		noAttr(t, a, k)
	}
	wantAttr(t, a, keyInputTokens, 2112)

	// Content another instrumentation puts on a span of the provider is removed at export.
	exp.Reset()
	client := anthropic.NewClient(aoption.WithBaseURL(srv.URL), aoption.WithAPIKey("k"), aoption.WithMaxRetries(0),
		aoption.WithTracerProvider(c.TracerProvider()), aoption.WithHTTPClient(c.HTTPClient()),
		aoption.WithOpenTelemetryTracesContentMode(aoption.OpenTelemetryContentModeContent))
	if _, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "claude-haiku-4-5", MaxTokens: 9,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("secret"))}}); err != nil {
		t.Fatal(err)
	}
	a = attrs(only(t, c, exp))
	noAttr(t, a, keyInputMessages)
	noAttr(t, a, keyOutputMessages)
	wantAttr(t, a, keyRequestModel, "claude-haiku-4-5")
}

func TestSampling(t *testing.T) {
	srv := fakeServer(t, map[string]*fake{"/v1/chat/completions": {body: readFile(t, "openai_chat.json")}})
	t.Run("never", func(t *testing.T) {
		c, exp := newTestClient(t, Config{Sampler: sdktrace.NeverSample()})
		_, got := post(t, context.Background(), c.HTTPClient(), srv.URL+"/v1/chat/completions", chatRequestBody)
		if got != readFile(t, "openai_chat.json") {
			t.Fatal("an unsampled call changed what the application read")
		}
		if n := len(spans(t, c, exp)); n != 0 {
			t.Fatalf("got %d spans, want 0", n)
		}
	})
	t.Run("ratio", func(t *testing.T) {
		c, exp := newTestClient(t, Config{SampleRatio: 0.25})
		const n = 2000
		for range n {
			_, s := c.Start(context.Background(), "root")
			s.End(nil)
		}
		got := len(spans(t, c, exp))
		// 2000 independent draws at p=0.25: [350, 650] is over 10 standard deviations wide.
		if got < 350 || got > 650 {
			t.Fatalf("sampled %d of %d at ratio 0.25", got, n)
		}
	})
	t.Run("children follow the root", func(t *testing.T) {
		c, exp := newTestClient(t, Config{SampleRatio: 0.5})
		for range 200 {
			ctx, root := c.Start(context.Background(), "root")
			_, child := c.Start(ctx, "child")
			child.End(nil)
			root.End(nil)
		}
		byTrace := map[[16]byte]int{}
		for _, s := range spans(t, c, exp) {
			byTrace[s.SpanContext.TraceID()]++
		}
		for id, k := range byTrace {
			if k != 2 {
				t.Fatalf("trace %x has %d spans, want root and child together", id, k)
			}
		}
	})
}

// slowExporter blocks every export until release is closed.
type slowExporter struct {
	release chan struct{}
	*keptExporter
}

func (e *slowExporter) ExportSpans(ctx context.Context, ss []sdktrace.ReadOnlySpan) error {
	select {
	case <-e.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return e.keptExporter.ExportSpans(ctx, ss)
}

func TestShutdownFlushesAndFullQueueDrops(t *testing.T) {
	mem := newKept()
	c, err := Init(context.Background(), Config{Endpoint: EndpointNone, KeepGlobal: true, Exporters: []sdktrace.SpanExporter{mem},
		Batch: BatchConfig{Delay: time.Hour, MaxBatchSize: 64, MaxQueueSize: 4096}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		_, s := c.Start(context.Background(), "span", Attributes(attribute.Int("i", i)))
		s.End(nil)
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !mem.shutdown.Load() {
		t.Error("Shutdown did not shut the exporter down")
	}
	if got := len(mem.GetSpans()); got != 1000 {
		t.Fatalf("exported %d spans after Shutdown, want 1000", got)
	}
	if st := c.Stats(); st.Exported != 1000 || st.Dropped != 0 {
		t.Errorf("stats %+v, want 1000 exported, 0 dropped", st)
	}

	// A stuck exporter: the queue fills, spans are dropped and counted, ending never blocks.
	slow := &slowExporter{release: make(chan struct{}), keptExporter: newKept()}
	c, err = Init(context.Background(), Config{Endpoint: EndpointNone, KeepGlobal: true, Exporters: []sdktrace.SpanExporter{slow},
		Batch: BatchConfig{Delay: time.Millisecond, MaxBatchSize: 1, MaxQueueSize: 8}})
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		_, s := c.Start(context.Background(), "span")
		s.End(nil)
	}
	st := c.Stats()
	if st.Dropped == 0 || st.Dropped > 100-8 {
		t.Errorf("stats %+v, want between 1 and 92 dropped", st)
	}
	close(slow.release)
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	st = c.Stats()
	if st.Exported+st.Dropped != 100 || len(slow.GetSpans()) != int(st.Exported) {
		t.Errorf("stats %+v, exporter got %d: every span is exported or counted as dropped", st, len(slow.GetSpans()))
	}
}

func TestFlush(t *testing.T) {
	c, exp := newTestClient(t, Config{Batch: BatchConfig{Delay: time.Hour}})
	_, s := c.Start(context.Background(), "one")
	s.End(nil)
	if n := len(exp.GetSpans()); n != 0 {
		t.Fatalf("exported %d before Flush with a one-hour delay", n)
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(exp.GetSpans()); n != 1 {
		t.Fatalf("exported %d after Flush, want 1", n)
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Errorf("Flush after Shutdown: %v", err)
	}
}

func TestDualExport(t *testing.T) {
	a, b := newKept(), newKept()
	c, err := Init(context.Background(), Config{Endpoint: EndpointNone, KeepGlobal: true, Exporters: []sdktrace.SpanExporter{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	_, s := c.Start(context.Background(), "both")
	s.End(nil)
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(a.GetSpans()) != 1 || len(b.GetSpans()) != 1 {
		t.Fatalf("exporters got %d and %d spans, want 1 each", len(a.GetSpans()), len(b.GetSpans()))
	}
}

func TestExistingTracerProvider(t *testing.T) {
	appExp, lum := tracetest.NewInMemoryExporter(), newKept()
	app := sdktrace.NewTracerProvider(sdktrace.WithSyncer(appExp))
	defer app.Shutdown(context.Background())
	c, err := Init(context.Background(), Config{Endpoint: EndpointNone, KeepGlobal: true, TracerProvider: app,
		Environment: "staging", Exporters: []sdktrace.SpanExporter{lum}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, own := app.Tracer("app").Start(WithUser(context.Background(), "u1"), "handler")
	_, s := c.Start(ctx, "step")
	s.End(nil)
	own.End()
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(lum.GetSpans()) != 2 || len(appExp.GetSpans()) != 2 {
		t.Fatalf("Lumina got %d, the application's exporter %d spans; want both spans in both", len(lum.GetSpans()), len(appExp.GetSpans()))
	}
	for _, sp := range lum.GetSpans() {
		a := attrs(sp)
		wantAttr(t, a, keyUserID, "u1")
		wantAttr(t, a, keyEnvironment, "staging")
	}
	// After Shutdown the application's provider runs on, without Lumina.
	_, after := app.Tracer("app").Start(context.Background(), "later")
	after.End()
	if len(appExp.GetSpans()) != 3 || len(lum.GetSpans()) != 2 {
		t.Errorf("after Shutdown: app %d, Lumina %d spans; want 3 and 2", len(appExp.GetSpans()), len(lum.GetSpans()))
	}
}

func TestIdentityFlowsToChildren(t *testing.T) {
	srv := fakeServer(t, map[string]*fake{"/v1/chat/completions": {body: readFile(t, "openai_chat.json")}})
	c, exp := newTestClient(t, Config{})
	ctx := WithSession(context.Background(), "sess-1")
	ctx = WithUser(ctx, "user-9")
	ctx = WithTags(ctx, "rag", "beta")
	ctx = WithTags(ctx, "beta", "eu")
	ctx = WithMetadata(ctx, "tenant", "acme")
	ctx = WithMetadata(ctx, "tenant", "acme-2")
	ctx, root := c.Start(ctx, "pipeline", Workflow("qa"))
	post(t, ctx, c.HTTPClient(), srv.URL+"/v1/chat/completions", chatRequestBody)
	root.End(nil)
	got := spans(t, c, exp)
	if len(got) != 2 {
		t.Fatalf("got %d spans, want 2", len(got))
	}
	for _, s := range got {
		a := attrs(s)
		wantAttr(t, a, keySessionID, "sess-1")
		wantAttr(t, a, keyUserID, "user-9")
		wantAttr(t, a, keyTags, []string{"rag", "beta", "eu"})
		wantAttr(t, a, "metadata.tenant", "acme-2")
	}
	if SessionID(ctx) != "sess-1" || UserID(ctx) != "user-9" || SessionID(context.Background()) != "" {
		t.Error("SessionID/UserID do not read the context")
	}
}

func TestTraceHelpers(t *testing.T) {
	c, exp := newTestClient(t, Config{})
	boom := errors.New("boom")
	ctx := context.Background()
	err := c.Trace(ctx, "rag", func(ctx context.Context) error {
		_ = c.Trace(ctx, "retrieve", func(ctx context.Context) error {
			_, s := c.Start(ctx, "search")
			s.SetRetrieval("what is lumina?", []Document{{ID: "doc-1", Score: 0.9}})
			s.End(nil)
			return nil
		}, Retrieval("kb"))
		_ = c.Trace(ctx, "rerank", func(context.Context) error { return nil }, Rerank())
		temp := 0.1
		return c.TraceLLM(ctx, LLMRequest{Provider: "aws.bedrock", Model: "anthropic.claude-3-haiku", Temperature: &temp,
			System: "Answer from the documents.", Messages: []Message{Text("user", "what is lumina?")}},
			func(ctx context.Context) (LLMResponse, error) {
				return LLMResponse{ResponseModel: "anthropic.claude-3-haiku", FinishReasons: []string{"end_turn"},
					Output: []Message{Text("assistant", "An observability platform.")},
					Usage:  Usage{InputTokens: 120, OutputTokens: 8, CacheReadTokens: 100}, CostUSD: 0.0001}, boom
			})
	}, Workflow("qa"))
	if !errors.Is(err, boom) {
		t.Fatalf("Trace returned %v, want boom", err)
	}
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans(t, c, exp) {
		byName[s.Name] = s
	}
	parent := func(child, parent string) {
		if byName[child].Parent.SpanID() != byName[parent].SpanContext.SpanID() {
			t.Errorf("%s is not a child of %s", child, parent)
		}
	}
	parent("retrieve", "rag")
	parent("search", "retrieve")
	parent("rerank", "rag")
	parent("chat anthropic.claude-3-haiku", "rag")
	wantAttr(t, attrs(byName["rag"]), keyOperation, "invoke_workflow")
	wantAttr(t, attrs(byName["retrieve"]), keyDataSourceID, "kb")
	wantAttr(t, attrs(byName["rerank"]), keyOperation, "rerank")
	wantAttr(t, attrs(byName["search"]), keyRetrievalQuery, "what is lumina?")
	wantJSON(t, attrs(byName["search"]), keyRetrievalDocs, `[{"id":"doc-1","score":0.9}]`)
	a := attrs(byName["chat anthropic.claude-3-haiku"])
	wantAttr(t, a, keyProvider, "aws.bedrock")
	wantAttr(t, a, keyInputTokens, 120)
	wantAttr(t, a, keyCacheReadTokens, 100)
	wantAttr(t, a, keyCostUSD, 0.0001)
	wantAttr(t, a, keyErrorType, "client_error")
	wantJSON(t, a, keySystemInstr, `[{"type":"text","content":"Answer from the documents."}]`)
	wantJSON(t, a, keyOutputMessages, `[{"role":"assistant","parts":[{"type":"text","content":"An observability platform."}]}]`)
	if byName["rag"].Status.Description != "boom" {
		t.Errorf("rag status %v, want boom", byName["rag"].Status)
	}
}

func TestContentLimit(t *testing.T) {
	c, exp := newTestClient(t, Config{MaxContentBytes: 100})
	long := strings.Repeat("é", 300) // 600 bytes
	msgs := []Message{Text("user", long), Text("user", long)}
	_, s := c.StartLLM(context.Background(), LLMRequest{Provider: "openai", Model: "m", Messages: msgs})
	s.End(LLMResponse{}, nil)
	a := attrs(only(t, c, exp))
	wantAttr(t, a, keyContentTruncated, true)
	v := a[keyInputMessages].AsString()
	if len(v) > 400 {
		t.Errorf("input messages are %d bytes, want them cut near 100 bytes of text", len(v))
	}
	wantJSON(t, a, keyInputMessages, `[{"role":"user","parts":[{"type":"text","content":"`+strings.Repeat("é", 50)+`…[truncated]"}]},`+
		`{"role":"user","parts":[{"type":"text","content":"…[truncated]"}]}]`)
	if msgs[0].Parts[0].Content != long {
		t.Error("StartLLM changed the caller's messages")
	}
}

func TestStreamsWithoutContent(t *testing.T) {
	srv := fakeServer(t, map[string]*fake{
		"/v1/chat/completions": {events: split(readFile(t, "openai_chat_stream.sse"), 64)},
		"/v1/messages":         {events: split(readFile(t, "anthropic_stream.sse"), 64)},
	})
	c, exp := newTestClient(t, Config{DisableContent: true})
	post(t, context.Background(), c.HTTPClient(), srv.URL+"/v1/chat/completions", `{"model":"o4-mini","stream":true,"messages":[{"role":"user","content":"x"}]}`)
	a := attrs(only(t, c, exp))
	wantAttr(t, a, keyInputTokens, 19)
	wantAttr(t, a, keyReasoningTokens, 192)
	wantAttr(t, a, keyFinishReasons, []string{"stop"})
	wantAttr(t, a, keyResponseModel, "o4-mini-2025-04-16")
	noAttr(t, a, keyOutputMessages)
	if _, ok := a[keyTimeToFirstChunk]; !ok {
		t.Error("time to first chunk missing")
	}
	exp.Reset()
	post(t, context.Background(), c.HTTPClient(), srv.URL+"/v1/messages", `{"model":"claude-haiku-4-5","stream":true,"messages":[]}`, anthropicHeader...)
	a = attrs(only(t, c, exp))
	wantAttr(t, a, keyInputTokens, 1525)
	wantAttr(t, a, keyOutputTokens, 15)
	noAttr(t, a, keyOutputMessages)
	if _, ok := a[keyTimeToFirstChunk]; !ok {
		t.Error("time to first chunk missing")
	}
}

func TestNonNullKey(t *testing.T) {
	for data, want := range map[string]bool{
		`{"usage":null}`:                 false,
		`{"usage" : null}`:               false,
		`{"usage": {"prompt_tokens":1}}`: true,
		`{"usage":{"prompt_tokens":1}}`:  true,
		`{"choices":[],"x":1}`:           false,
		`{"a":"the usage","usage":null}`: false,
	} {
		if got := nonNullKey([]byte(data), "usage"); got != want {
			t.Errorf("nonNullKey(%s) = %v, want %v", data, got, want)
		}
	}
}
