package lumina

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestRecycledAttributes sends calls through a client exporting over OTLP/HTTP, whose spans'
// attribute slices are reused once exported, and wants every span to arrive with its own
// attributes: a slice reused too early would show another call's model, or lose attributes.
func TestRecycledAttributes(t *testing.T) {
	var mu sync.Mutex
	var got []*tracepb.Span
	otlp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				got = append(got, ss.Spans...)
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer otlp.Close()
	provider := fakeServer(t, map[string]*fake{"/v1/chat/completions": {body: readFile(t, "openai_chat.json")}})

	c, err := Init(context.Background(), Config{Endpoint: otlp.URL, KeepGlobal: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown(context.Background())
	if c.direct == nil || !c.direct.recycle {
		t.Fatalf("recorder %+v, want one recycling attributes", c.direct)
	}
	const calls = 300
	for i := range calls {
		body := fmt.Sprintf(`{"model":"model-%d","messages":[{"role":"user","content":"call %d"}]}`, i, i)
		post(t, context.Background(), c.HTTPClient(), provider.URL+"/v1/chat/completions", body)
		if i%7 == 6 { // export in many rounds, so that slices come back and are reused
			if err := c.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != calls {
		t.Fatalf("got %d spans, want %d", len(got), calls)
	}
	for _, s := range got {
		attrs := map[string]string{}
		for _, kv := range s.Attributes {
			attrs[kv.Key] = kv.Value.GetStringValue()
		}
		var i int
		if _, err := fmt.Sscanf(s.Name, "chat model-%d", &i); err != nil {
			t.Fatalf("span name %q: %v", s.Name, err)
		}
		if m := attrs[keyRequestModel]; m != fmt.Sprintf("model-%d", i) {
			t.Errorf("span %q: request model %q", s.Name, m)
		}
		if in, want := attrs[keyInputMessages], fmt.Sprintf(`[{"role":"user","parts":[{"type":"text","content":"call %d"}]}]`, i); in != want {
			t.Errorf("span %q: input messages %s, want %s", s.Name, in, want)
		}
		// operation, provider, address, port, model, input, status, response id and model,
		// tier, fingerprint, 3 token counts, finish reasons, output
		if len(s.Attributes) != 16 {
			t.Errorf("span %q: %d attributes, want 16", s.Name, len(s.Attributes))
		}
	}
}

// TestNoRecyclingForOtherExporters wants spans handed to an exporter that may keep them (here
// an in-memory one) never to share their attributes with later calls.
func TestNoRecyclingForOtherExporters(t *testing.T) {
	c, _ := newTestClient(t, Config{})
	if c.direct == nil || c.direct.recycle {
		t.Fatalf("recorder %+v, want one not recycling attributes", c.direct)
	}
}
