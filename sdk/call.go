package lumina

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// exchange is the wire format of one API (OpenAI Chat Completions, Responses, Embeddings,
// Anthropic Messages): it reads the request, the response body or its server-sent events,
// and puts what it finds on the call. One exchange value serves one call.
type exchange interface {
	// request reads the request body.
	request(c *call, body []byte)
	// response reads a whole (non-streamed, successful) response body.
	response(c *call, body []byte)
	// tail reads the end of a response body too large to keep whole.
	tail(c *call, tail []byte)
	// event reads one server-sent event and reports whether it is the stream's last.
	event(c *call, name string, data []byte) (last bool)
	// finish writes what the events accumulated (the output messages).
	finish(c *call)
}

// usage is the token usage of a call, in OpenTelemetry's terms: input includes the cached
// tokens, output includes the reasoning tokens.
type usage struct {
	input, output, cacheRead, cacheWrite, reasoning int64
	has                                             bool
}

// call is one model call: an instrumented HTTP exchange, or a span of StartLLM.
//
// For the transport, the application's goroutine only sets the first group of fields, before
// it queues the call's first piece, and copies bytes; the processor (or, when the call
// enriches another SDK's span, the goroutine reading the body) does everything else: it
// parses, builds the attributes and records the span, with the times the bytes arrived.
type call struct {
	client  *Client
	ctx     context.Context // the request's: the span's parent and identity
	span    trace.Span      // nil until recorded, or another SDK's span when !own
	own     bool            // the transport records span; false: it enriches a span of another SDK
	content bool            // record messages
	limit   int             // MaxContentBytes
	start   time.Time
	api     api
	host    string
	port    int
	req     *chunk // the request body, until parsed
	status  int    // the HTTP status, 0 when the round trip failed
	mode    bodyMode

	ex         exchange
	now        time.Time // when the bytes being parsed arrived
	endAt      time.Time
	sse        sseParser
	resp       []byte // modeJSON, modeError: the body as captured
	over       bool   // resp is the tail of a larger body
	attrs      []attribute.KeyValue
	timed      bool
	usage      usage
	finish     []string
	output     []Message
	outputJSON string // the output messages already encoded, in place of output
	errType    string
	errMsg     string
	truncated  bool
}

// The pools of calls and of their attributes: the application's goroutine takes only the
// small call; the processor takes the attributes.
var (
	callPool  = sync.Pool{New: func() any { return new(call) }}
	attrsPool = sync.Pool{New: func() any { return new([]attribute.KeyValue) }} // sized by begin
)

// newCall returns a zero call from the pool.
func newCall() *call { return callPool.Get().(*call) }

// recycle returns a finished transport call to the pool, keeping the parser's buffers.
func (c *call) recycle() {
	if c.client == nil {
		return // a StartLLM call, part of its LLMSpan
	}
	line, name, data := c.sse.line[:0], c.sse.name[:0], c.sse.data[:0]
	if c.attrs != nil {
		a := c.attrs[:0]
		clear(a[:cap(a)])
		attrsPool.Put(&a)
	}
	*c = call{}
	c.sse.line, c.sse.name, c.sse.data = line, name, data
	callPool.Put(c)
}

func (c *call) str(k, v string) {
	if v != "" {
		c.attrs = append(c.attrs, attribute.String(k, v))
	}
}

func (c *call) int(k string, v int64) { c.attrs = append(c.attrs, attribute.Int64(k, v)) }

func (c *call) float(k string, v float64) { c.attrs = append(c.attrs, attribute.Float64(k, v)) }

// firstChunk records the time to the first chunk of output, once: the bytes being parsed
// arrived at c.now.
func (c *call) firstChunk() {
	if !c.timed {
		c.timed = true
		c.float(keyTimeToFirstChunk, c.now.Sub(c.start).Seconds())
	}
}

// messages puts msgs on the call as the content attribute key.
func (c *call) messages(key string, msgs []Message) {
	if !c.content || len(msgs) == 0 {
		return
	}
	s, cut := encodeMessages(msgs, c.limit)
	c.str(key, s)
	c.truncated = c.truncated || cut
}

// parts puts a bare part list on the call (gen_ai.system_instructions).
func (c *call) parts(key string, ps []Part) {
	if !c.content || len(ps) == 0 {
		return
	}
	s, cut := encodeParts(ps, c.limit)
	c.str(key, s)
	c.truncated = c.truncated || cut
}

// fail records an error of the call; the first one wins.
func (c *call) fail(typ, msg string) {
	if c.errType == "" {
		c.errType, c.errMsg = typ, msg
	}
}

// end writes everything on the span: the transport's own span is recorded now, from the
// call's start to c.endAt; a StartLLM span ends now; another SDK's span is only enriched.
func (c *call) end() {
	u := c.usage
	if u.has {
		c.int(keyInputTokens, u.input)
		c.int(keyOutputTokens, u.output)
		if u.cacheRead > 0 {
			c.int(keyCacheReadTokens, u.cacheRead)
		}
		if u.cacheWrite > 0 {
			c.int(keyCacheWriteTokens, u.cacheWrite)
		}
		if u.reasoning > 0 {
			c.int(keyReasoningTokens, u.reasoning)
		}
	}
	if len(c.finish) > 0 {
		c.attrs = append(c.attrs, attribute.StringSlice(keyFinishReasons, c.finish))
	}
	if c.outputJSON != "" && c.content {
		c.str(keyOutputMessages, c.outputJSON)
	} else {
		c.messages(keyOutputMessages, c.output)
	}
	if c.truncated {
		c.attrs = append(c.attrs, attribute.Bool(keyContentTruncated, true))
	}
	if !c.own {
		// Another SDK's span: add only the content it lacks, leave its own record alone.
		kept := c.attrs[:0]
		for _, kv := range c.attrs {
			if contentKeys[string(kv.Key)] || kv.Key == keyContentTruncated {
				kept = append(kept, kv)
			}
		}
		c.span.SetAttributes(kept...)
		return
	}
	if c.errType != "" {
		c.str(keyErrorType, c.errType)
	}
	if c.span == nil {
		if r := c.client.direct; r != nil && r.record(c) {
			return
		}
		_, c.span = c.client.tracer.Start(c.ctx, c.spanName(), spanKindClient, trace.WithTimestamp(c.start),
			trace.WithAttributes(c.attrs...))
		if c.errType != "" {
			c.span.SetStatus(codes.Error, c.errMsg)
		}
		c.span.End(trace.WithTimestamp(c.endAt))
		return
	}
	if c.errType != "" {
		c.span.SetStatus(codes.Error, c.errMsg)
	}
	c.span.SetAttributes(c.attrs...)
	c.span.End()
}

// spanKindClient is made once: span options allocate.
var spanKindClient = trace.WithSpanKind(trace.SpanKindClient)

// spanName is "{operation} {model}", as the conventions name a model call's span.
func (c *call) spanName() string {
	for _, kv := range c.attrs {
		if kv.Key == keyRequestModel {
			return c.api.operation + " " + kv.Value.AsString()
		}
	}
	return c.api.operation
}

// transportErrorType classifies an error of the round trip or of reading the body.
func transportErrorType(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, &netErr):
		return "connection_error"
	}
	return "client_error"
}

func statusErrorType(code int) string { return strconv.Itoa(code) }
