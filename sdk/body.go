package lumina

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// Limits of what the body keeps of a non-streamed response.
const (
	maxWholeBody = 1 << 20 // parse bodies up to 1 MiB whole
	tailBytes    = 4 << 10 // beyond that, keep the end, where usage and model are
	// streamPiece is how much of a stream the body copies before it hands the copy to the
	// processor: a stream is never held whole, however long it runs.
	streamPiece = 16 << 10
)

type bodyMode int

const (
	modeJSON   bodyMode = iota // a JSON response, parsed at its end
	modeEvents                 // server-sent events, parsed in pieces as they pass
	modeError                  // an error response (status >= 400)
	modeNone                   // no response: the round trip failed
)

// body wraps a response body. What the application reads is exactly what the server sent;
// the body also copies the bytes (a JSON body up to whole bytes, then its tail; a stream in
// pieces with the time each read returned) and queues them for the processor. The call ends
// at the end of the body, at a read error, or at Close, whichever comes first; the processor
// dates the end of a stream at its last event.
type body struct {
	rc    io.ReadCloser
	c     *call
	mode  bodyMode
	whole int   // how many bytes k may hold before it keeps only the tail
	size  int64 // Content-Length, -1 when unknown
	read  int64

	mu      sync.Mutex // Close may run concurrently with Read
	done    bool
	dropped bool   // the processor refused a piece: the call is lost, copy no more
	k       *chunk // the copy not yet queued
	over    bool   // k holds a tail
}

func newBody(rc io.ReadCloser, c *call, whole int, size int64) *body {
	return &body{rc: rc, c: c, mode: c.mode, whole: whole, size: size}
}

// Read reads from the server and copies what it read.
func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 || err != nil {
		b.mu.Lock()
		if !b.done {
			b.read += int64(n)
			if n > 0 && !b.dropped {
				b.capture(p[:n])
			}
			switch {
			case err == io.EOF:
				b.finishLocked(nil, false)
			case err != nil:
				b.finishLocked(err, false)
			}
		}
		b.mu.Unlock()
	}
	return n, err
}

// Close closes the body; a call not yet ended ends here, as closed early unless every byte
// of its Content-Length was read.
func (b *body) Close() error {
	b.mu.Lock()
	if !b.done {
		b.finishLocked(nil, b.size < 0 || b.read < b.size)
	}
	b.mu.Unlock()
	return b.rc.Close()
}

func (b *body) capture(p []byte) {
	if b.k == nil {
		b.k = getChunk()
		if b.mode != modeEvents && b.size > 0 {
			b.k.grow(int(min(b.size, int64(max(b.whole, 2*tailBytes)))))
		}
	}
	k := b.k
	k.buf = append(k.buf, p...)
	if b.mode == modeEvents {
		k.marks = append(k.marks, mark{end: len(k.buf), at: time.Now()})
		if len(k.buf) >= streamPiece {
			b.k = nil
			if !b.c.submit(piece{c: b.c, k: k}) {
				b.dropped = true
			}
		}
		return
	}
	if len(k.buf) > b.whole && len(k.buf) > 2*tailBytes {
		b.over = true
		n := copy(k.buf, k.buf[len(k.buf)-tailBytes:])
		k.buf = k.buf[:n]
	}
}

// finishLocked queues the end of the call: err is a read error, early a Close before the end.
func (b *body) finishLocked(err error, early bool) {
	b.done = true
	k := b.k
	b.k = nil
	if b.dropped {
		k.release()
		return
	}
	b.c.submit(piece{c: b.c, k: k, final: true, end: time.Now(), err: err, early: early, over: b.over})
}

// submit hands pc to the processor, or, for a call enriching another SDK's span (which may
// end as soon as the body does), processes it here. It reports whether the call lives on;
// after a final piece the caller must not touch c again.
func (c *call) submit(pc piece) bool {
	if !c.own {
		c.process(pc)
		return true
	}
	if c.client.proc.push(pc) {
		return true
	}
	pc.k.release()
	return false
}

