package lumina

import (
	"context"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// stuckSampler blocks the first span it sees until unblock is closed: a processor stuck in
// the provider.
type stuckSampler struct {
	once             *sync.Once
	entered, unblock chan struct{}
}

func (s stuckSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	s.once.Do(func() {
		close(s.entered)
		<-s.unblock
	})
	return sdktrace.AlwaysSample().ShouldSample(p)
}

func (stuckSampler) Description() string { return "stuck" }

// TestFullQueueDropsCalls checks that calls never wait for a stuck processor: once its queue
// is full, calls pass through unrecorded and are counted; nothing is lost uncounted.
func TestFullQueueDropsCalls(t *testing.T) {
	srv := fakeServer(t, map[string]*fake{"/v1/chat/completions": {body: readFile(t, "openai_chat.json")}})
	s := stuckSampler{once: new(sync.Once), entered: make(chan struct{}), unblock: make(chan struct{})}
	const queue, extra = 4, 6
	c, exp := newTestClient(t, Config{Sampler: s, Batch: BatchConfig{MaxQueueSize: queue}})
	client := c.HTTPClient()
	call := func() {
		_, got := post(t, context.Background(), client, srv.URL+"/v1/chat/completions", benchChatRequest)
		if len(got) == 0 {
			t.Fatal("the application read an empty body")
		}
	}
	call()
	<-s.entered // the processor holds the first call
	for range queue + extra {
		call()
	}
	if st := c.Stats(); st.DroppedCalls != extra {
		t.Fatalf("stats %+v, want %d dropped calls", st, extra)
	}
	close(s.unblock)
	got := spans(t, c, exp)
	st := c.Stats()
	if uint64(len(got))+st.Dropped != 1+queue || st.DroppedCalls != extra {
		t.Errorf("exported %d spans, stats %+v: want the %d queued calls exported or counted, %d calls dropped",
			len(got), st, 1+queue, extra)
	}
	for _, sp := range got {
		if _, ok := attrs(sp)[keyInputTokens]; !ok {
			t.Errorf("span %q has no usage", sp.Name)
		}
	}
}

// TestShutdownRecordsEndedCalls checks that Shutdown records every call that ended before it,
// and that calls after it pass through.
func TestShutdownRecordsEndedCalls(t *testing.T) {
	srv := fakeServer(t, map[string]*fake{"/v1/chat/completions": {body: readFile(t, "openai_chat.json")}})
	mem := newKept()
	c, err := Init(context.Background(), Config{Endpoint: EndpointNone, KeepGlobal: true, Exporters: []sdktrace.SpanExporter{mem}})
	if err != nil {
		t.Fatal(err)
	}
	client := c.HTTPClient()
	for range 50 {
		post(t, context.Background(), client, srv.URL+"/v1/chat/completions", benchChatRequest)
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(mem.GetSpans()); n != 50 {
		t.Fatalf("exported %d spans after Shutdown, want 50", n)
	}
	post(t, context.Background(), client, srv.URL+"/v1/chat/completions", benchChatRequest)
	if st := c.Stats(); st.Exported != 50 || st.DroppedCalls != 0 {
		t.Errorf("stats %+v after a call past Shutdown, want 50 exported, none dropped", st)
	}
}
