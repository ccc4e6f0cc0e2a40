package loadgen

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// FlagSet returns the flags of `lumina loadgen`, bound to cfg, with the defaults set in
// cfg and documented in the usage text. Parsing the set fills cfg.
func FlagSet(cfg *Config) *flag.FlagSet {
	*cfg = Config{
		Protocol:          ProtocolHTTP,
		Clients:           DefaultClients,
		SpansPerRequest:   DefaultSpansPerRequest,
		SpansPerTrace:     DefaultSpansPerTrace,
		PromptBytes:       DefaultPromptBytes,
		PoolSize:          DefaultPoolSize,
		Duration:          30 * time.Second,
		Seed:              1,
		Timeout:           DefaultTimeout,
		MaxRetries:        DefaultMaxRetries,
		VerifyTimeout:     DefaultVerifyTimeout,
		VerifySample:      1,
		VerifyConcurrency: DefaultVerifyConcurrency,
		Progress:          5 * time.Second,
	}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&cfg.Endpoint, "endpoint", "", "OTLP endpoint: base URL for http and http-json (\"/v1/traces\" is appended when the URL has no path; default "+DefaultHTTPEndpoint+"), host:port for grpc (plaintext; default "+DefaultGRPCEndpoint+")")
	fs.StringVar(&cfg.Protocol, "protocol", cfg.Protocol, "OTLP transport: http (protobuf), http-json (OTLP/JSON) or grpc")
	fs.BoolVar(&cfg.Gzip, "gzip", false, "gzip request bodies (HTTP Content-Encoding: gzip, compressed before the latency clock starts; gRPC gzip compressor, inside the call)")
	fs.Func("header", "extra header `key: value` for OTLP and API requests; repeatable", func(v string) error {
		k, val, ok := strings.Cut(v, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("header %q: want \"key: value\"", v)
		}
		if cfg.Headers == nil {
			cfg.Headers = map[string]string{}
		}
		cfg.Headers[strings.TrimSpace(k)] = strings.TrimSpace(val)
		return nil
	})
	fs.Func("api-key", "project API key, sent as \"Authorization: Bearer `KEY`\" to the OTLP endpoint and the API (for AUTH_REQUIRED=true)", func(v string) error {
		if cfg.Headers == nil {
			cfg.Headers = map[string]string{}
		}
		cfg.Headers["Authorization"] = "Bearer " + v
		return nil
	})
	fs.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent senders, each with its own connection")
	fs.IntVar(&cfg.SpansPerRequest, "spans-per-request", cfg.SpansPerRequest, "spans per ExportTraceServiceRequest (the Collector testbed uses 100, OTel SDKs batch up to 512)")
	fs.IntVar(&cfg.SpansPerTrace, "spans-per-trace", cfg.SpansPerTrace, "spans per trace: root HTTP span, retrieval span, then alternating chat (LLM) and execute_tool spans; 1 = every span a chat span, the performance notes' \"llm2k\" shape (≈2.9 KB/span on the wire with the default -prompt-bytes; 5 averages ≈1.4 KB/span)")
	fs.IntVar(&cfg.PromptBytes, "prompt-bytes", cfg.PromptBytes, "mean bytes of message text per chat span, input plus output (each span draws 0.5-1.5x; 2048 is the \"llm2k\" payload; -1 = no message text, the notes' \"meta\" payload)")
	fs.IntVar(&cfg.PoolSize, "pool", cfg.PoolSize, "distinct request templates marshalled before the clock starts (trace ids are replaced on every send regardless)")
	fs.DurationVar(&cfg.Warmup, "warmup", 0, "sending time before the measured window (sent, ledgered and verified, but not in rates and latencies)")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of the measured window; 0 = stop only after -requests")
	fs.IntVar(&cfg.Requests, "requests", 0, "stop after this many requests (0 = no limit; with -duration 0 it is the only bound)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "offered load in requests/s over all clients (0 = flat out)")
	fs.Float64Var(&cfg.SpanRate, "span-rate", 0, "offered load in spans/s over all clients, used when -rate is 0")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the generated content (models, prompts, sizes); trace ids are always fresh random ids")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "timeout of one attempt of one request (and of one API lookup)")
	fs.IntVar(&cfg.MaxRetries, "max-retries", cfg.MaxRetries, "retries of a request after retryable failures (HTTP 429/502/503/504, transport errors, gRPC UNAVAILABLE…), honouring Retry-After and RetryInfo")
	fs.StringVar(&cfg.APIURL, "api", "", "Lumina API base URL (e.g. http://127.0.0.1:8081); when set, every acknowledged trace is looked up with GET /api/v1/traces/{trace_id} after sending")
	fs.DurationVar(&cfg.VerifyTimeout, "verify-timeout", cfg.VerifyTimeout, "how long verification waits for acknowledged traces to be stored with all their spans")
	fs.Float64Var(&cfg.VerifySample, "verify-sample", cfg.VerifySample, "fraction of acknowledged traces to verify, in (0, 1]")
	fs.IntVar(&cfg.VerifyConcurrency, "verify-concurrency", cfg.VerifyConcurrency, "concurrent API lookups during verification")
	fs.DurationVar(&cfg.Progress, "progress", cfg.Progress, "interval of progress lines while sending (0 = none)")
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprint(out, `Usage: lumina loadgen [flags]

Sends realistic GenAI traces (OpenTelemetry GenAI attributes, prompt-sized messages) to an
OTLP endpoint with concurrent clients, keeps a ledger of every acknowledged trace, and with
-api checks that each one was stored with all its spans. Exit status 1 when an acknowledged
span is missing.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs
}

// ParseFlags parses `lumina loadgen` arguments; usage and errors go to stderr. It returns
// flag.ErrHelp (wrapped) for -h/-help, so the caller can exit 0.
func ParseFlags(args []string, stderr io.Writer) (Config, error) {
	var cfg Config
	fs := FlagSet(&cfg)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return Config{}, fmt.Errorf("parse loadgen flags: %w", err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("parse loadgen flags: unexpected argument %q", fs.Arg(0))
	}
	if err := cfg.withDefaults().validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}