// process handles one piece of the call, on the processor's goroutine.
func (c *call) process(pc piece) {
	if c.ex == nil {
		c.begin()
	}
	if pc.k != nil {
		if c.mode == modeEvents {
			c.events(pc.k)
		} else {
			c.resp = pc.k.buf
		}
	}
	if pc.final {
		c.finishCall(pc)
		c.resp = nil
		pc.k.release()
		c.recycle()
		return
	}
	pc.k.release()
}

// begin starts parsing the call: the span's first attributes and the request.
func (c *call) begin() {
	c.ex = c.api.newEx()
	c.attrs = *attrsPool.Get().(*[]attribute.KeyValue)
	if cap(c.attrs) == 0 {
		// A new slice, as large as the client's last span needed: a slice the span keeps
		// (recorder.recycle) is allocated at about its size.
		c.attrs = make([]attribute.KeyValue, 0, c.client.attrsHint.Load())
	}
	if c.own {
		c.str(keyOperation, c.api.operation)
		c.str(keyProvider, c.api.provider)
		c.str(keyServerAddress, c.host)
		c.int(keyServerPort, int64(c.port))
	}
	if c.req != nil {
		c.ex.request(c, c.req.buf)
		c.req.release()
		c.req = nil
	}
	if c.own && c.status > 0 {
		c.int(keyHTTPStatus, int64(c.status))
	}
	if c.mode == modeEvents {
		c.sse.sink = c
	}
}

func (c *call) event(name string, data []byte) bool { return c.ex.event(c, name, data) }

// events parses a piece of a stream, read by read, each at the time it arrived.
func (c *call) events(k *chunk) {
	from := 0
	for _, m := range k.marks {
		if c.sse.last || c.sse.broken {
			return
		}
		c.now = m.at
		if c.sse.feed(k.buf[from:m.end]) {
			c.endAt = m.at
		}
		from = m.end
	}
}

// finishCall ends the call as pc says and records its span.
func (c *call) finishCall(pc piece) {
	c.now = pc.end
	if c.endAt.IsZero() {
		c.endAt = pc.end
	}
	err := pc.err
	switch c.mode {
	case modeNone:
		if err != nil {
			c.fail(transportErrorType(err), err.Error())
		}
		c.end()
		return
	case modeEvents:
		if c.sse.last {
			err = nil // what happened after the last event is not the call's
			break
		}
		if !c.sse.broken && !pc.early && err == nil {
			// The server ended the stream before its last event (a stream we stopped
			// parsing has no known end).
			c.fail("stream_incomplete", "the stream ended before its last event")
			c.attrs = append(c.attrs, attribute.Bool(keyStreamIncomplete, true))
		}
		if pc.early {
			c.attrs = append(c.attrs, attribute.Bool(keyStreamIncomplete, true))
		}
	case modeJSON:
		if err == nil && !pc.early && len(c.resp) > 0 {
			if pc.over {
				c.ex.tail(c, c.resp)
			} else {
				c.ex.response(c, c.resp)
			}
		}
	case modeError:
		parseError(c, c.status, c.resp)
	}
	if c.mode == modeEvents {
		c.ex.finish(c)
	}
	if err != nil {
		typ := transportErrorType(err)
		if typ == "canceled" {
			c.attrs = append(c.attrs, attribute.Bool(keyStreamIncomplete, true))
		} else {
			c.fail(typ, err.Error())
		}
	}
	c.end()
}

// apiError is the error body of OpenAI ({"error":{…}}) and Anthropic
// ({"type":"error","error":{…}}).
type apiError struct {
	Error struct {
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
	} `json:"error"`
}

// parseError records an HTTP error response.
func parseError(c *call, code int, body []byte) {
	var e apiError
	typ, msg := statusErrorType(code), ""
	if json.Unmarshal(body, &e) == nil {
		msg = e.Error.Message
		switch {
		case e.Error.Type != "":
			typ = e.Error.Type
		case len(e.Error.Code) > 0 && !bytes.Equal(e.Error.Code, []byte("null")):
			var s string
			if json.Unmarshal(e.Error.Code, &s) == nil && s != "" {
				typ = s
			}
		}
	}
	if msg == "" {
		msg = string(bytes.TrimSpace(body[:min(len(body), 512)]))
	}
	c.fail(typ, msg)
}
