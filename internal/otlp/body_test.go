package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestBodyRead covers readBody's paths: a body of known length (read into one buffer of
// that size), the same body without a length, gzip, and bodies over the limit either way.
// An accepted protobuf body is published byte for byte as received.
func TestBodyRead(t *testing.T) {
	td, _, _ := twoTraces()
	raw, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	cases := []struct {
		name     string
		body     []byte
		length   int64 // -1: unknown (chunked)
		encoding string
		limit    int64
		want     int
	}{
		{"known length", raw, int64(len(raw)), "", 1 << 20, http.StatusOK},
		{"unknown length", raw, -1, "", 1 << 20, http.StatusOK},
		{"gzip", gz.Bytes(), int64(gz.Len()), "gzip", 1 << 20, http.StatusOK},
		{"exactly the limit", raw, int64(len(raw)), "", int64(len(raw)), http.StatusOK},
		{"over the limit, known length", raw, int64(len(raw)), "", int64(len(raw)) - 1, http.StatusRequestEntityTooLarge},
		{"over the limit, unknown length", raw, -1, "", int64(len(raw)) - 1, http.StatusRequestEntityTooLarge},
		{"gzip over the limit once decompressed", gz.Bytes(), int64(gz.Len()), "gzip", int64(len(raw)) - 1, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, rec := newTestReceiver(nil)
			r.cfg.MaxBodyBytes = tc.limit
			mux := http.NewServeMux()
			r.Register(mux)
			req := httptest.NewRequest(http.MethodPost, "/v1/traces", bytes.NewReader(tc.body))
			req.ContentLength = tc.length
			if tc.length < 0 {
				req.Header.Del("Content-Length")
			} else {
				req.Header.Set("Content-Length", strconv.FormatInt(tc.length, 10))
			}
			req.Header.Set("Content-Type", contentProto)
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, req)
			if w.Code != tc.want {
				t.Fatalf("got %d %q, want %d", w.Code, w.Body.Bytes(), tc.want)
			}
			if tc.want != http.StatusOK {
				if len(rec.bodies) != 0 {
					t.Errorf("published %d bodies, want none", len(rec.bodies))
				}
				return
			}
			if len(rec.bodies) != 1 || !bytes.Equal(rec.bodies[0], raw) {
				t.Errorf("published %d bodies; want the request's %d bytes unchanged", len(rec.bodies), len(raw))
			}
		})
	}
}

// fullQueue is a Publisher whose queue is full for its first `full` calls, failing as
// queue.Publish does then (an error wrapping one whose QueueFull method says so).
type fullQueue struct {
	calls, full int
}

type errFull struct{}

func (errFull) Error() string   { return "queue full" }
func (errFull) QueueFull() bool { return true }

func (q *fullQueue) Publish(context.Context, string, string, []byte) error {
	q.calls++
	if q.calls <= q.full {
		return fmt.Errorf("queue unavailable: %w: stream at its limit", errFull{})
	}
	return nil
}

// readCounter counts the bytes read from a request body.
type readCounter struct {
	r io.Reader
	n int
}

