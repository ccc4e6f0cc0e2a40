package lumina

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// newTestClient returns a Client exporting only to an in-memory exporter.
func newTestClient(t *testing.T, cfg Config) (*Client, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	cfg.Endpoint = EndpointNone
	cfg.KeepGlobal = true
	cfg.Exporters = append(cfg.Exporters, exp)
	c, err := Init(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	t.Cleanup(func() { _ = c.Shutdown(context.Background()) })
	return c, exp
}

// spans flushes c and returns what exp received.
func spans(t *testing.T, c *Client, exp *tracetest.InMemoryExporter) tracetest.SpanStubs {
	t.Helper()
	if err := c.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return exp.GetSpans()
}

// only returns the one span exp received, failing otherwise.
func only(t *testing.T, c *Client, exp *tracetest.InMemoryExporter) tracetest.SpanStub {
	t.Helper()
	got := spans(t, c, exp)
	if len(got) != 1 {
		names := []string{}
		for _, s := range got {
			names = append(names, s.Name)
		}
		t.Fatalf("got %d spans %v, want 1", len(got), names)
	}
	return got[0]
}

// attrs returns a span's attributes by key.
func attrs(s tracetest.SpanStub) map[string]attribute.Value {
	m := make(map[string]attribute.Value, len(s.Attributes))
	for _, kv := range s.Attributes {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

// fake is a provider played by an httptest server: each path answers with a status, a
// content type and a body, or with SSE events written one by one with a flush between.
type fake struct {
	status  int
	ctype   string
	body    string
	events  []string      // raw SSE chunks, flushed one at a time
	block   chan struct{} // when set, the handler waits on it after the events
	request chan []byte   // receives each request body when set
	header  http.Header   // extra response headers
}

func fakeServer(t *testing.T, routes map[string]*fake) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if f.request != nil {
			f.request <- b
		}
		for k, v := range f.header {
			w.Header()[k] = v
		}
		status := f.status
		if status == 0 {
			status = http.StatusOK
		}
		if f.events != nil {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(status)
			for _, ev := range f.events {
				_, _ = io.WriteString(w, ev)
				w.(http.Flusher).Flush()
			}
			if f.block != nil {
				select {
				case <-f.block:
				case <-r.Context().Done():
				}
			}
			return
		}
		ctype := f.ctype
		if ctype == "" {
			ctype = "application/json"
		}
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, f.body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// post sends body to url through client and returns the response body as read.
func post(t *testing.T, ctx context.Context, client *http.Client, url, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatalf("close body: %v", err)
	}
	return resp, string(b)
}

func wantAttr(t *testing.T, a map[string]attribute.Value, key string, want any) {
	t.Helper()
	v, ok := a[key]
	if !ok {
		t.Errorf("attribute %s missing, want %v", key, want)
		return
	}
	var got any
	switch want.(type) {
	case string:
		got = v.AsString()
	case int:
		got = int(v.AsInt64())
	case float64:
		got = v.AsFloat64()
	case bool:
		got = v.AsBool()
	case []string:
		got = strings.Join(v.AsStringSlice(), ",")
		want = strings.Join(want.([]string), ",")
	}
	if got != want {
		t.Errorf("attribute %s = %v, want %v", key, got, want)
	}
}

func noAttr(t *testing.T, a map[string]attribute.Value, key string) {
	t.Helper()
	if v, ok := a[key]; ok {
		t.Errorf("attribute %s = %v, want none", key, v.Emit())
	}
}

var _ sdktrace.SpanExporter = (*tracetest.InMemoryExporter)(nil)

// keptExporter is an in-memory exporter whose Shutdown keeps the spans
// (tracetest.InMemoryExporter's clears them), so tests can check what Shutdown flushed.
type keptExporter struct {
	*tracetest.InMemoryExporter
	shutdown atomic.Bool
}

func newKept() *keptExporter { return &keptExporter{InMemoryExporter: tracetest.NewInMemoryExporter()} }

func (e *keptExporter) Shutdown(context.Context) error {
	e.shutdown.Store(true)
	return nil
}
