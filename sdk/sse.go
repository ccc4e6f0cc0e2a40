package lumina

import "bytes"

// maxEventBytes bounds one server-sent event; a longer one (no provider sends them) stops
// the parsing, never the stream.
const maxEventBytes = 4 << 20

// sseParser splits a server-sent-event stream into events as its bytes pass by. It keeps only
// the current, unfinished line and event, so memory stays flat however long the stream is.
type sseParser struct {
	line    []byte // a line not yet ended
	name    []byte // the event field of the current event
	data    []byte // the data lines of the current event, joined by \n
	hasData bool
	broken  bool
	last    bool // the last event was dispatched
	// sink receives each event; it returns true to stop parsing (the last event arrived).
	// An interface rather than a func: a method value would be an allocation per call.
	sink eventSink
}

// eventSink receives the events of a stream.
type eventSink interface {
	event(name string, data []byte) (last bool)
}

// feed parses p and reports whether the last event arrived.
func (p *sseParser) feed(b []byte) bool {
	for len(b) > 0 && !p.broken {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			p.line = append(p.line, b...)
			if len(p.line) > maxEventBytes {
				p.broken = true
			}
			return false
		}
		line := b[:i]
		if len(p.line) > 0 {
			p.line = append(p.line, line...)
			line = p.line
		}
		b = b[i+1:]
		if p.lineDone(line) {
			return true
		}
		p.line = p.line[:0]
	}
	return false
}

// lineDone handles one line and reports whether it dispatched the last event.
func (p *sseParser) lineDone(line []byte) bool {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if len(line) == 0 {
		if !p.hasData && len(p.name) == 0 {
			return false
		}
		p.last = p.sink.event(eventName(p.name), p.data)
		p.name, p.data, p.hasData = p.name[:0], p.data[:0], false
		return p.last
	}
	if line[0] == ':' {
		return false
	}
	field, value, _ := bytes.Cut(line, []byte{':'})
	value = bytes.TrimPrefix(value, []byte{' '})
	switch string(field) {
	case "event":
		p.name = append(p.name[:0], value...)
	case "data":
		if p.hasData {
			p.data = append(p.data, '\n')
		}
		p.data = append(p.data, value...)
		p.hasData = true
		if len(p.data) > maxEventBytes {
			p.broken = true
		}
	}
	return false
}

// eventName returns the event field as a string, without allocating for the names the
// exchanges know (Anthropic's and Responses' streams name every event).
func eventName(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "ping":
		return "ping"
	case "message_start":
		return "message_start"
	case "message_delta":
		return "message_delta"
	case "message_stop":
		return "message_stop"
	case "content_block_start":
		return "content_block_start"
	case "content_block_delta":
		return "content_block_delta"
	case "content_block_stop":
		return "content_block_stop"
	case "response.output_text.delta":
		return "response.output_text.delta"
	case "response.completed":
		return "response.completed"
	case "error":
		return "error"
	}
	return string(b)
}
