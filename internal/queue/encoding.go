package queue

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"
)

// Request bodies are stored S2-compressed when that makes them smaller by an eighth or
// more. A request's prompt and response text is most of its bytes and compresses 3–4×,
// and every byte a message carries costs JetStream several times over: copied into the
// stream, hashed and written to its file, read back, hashed and copied again to deliver
// it, and once more to acknowledge it. In the side-by-side benchmark those per-byte costs
// were three quarters of the ingest path's CPU, and the stream's one writer was the
// bound. A message without the encoding header is the body as sent (as every message
// was before), so a queue written by an older version drains as before.
const (
	headerEncoding = "Lumina-Encoding" // "s2" when the data is S2-compressed
	headerSize     = "Lumina-Size"     // the body's size before compression
	encodingS2     = "s2"
)

// minCompress is the smallest body worth compressing: below it the header costs about
// what compression saves.
const minCompress = 4 << 10

// encodeBufs holds compression buffers between publishes: a buffer is free again once the
// publish returns (the connection copies what it sends).
var encodeBufs sync.Pool

// encode sets msg's data to body, compressed when that pays, and returns a function that
// releases the buffer once the message was sent.
func encode(msg *nats.Msg, body []byte) (release func()) {
	msg.Data = body
	if len(body) < minCompress {
		return func() {}
	}
	n := s2.MaxEncodedLen(len(body))
	buf, _ := encodeBufs.Get().(*[]byte)
	if buf == nil || cap(*buf) < n {
		b := make([]byte, n)
		buf = &b
	}
	release = func() { encodeBufs.Put(buf) }
	enc := s2.Encode((*buf)[:n], body)
	if len(enc) > len(body)-len(body)/8 {
		return release
	}
	msg.Data = enc
	msg.Header.Set(headerEncoding, encodingS2)
	msg.Header.Set(headerSize, strconv.Itoa(len(body)))
	return release
}

// decode returns the body a message carries.
func decode(h nats.Header, data []byte) ([]byte, error) {
	switch enc := h.Get(headerEncoding); enc {
	case "":
		return data, nil
	case encodingS2:
		n, err := s2.DecodedLen(data)
		if err != nil {
			return nil, fmt.Errorf("s2-compressed body: %w", err)
		}
		if want, err := strconv.Atoi(h.Get(headerSize)); err != nil || want != n {
			return nil, fmt.Errorf("s2-compressed body of %d bytes, header says %q", n, h.Get(headerSize))
		}
		out, err := s2.Decode(make([]byte, n), data)
		if err != nil {
			return nil, fmt.Errorf("s2-compressed body: %w", err)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unknown body encoding %q", enc)
	}
}

// bodySize is the body's size before compression, for batch byte limits.
func bodySize(h nats.Header, data []byte) int {
	if h.Get(headerEncoding) != "" {
		if n, err := strconv.Atoi(h.Get(headerSize)); err == nil && n >= 0 {
			return n
		}
	}
	return len(data)
}
