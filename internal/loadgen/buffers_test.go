package loadgen

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestOutgoingReturnsToPoolAfterLastRelease(t *testing.T) {
	var p bufferPool
	o := newOutgoing(p.get(8), 8, &p)
	b1, b2 := newLeasedBody(o), newLeasedBody(o)
	_ = b1.Close()
	_ = b1.Close() // a second Close must not release twice
	o.release()
	if len(p.free) != 0 {
		t.Fatalf("buffer back in the pool while an attempt still holds it")
	}
	_ = b2.Close()
	if len(p.free) != 1 {
		t.Fatalf("pool has %d free buffers after the last release, want 1", len(p.free))
	}
	if got := p.get(4); cap(got) != 8 || len(got) != 4 {
		t.Errorf("get(4) = len %d cap %d, want the recycled buffer (len 4, cap 8)", len(got), cap(got))
	}
}

func TestHTTPSenderRecyclesBodies(t *testing.T) {
	for _, gz := range []bool{false, true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
		}))
		cfg := Config{Endpoint: srv.URL, Gzip: gz, Requests: 1}.withDefaults()
		s := newHTTPSender(cfg, newHTTPTransport(1))
		o, err := s.prepare(s.buffer(1000))
		if err != nil {
			t.Fatalf("prepare: %v", err)
		}
		if a := s.send(context.Background(), o); !a.acked {
			t.Fatalf("send: %+v, want acked", a)
		}
		o.release()
		want := 1 // the body
		if gz {
			want = 2 // the marshalled body, free after compression, and the gzip output
		}
		// The transport closes the request body from its own goroutine; wait for it.
		deadline := time.Now().Add(5 * time.Second)
		for {
			s.bufs.mu.Lock()
			n := len(s.bufs.free)
			s.bufs.mu.Unlock()
			if n >= want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("gzip=%v: %d buffers back in the pool, want %d: the request body was never closed", gz, n, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
		_ = s.close()
		srv.Close()
	}
}