func (c *readCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestFullQueueRefusesUnread: once a publish finds the queue full, requests in the next
// fullHold get a retryable 503 without their body being read or published; after it the
// next request is tried again.
func TestFullQueueRefusesUnread(t *testing.T) {
	td, _, _ := twoTraces()
	raw, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 23, 0, 0, 0, time.UTC)
	q := &fullQueue{full: 1}
	r := New(Config{Now: func() time.Time { return now }}, q, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	mux := http.NewServeMux()
	r.Register(mux)
	post := func() (*httptest.ResponseRecorder, *readCounter) {
		body := &readCounter{r: bytes.NewReader(raw)}
		req := httptest.NewRequest(http.MethodPost, "/v1/traces", body)
		req.Header.Set("Content-Type", contentProto)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		return w, body
	}
	for _, step := range []struct {
		name      string
		advance   time.Duration
		want      int
		read      bool
		published int // Publish calls so far
	}{
		{"the publish that finds the queue full", 0, http.StatusServiceUnavailable, true, 1},
		{"within the hold: refused unread", fullHold / 2, http.StatusServiceUnavailable, false, 1},
		{"after the hold: tried again, accepted", fullHold, http.StatusOK, true, 2},
	} {
		now = now.Add(step.advance)
		w, body := post()
		if w.Code != step.want {
			t.Errorf("%s: got %d %q, want %d", step.name, w.Code, w.Body.Bytes(), step.want)
		}
		if w.Code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", step.name)
		}
		if got := body.n > 0; got != step.read {
			t.Errorf("%s: body read = %t (%d bytes), want %t", step.name, got, body.n, step.read)
		}
		if q.calls != step.published {
			t.Errorf("%s: %d publish calls, want %d", step.name, q.calls, step.published)
		}
	}
}

// stalledQueue is a Publisher whose publishes wait until release is closed, as they do
// while NATS stops answering.
type stalledQueue struct {
	started chan struct{}
	release chan struct{}
}

func (q *stalledQueue) Publish(ctx context.Context, _, _ string, _ []byte) error {
	q.started <- struct{}{}
	select {
	case <-q.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestPendingBytesBound checks that while publishes wait, the bodies they hold are bounded:
// a request that would take more than MaxPendingBytes is refused as retryable, unread
// when its length is known, and the budget comes back once the publishes are answered. A
// request alone is let through whatever its size.
func TestPendingBytesBound(t *testing.T) {
	td, _, _ := twoTraces()
	raw, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	q := &stalledQueue{started: make(chan struct{}, 4), release: make(chan struct{})}
	// A budget smaller than one request: a request alone still goes through.
	r := New(Config{MaxPendingBytes: int64(len(raw)) - 1}, q, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	mux := http.NewServeMux()
	r.Register(mux)
	post := func(length int64) (*httptest.ResponseRecorder, *readCounter) {
		body := &readCounter{r: bytes.NewReader(raw)}
		req := httptest.NewRequest(http.MethodPost, "/v1/traces", body)
		req.Header.Set("Content-Type", contentProto)
		req.ContentLength = length
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		return w, body
	}
	first := make(chan *httptest.ResponseRecorder)
	go func() {
		w, _ := post(int64(len(raw)))
		first <- w
	}()
	<-q.started // the first request holds its body, waiting for the queue
	if got := r.pending.Load(); got != int64(len(raw)) {
		t.Fatalf("pending bytes while the first publish waits: got %d, want %d", got, len(raw))
	}
	for _, tc := range []struct {
		name   string
		length int64
		read   bool
	}{
		{"known length: refused unread", int64(len(raw)), false},
		{"unknown length: refused once read", -1, true},
	} {
		w, body := post(tc.length)
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
			t.Errorf("%s: got %d (Retry-After %q), want 503 with Retry-After", tc.name, w.Code, w.Header().Get("Retry-After"))
		}
		if got := body.n > 0; got != tc.read {
			t.Errorf("%s: body read = %t, want %t", tc.name, got, tc.read)
		}
	}
	_, err = (&traceService{r: r}).Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(td))
	if s, _ := status.FromError(err); s.Code() != codes.Unavailable {
		t.Errorf("gRPC: got %v, want UNAVAILABLE", err)
	}
	close(q.release)
	if w := <-first; w.Code != http.StatusOK {
		t.Fatalf("the first request: got %d %q, want 200", w.Code, w.Body.Bytes())
	}
	if got := r.pending.Load(); got != 0 {
		t.Fatalf("pending bytes after every request was answered: got %d, want 0", got)
	}
	if w, _ := post(int64(len(raw))); w.Code != http.StatusOK {
		t.Errorf("after the stall: got %d %q, want 200", w.Code, w.Body.Bytes())
	}
	<-q.started
}
