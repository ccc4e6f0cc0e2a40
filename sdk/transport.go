package lumina

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TransportOption changes one instrumented transport.
type TransportOption func(*transport)

// WithProvider sets gen_ai.provider.name for every call of the transport, for an
// OpenAI-compatible server the SDK cannot recognize by its host.
func WithProvider(name string) TransportOption {
	return func(t *transport) { t.provider = name }
}

// Transport returns an http.RoundTripper that records a span for every call to an
// OpenAI-compatible Chat Completions, Responses or Embeddings endpoint and to Anthropic's
// Messages endpoint, and passes every other request through untouched. base sends the
// requests; nil means http.DefaultTransport.
//
// The application reads exactly what the server sent. A streamed response is parsed as it
// passes, never buffered; the span ends at the stream's last event, at an error, or when
// the application closes the body. A response body must be closed, as net/http requires.
func (c *Client) Transport(base http.RoundTripper, opts ...TransportOption) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	t := &transport{c: c, base: base}
	for _, o := range opts {
		o(t)
	}
	return t
}

// HTTPClient returns an *http.Client whose transport is Transport(nil, opts...): pass it to
// openai-go or anthropic-sdk-go with option.WithHTTPClient.
func (c *Client) HTTPClient(opts ...TransportOption) *http.Client {
	return &http.Client{Transport: c.Transport(nil, opts...)}
}

type transport struct {
	c        *Client
	base     http.RoundTripper
	provider string
}

// api is what the transport knows of one endpoint.
type api struct {
	operation string
	provider  string
	whole     int // bytes of a JSON response parsed whole; beyond, the tail only
	newEx     func() exchange
}

// route recognizes an instrumented endpoint by its path.
func route(req *http.Request) (api, bool) {
	path := strings.TrimSuffix(req.URL.Path, "/")
	switch {
	case strings.HasSuffix(path, "/chat/completions"):
		return api{operation: "chat", provider: openAIProvider(req.URL.Hostname()), whole: maxWholeBody,
			newEx: func() exchange { return new(chatExchange) }}, true
	case strings.HasSuffix(path, "/responses"):
		return api{operation: "chat", provider: openAIProvider(req.URL.Hostname()), whole: maxWholeBody,
			newEx: func() exchange { return new(responsesExchange) }}, true
	case strings.HasSuffix(path, "/embeddings"):
		return api{operation: "embeddings", provider: openAIProvider(req.URL.Hostname()), whole: 0,
			newEx: func() exchange { return new(embeddingsExchange) }}, true
	case strings.HasSuffix(path, "/v1/messages") &&
		(len(req.Header["Anthropic-Version"]) > 0 || strings.HasSuffix(req.URL.Hostname(), "anthropic.com")):
		return api{operation: "chat", provider: "anthropic", whole: maxWholeBody,
			newEx: func() exchange { return new(anthropicExchange) }}, true
	}
	return api{}, false
}

// openAIHosts maps the hosts of OpenAI-compatible APIs to gen_ai.provider.name.
var openAIHosts = map[string]string{
	"api.openai.com": "openai", "api.groq.com": "groq", "api.deepseek.com": "deepseek",
	"api.mistral.ai": "mistral_ai", "api.x.ai": "x_ai", "api.perplexity.ai": "perplexity",
	"generativelanguage.googleapis.com": "gcp.gemini", "api.moonshot.ai": "moonshot_ai",
	"api.cohere.ai": "cohere", "api.cohere.com": "cohere",
}

func openAIProvider(host string) string {
	if p, ok := openAIHosts[host]; ok {
		return p
	}
	if strings.HasSuffix(host, ".openai.azure.com") {
		return "azure.ai.openai"
	}
	return "openai"
}

