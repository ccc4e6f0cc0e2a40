package lumina

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestStreamSpanTimes checks that a span recorded after the fact carries the times of the
// call: it starts at the request, its first chunk is the first content the application
// could read, and it ends at the stream's last event, not when the body is closed.
func TestStreamSpanTimes(t *testing.T) {
	stream := readFile(t, "openai_chat_stream.sse")
	first := stream[:strings.Index(stream, "\n\n")+2] // the role chunk, without content
	release, hold := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, first)
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, stream[len(first):])
		w.(http.Flusher).Flush()
		<-hold // the body stays open: only Close ends it
	}))
	defer srv.Close()
	defer close(hold) // before srv.Close, which waits for the handler
	c, exp := newTestClient(t, Config{})

	before := time.Now()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"o4-mini","stream":true,"messages":[{"role":"user","content":"Say hello"}]}`))
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	returned := time.Now()
	readUntil(t, resp.Body, first)
	released := time.Now()
	close(release)
	readUntil(t, resp.Body, "data: [DONE]")
	lastRead := time.Now()
	time.Sleep(5 * time.Millisecond) // Close clearly later than the last event
	resp.Body.Close()

	s := only(t, c, exp)
	if s.StartTime.Before(before) || s.StartTime.After(returned) {
		t.Errorf("span starts at %v, want between the request (%v) and its response (%v)", s.StartTime, before, returned)
	}
	if s.EndTime.Before(released) || s.EndTime.After(lastRead) {
		t.Errorf("span ends at %v, want when the last event was read, between %v and %v", s.EndTime, released, lastRead)
	}
	ttft := attrs(s)[keyTimeToFirstChunk].AsFloat64()
	firstAt := s.StartTime.Add(time.Duration(ttft * float64(time.Second)))
	if firstAt.Before(released.Add(-time.Microsecond)) || firstAt.After(lastRead) {
		t.Errorf("first chunk at %v (ttft %.6fs), want after the content was released (%v)", firstAt, ttft, released)
	}
	wantAttr(t, attrs(s), keyOutputTokens, 210)
	noAttr(t, attrs(s), keyStreamIncomplete)
}

// TestLongStream checks a stream far longer than the pieces the transport hands over: events
// straddle pieces, and the whole output is still recorded.
func TestLongStream(t *testing.T) {
	var b strings.Builder
	const n = 3000
	b.WriteString(`data: {"id":"chatcmpl-9","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}` + "\n\n")
	for i := range n {
		fmt.Fprintf(&b, `data: {"id":"chatcmpl-9","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"%c"},"finish_reason":null}]}`+"\n\n", 'a'+i%26)
	}
	b.WriteString(`data: {"id":"chatcmpl-9","model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}` + "\n\n")
	b.WriteString(`data: {"id":"chatcmpl-9","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3000}}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	stream := b.String()
	if len(stream) < 10*streamPiece {
		t.Fatalf("stream of %d bytes is not longer than 10 pieces", len(stream))
	}
	srv := fakeServer(t, map[string]*fake{"/v1/chat/completions": {events: split(stream, 1000)}})
	c, exp := newTestClient(t, Config{})
	_, got := post(t, context.Background(), c.HTTPClient(), srv.URL+"/v1/chat/completions",
		`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Go on"}]}`)
	if got != stream {
		t.Fatal("the application read a different stream")
	}
	a := attrs(only(t, c, exp))
	wantAttr(t, a, keyOutputTokens, 3000)
	wantAttr(t, a, keyFinishReasons, []string{"length"})
	var text strings.Builder
	for i := range n {
		text.WriteByte(byte('a' + i%26))
	}
	wantJSON(t, a, keyOutputMessages, `[{"role":"assistant","finish_reason":"length","parts":[{"type":"text","content":"`+text.String()+`"}]}]`)
}
