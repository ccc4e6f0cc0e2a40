package lumina

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"

	"go.opentelemetry.io/otel/attribute"
)

// Limits of what the body keeps of a non-streamed response.
const (
	maxWholeBody = 1 << 20 // parse bodies up to 1 MiB whole
	tailBytes    = 4 << 10 // beyond that, keep the end, where usage and model are
)

type bodyMode int

const (
	modeJSON   bodyMode = iota // a JSON response, parsed at its end
	modeEvents                 // server-sent events, parsed as they pass
	modeError                  // an error response (status >= 400)
)

// body wraps a response body. What the application reads is exactly what the server sent;
// the bytes also pass through a parser. The call ends at the stream's last event, at the end
// of the body, at a read error, or at Close, whichever comes first.
type body struct {
	rc   io.ReadCloser
	c    *call
	mode bodyMode
	code int

	mu    sync.Mutex // Close may run concurrently with Read
	done  bool
	buf   []byte // modeJSON, modeError: the body (or its tail)
	whole int    // how many bytes buf may hold before it keeps only the tail
	over  bool   // buf is a tail
	sse   sseParser
}

// newBody wraps rc; size is the response's Content-Length (-1 when unknown), used to size the
// buffer of a JSON body once rather than grow it.
func newBody(rc io.ReadCloser, c *call, mode bodyMode, code int, whole int, size int64) *body {
	b := &body{rc: rc, c: c, mode: mode, code: code, whole: whole}
	if mode == modeEvents {
		b.sse.emit = func(name string, data []byte) bool { return c.ex.event(c, name, data) }
		return b
	}
	if size > 0 {
		b.buf = make([]byte, 0, min(size, int64(max(whole, 2*tailBytes))))
	}
	return b
}

// Read reads from the server and feeds the parser.
func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 || err != nil {
		b.mu.Lock()
		if !b.done {
			if n > 0 {
				b.feed(p[:n])
			}
			switch {
			case b.done:
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

// Close closes the body; a call not yet ended ends as closed early.
func (b *body) Close() error {
	b.mu.Lock()
	if !b.done {
		b.finishLocked(nil, true)
	}
	b.mu.Unlock()
	return b.rc.Close()
}

func (b *body) feed(p []byte) {
	if b.mode == modeEvents {
		if b.sse.feed(p) {
			b.finishLocked(nil, false)
		}
		return
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.whole && len(b.buf) > 2*tailBytes {
		b.over = true
		n := copy(b.buf, b.buf[len(b.buf)-tailBytes:])
		b.buf = b.buf[:n]
	}
}

// finishLocked ends the call: err is a read error, early a Close before the end.
func (b *body) finishLocked(err error, early bool) {
	b.done = true
	c := b.c
	switch b.mode {
	case modeEvents:
		ended := b.sse.broken // a stream we stopped parsing has no known end
		if !ended && !early && err == nil && !b.sse.last {
			// The server ended the stream before its last event.
			c.fail("stream_incomplete", "the stream ended before its last event")
			c.attrs = append(c.attrs, attribute.Bool(keyStreamIncomplete, true))
		}
		if early && !b.sse.last {
			c.attrs = append(c.attrs, attribute.Bool(keyStreamIncomplete, true))
		}
		c.ex.finish(c)
	case modeJSON:
		if err == nil && !early {
			if b.over {
				c.ex.tail(c, b.buf)
			} else {
				c.ex.response(c, b.buf)
			}
		}
	case modeError:
		parseError(c, b.code, b.buf)
	}
	if err != nil {
		typ := transportErrorType(err)
		if typ == "canceled" {
			c.attrs = append(c.attrs, attribute.Bool(keyStreamIncomplete, true))
		} else {
			c.fail(typ, err.Error())
		}
	}
	b.buf = nil
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