// RoundTrip sends req and records its span. On the application's goroutine it only copies
// the request body and, as the application reads it, the response; the processor parses
// them and records the span later, with the times the bytes arrived.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || t.c.proc.closed.Load() {
		return t.base.RoundTrip(req)
	}
	a, ok := route(req)
	if !ok {
		return t.base.RoundTrip(req)
	}
	if t.provider != "" {
		a.provider = t.provider
	}
	ctx := req.Context()
	var foreign trace.Span
	if parent := trace.SpanFromContext(ctx); parent.IsRecording() {
		if hasContent, ok := t.foreignModelSpan(parent); ok {
			// anthropic-sdk-go (or another instrumentation) already records this call on a
			// span Lumina receives: enrich it rather than count the call twice.
			if !t.c.content || hasContent {
				return t.base.RoundTrip(req)
			}
			foreign = parent
		}
	}
	c := newCall()
	c.client, c.ctx, c.own, c.content, c.limit, c.api = t.c, ctx, foreign == nil, t.c.content, t.c.maxBytes, a
	if foreign != nil {
		c.span = foreign
	}
	c.host, c.port = hostPort(req)
	c.start = time.Now()
	k, out, err := requestBody(req)
	if err != nil {
		c.mode = modeNone
		c.submit(piece{c: c, final: true, end: time.Now(), err: err})
		return nil, err
	}
	c.req = k
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		c.mode = modeNone
		c.submit(piece{c: c, final: true, end: time.Now(), err: err})
		return resp, err
	}
	c.status = resp.StatusCode
	c.mode = modeJSON
	if resp.StatusCode >= 400 {
		c.mode = modeError
	} else if isEventStream(resp.Header["Content-Type"]) {
		c.mode = modeEvents
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		c.submit(piece{c: c, final: true, end: time.Now()})
		return resp, nil
	}
	whole := a.whole
	if c.mode == modeError {
		whole = 64 << 10
	}
	resp.Body = newBody(resp.Body, c, whole, resp.ContentLength)
	return resp, nil
}

// foreignModelSpan reports whether s is a model-call client span of another instrumentation
// that Lumina receives (it was started by the SDK's provider), and whether it already carries
// the request's messages.
func (t *transport) foreignModelSpan(s trace.Span) (hasContent, ok bool) {
	if tp, _ := s.TracerProvider().(*sdktrace.TracerProvider); tp != t.c.provider {
		return false, false
	}
	ro, isSDK := s.(sdktrace.ReadOnlySpan)
	if !isSDK || ro.SpanKind() != trace.SpanKindClient || ro.InstrumentationScope().Name == scopeName {
		return false, false
	}
	for _, kv := range ro.Attributes() {
		switch kv.Key {
		case keyOperation:
			switch kv.Value.AsString() {
			case "chat", "text_completion", "generate_content", "embeddings":
				ok = true
			}
		case keyInputMessages:
			hasContent = true
		}
	}
	return hasContent, ok
}

// requestBody returns a copy of the request body and the request to send: req itself when
// it can replay its body (GetBody, as net/http sets for in-memory bodies), else a clone
// reading the bytes read here.
func requestBody(req *http.Request) (*chunk, *http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, req, nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, nil, fmt.Errorf("copy request body: %w", err)
		}
		defer rc.Close()
		k := getChunk()
		if err := readAll(k, rc, req.ContentLength); err != nil {
			k.release()
			return nil, nil, fmt.Errorf("copy request body: %w", err)
		}
		return k, req, nil
	}
	k := &chunk{shared: true}
	err := readAll(k, req.Body, req.ContentLength)
	req.Body.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("read request body: %w", err)
	}
	b := k.buf
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(b))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	out.ContentLength = int64(len(b))
	return k, out, nil
}

// readAll reads r to its end into k.buf; size, when known, sizes the buffer once.
func readAll(k *chunk, r io.Reader, size int64) error {
	if size > 0 && size <= 64<<20 {
		k.grow(int(size))
	} else {
		k.grow(512)
	}
	for {
		if len(k.buf) == cap(k.buf) {
			k.grow(cap(k.buf))
		}
		n, err := r.Read(k.buf[len(k.buf):cap(k.buf)])
		k.buf = k.buf[:len(k.buf)+n]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// isEventStream reports whether the Content-Type values say text/event-stream.
func isEventStream(values []string) bool {
	if len(values) == 0 {
		return false
	}
	mt, _, _ := strings.Cut(values[0], ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/event-stream")
}

// hostPort splits the request's host without net.SplitHostPort's error allocation for the
// usual host without a port.
func hostPort(req *http.Request) (string, int) {
	host := req.URL.Hostname()
	if p := req.URL.Port(); p != "" {
		port, _ := strconv.Atoi(p)
		return host, port
	}
	if req.URL.Scheme == "http" {
		return host, 80
	}
	return host, 443
}
