package loadgen

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Protocols accepted in Config.Protocol.
const (
	ProtocolHTTP     = "http"      // OTLP/HTTP with protobuf bodies
	ProtocolHTTPJSON = "http-json" // OTLP/HTTP with OTLP/JSON bodies
	ProtocolGRPC     = "grpc"      // OTLP/gRPC TraceService/Export
)

// Defaults used by FlagSet and by Config.withDefaults for zero fields.
const (
	DefaultHTTPEndpoint      = "http://127.0.0.1:4318"
	DefaultGRPCEndpoint      = "127.0.0.1:4317"
	DefaultClients           = 4
	DefaultSpansPerRequest   = 100
	DefaultSpansPerTrace     = 5
	DefaultPromptBytes       = 2048
	DefaultPoolSize          = 32
	DefaultTimeout           = 10 * time.Second
	DefaultMaxRetries        = 5
	DefaultVerifyTimeout     = 60 * time.Second
	DefaultVerifyConcurrency = 8
	// MaxRetryWait is the longest server-advised wait a request sits out before retrying.
	MaxRetryWait = 30 * time.Second
)

// Config describes one load run. A zero Endpoint, Protocol, Clients, SpansPerRequest,
// SpansPerTrace, PromptBytes, PoolSize, Timeout, VerifyTimeout, VerifySample or
// VerifyConcurrency means the default; for the other fields zero means what it says (no
// warm-up, no retries, no rate limit, no verification…). FlagSet documents each field as a
// command-line flag.
type Config struct {
	// Endpoint is the OTLP/HTTP base URL (http://127.0.0.1:4318; "/v1/traces" is appended
	// when the URL has no path) or, for gRPC, host:port (plaintext).
	Endpoint string
	// Protocol is ProtocolHTTP, ProtocolHTTPJSON or ProtocolGRPC.
	Protocol string
	// Gzip compresses request bodies (Content-Encoding: gzip, or the grpc gzip compressor).
	Gzip bool
	// Headers are sent with every OTLP request and every API request (for example
	// Authorization when AUTH_REQUIRED=true). They are left out of JSON, as they may hold
	// keys.
	Headers map[string]string `json:"-"`

	// Clients is the number of concurrent senders; each has its own connection.
	Clients int
	// SpansPerRequest is the number of spans in one ExportTraceServiceRequest. The default,
	// 100, is the OTel Collector testbed's batch size; the OTel SDKs batch up to 512.
	SpansPerRequest int
	// SpansPerTrace is the number of spans in one trace: a root HTTP span, a retrieval span,
	// then alternating chat (LLM) and execute_tool spans.
	SpansPerTrace int
	// PromptBytes is the mean size of the message text of one chat span (input plus output
	// messages; each span draws 0.5–1.5× of it). The default 2048 matches the "llm2k"
	// payload of the performance notes. Negative means no message text at all (the notes'
	// "meta" payload); zero means the default.
	PromptBytes int
	// PoolSize is the number of distinct request templates marshalled before the clock
	// starts. Trace ids are replaced on every send, so the pool size only limits how many
	// different prompts, models and services appear.
	PoolSize int

	// Warmup is sent before the measured window; its traces are in the ledger and are
	// verified, but not in the rates or latencies.
	Warmup time.Duration
	// Duration is the length of the measured window. Sending stops after Warmup+Duration
	// or after Requests requests, whichever comes first; at least one must be set.
	Duration time.Duration
	// Requests stops the run after this many requests (0 = no limit).
	Requests int
	// Rate is the offered load in requests per second over all clients (0 = flat out).
	Rate float64
	// SpanRate, when Rate is 0, sets the offered load in spans per second instead.
	SpanRate float64

	// Seed makes the generated content (models, prompts, sizes) reproducible. Trace ids
	// are always fresh random ids, never derived from Seed, so two runs never collide.
	Seed uint64
	// Timeout bounds one attempt of one request.
	Timeout time.Duration
	// MaxRetries (0 = none) is how many times a request is retried after a retryable failure (HTTP
	// 429/502/503/504, transport errors, gRPC UNAVAILABLE and friends) before it counts
	// as failed. Retry-After and gRPC RetryInfo are honoured up to MaxRetryWait; a longer
	// advised wait (a daily quota resetting at midnight) fails the request at once.
	MaxRetries int

	// APIURL is the Lumina query API base URL (http://127.0.0.1:8081). When set, every
	// acknowledged trace (or a VerifySample fraction of them) is looked up after sending.
	APIURL string
	// VerifyTimeout bounds how long verification waits for acknowledged traces to appear.
	VerifyTimeout time.Duration
	// VerifySample is the fraction of acknowledged traces to verify, in (0, 1]; 0 means 1.
	VerifySample float64
	// VerifyConcurrency bounds the number of concurrent API requests during verification.
	VerifyConcurrency int

	// Progress, when positive, prints a progress line to the output every interval.
	Progress time.Duration
}

