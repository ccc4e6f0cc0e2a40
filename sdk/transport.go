package lumina

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
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
	t := &transport{c: c, base: base, kind: trace.WithSpanKind(trace.SpanKindClient)}
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
	kind     trace.SpanStartOption // made once: options allocate
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
		(req.Header.Get("anthropic-version") != "" || strings.HasSuffix(req.URL.Hostname(), "anthropic.com")):
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

// RoundTrip sends req and records its span.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost {
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
	c := &call{content: t.c.content, limit: t.c.maxBytes, start: time.Now(), own: true}
	c.attrs = c.attrBuf[:0]
	if parent := trace.SpanFromContext(ctx); parent.IsRecording() {
		if hasContent, ok := t.foreignModelSpan(parent); ok {
			// anthropic-sdk-go (or another instrumentation) already records this call on a
			// span Lumina receives: enrich it rather than count the call twice.
			if !c.content || hasContent {
				return t.base.RoundTrip(req)
			}
			c.span, c.own = parent, false
		}
	}
	if c.own {
		host, port := hostPort(req)
		_, c.span = t.c.tracer.Start(ctx, a.operation, t.kind, trace.WithAttributes(
			attribute.String(keyOperation, a.operation), attribute.String(keyProvider, a.provider),
			attribute.String(keyServerAddress, host), attribute.Int(keyServerPort, port)))
		if !c.span.IsRecording() {
			c.span.End()
			return t.base.RoundTrip(req)
		}
	}
	c.ex = a.newEx()
	body, out, err := requestBody(req)
	if err != nil {
		c.fail("client_error", err.Error())
		c.end()
		return nil, err
	}
	c.ex.request(c, body)
	if c.own {
		for _, kv := range c.attrs {
			if kv.Key == keyRequestModel {
				c.span.SetName(a.operation + " " + kv.Value.AsString())
				break
			}
		}
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		c.fail(transportErrorType(err), err.Error())
		c.end()
		return resp, err
	}
	if c.own {
		c.int(keyHTTPStatus, int64(resp.StatusCode))
	}
	mode := modeJSON
	if resp.StatusCode >= 400 {
		mode = modeError
	} else if isEventStream(resp.Header.Get("Content-Type")) {
		mode = modeEvents
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		if mode == modeError {
			parseError(c, resp.StatusCode, nil)
		}
		c.end()
		return resp, nil
	}
	whole := a.whole
	if mode == modeError {
		whole = 64 << 10
	}
	resp.Body = newBody(resp.Body, c, mode, resp.StatusCode, whole, resp.ContentLength)
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

// requestBody returns the request body and the request to send: req itself when it can
// replay its body (GetBody, as net/http sets for in-memory bodies), else a clone reading the
// bytes read here.
func requestBody(req *http.Request) ([]byte, *http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, req, nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, nil, fmt.Errorf("copy request body: %w", err)
		}
		defer rc.Close()
		b, err := readAll(rc, req.ContentLength)
		if err != nil {
			return nil, nil, fmt.Errorf("copy request body: %w", err)
		}
		return b, req, nil
	}
	b, err := readAll(req.Body, req.ContentLength)
	req.Body.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("read request body: %w", err)
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(b))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	out.ContentLength = int64(len(b))
	return b, out, nil
}

func readAll(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 || size > 64<<20 {
		return io.ReadAll(r)
	}
	b := make([]byte, size)
	n, err := io.ReadFull(r, b)
	if err == io.ErrUnexpectedEOF {
		return b[:n], nil
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

func isEventStream(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
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