// withDefaults returns c with zero fields replaced by defaults.
func (c Config) withDefaults() Config {
	if c.Protocol == "" {
		c.Protocol = ProtocolHTTP
	}
	if c.Endpoint == "" {
		c.Endpoint = DefaultHTTPEndpoint
		if c.Protocol == ProtocolGRPC {
			c.Endpoint = DefaultGRPCEndpoint
		}
	}
	if c.Clients == 0 {
		c.Clients = DefaultClients
	}
	if c.SpansPerRequest == 0 {
		c.SpansPerRequest = DefaultSpansPerRequest
	}
	if c.SpansPerTrace == 0 {
		c.SpansPerTrace = DefaultSpansPerTrace
	}
	if c.PromptBytes == 0 {
		c.PromptBytes = DefaultPromptBytes
	}
	if c.PoolSize == 0 {
		c.PoolSize = DefaultPoolSize
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.VerifyTimeout == 0 {
		c.VerifyTimeout = DefaultVerifyTimeout
	}
	if c.VerifySample == 0 {
		c.VerifySample = 1
	}
	if c.VerifyConcurrency == 0 {
		c.VerifyConcurrency = DefaultVerifyConcurrency
	}
	if c.Rate == 0 && c.SpanRate > 0 && c.SpansPerRequest > 0 {
		c.Rate = c.SpanRate / float64(c.SpansPerRequest)
	}
	return c
}

// validate reports every problem with c (after defaults) at once.
func (c Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch c.Protocol {
	case ProtocolHTTP, ProtocolHTTPJSON:
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("endpoint %q: want an http:// or https:// URL for protocol %s", c.Endpoint, c.Protocol)
		}
	case ProtocolGRPC:
		if strings.Contains(strings.TrimPrefix(strings.TrimPrefix(c.Endpoint, "http://"), "dns:///"), "/") {
			bad("endpoint %q: want host:port for protocol grpc", c.Endpoint)
		}
	default:
		bad("protocol %q: want %s, %s or %s", c.Protocol, ProtocolHTTP, ProtocolHTTPJSON, ProtocolGRPC)
	}
	if c.Clients < 1 || c.Clients > 1024 {
		bad("clients %d: want 1..1024", c.Clients)
	}
	if c.SpansPerRequest < 1 || c.SpansPerRequest > 100_000 {
		bad("spans per request %d: want 1..100000", c.SpansPerRequest)
	}
	if c.SpansPerTrace < 1 || c.SpansPerTrace > 10_000 {
		bad("spans per trace %d: want 1..10000", c.SpansPerTrace)
	}
	if c.PromptBytes > 1<<20 {
		bad("prompt bytes %d: want at most 1048576", c.PromptBytes)
	}
	if c.PoolSize < 1 || c.PoolSize > 10_000 {
		bad("pool size %d: want 1..10000", c.PoolSize)
	}
	if c.Duration < 0 || c.Warmup < 0 || c.Requests < 0 {
		bad("duration, warmup and requests must not be negative")
	}
	if c.Duration == 0 && c.Requests == 0 {
		bad("set a duration or a request count: an unbounded run is refused")
	}
	if c.Rate < 0 || c.SpanRate < 0 {
		bad("rate must not be negative")
	}
	if c.Timeout < 0 || c.MaxRetries < 0 || c.VerifyTimeout < 0 || c.Progress < 0 {
		bad("timeout, retries, verify timeout and progress must not be negative")
	}
	if c.VerifySample <= 0 || c.VerifySample > 1 {
		bad("verify sample %v: want a fraction in (0, 1]", c.VerifySample)
	}
	if c.VerifyConcurrency < 1 || c.VerifyConcurrency > 256 {
		bad("verify concurrency %d: want 1..256", c.VerifyConcurrency)
	}
	if c.APIURL != "" {
		u, err := url.Parse(c.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("api URL %q: want an http:// or https:// URL", c.APIURL)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid loadgen config: %w", errors.Join(errs...))
	}
	return nil
}

// tracesURL is the OTLP/HTTP traces URL for an HTTP endpoint.
func (c Config) tracesURL() string {
	u, err := url.Parse(c.Endpoint)
	if err != nil {
		return c.Endpoint
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u.String()
}

// grpcTarget is the gRPC dial target for the endpoint.
func (c Config) grpcTarget() string {
	t := strings.TrimPrefix(c.Endpoint, "http://")
	if !strings.HasPrefix(t, "dns:") && !strings.HasPrefix(t, "passthrough:") {
		t = "passthrough:///" + t
	}
	return t
}
