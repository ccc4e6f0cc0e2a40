package lumina

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// scopeName is the instrumentation scope of the SDK's spans.
const scopeName = "github.com/use-lumina/lumina/sdk"

// Version is the SDK's version, recorded as its instrumentation scope version.
const Version = "0.1.0"

// Client is an initialized SDK: a tracer provider exporting to Lumina, and the helpers that
// record spans through it. A Client is safe for concurrent use. Call Shutdown before the
// process exits, or the spans of the last export delay are lost.
type Client struct {
	provider *sdktrace.TracerProvider
	own      bool // the provider was created by Init and is shut down by Shutdown
	tracer   trace.Tracer
	procs    []sdktrace.SpanProcessor // registered on provider, in order
	batchers []*batcher
	proc     *processor // parses the transport's calls and records their spans
	direct   *recorder  // records the transport's spans without the tracer; nil: the tracer does
	content  bool
	maxBytes int
	// attrsHint sizes a new attribute slice of the transport: the attributes of the last
	// recorded span, and room for two more.
	attrsHint atomic.Int32

	shutdownOnce sync.Once
	shutdownErr  error
}

// Init starts the SDK. Fields of cfg left zero are read from the environment (see Config).
// It returns an error for settings it cannot use; it does not contact Lumina.
func Init(ctx context.Context, cfg Config) (*Client, error) {
	s, err := resolve(cfg, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("init lumina: %w", err)
	}
	var exporters []sdktrace.SpanExporter
	if s.endpointFromOTelEnv || s.Endpoint != EndpointNone {
		exp, err := newExporter(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("init lumina: %w", err)
		}
		exporters = append(exporters, exp)
	}
	exporters = append(exporters, s.Exporters...)

	c := &Client{content: s.content, maxBytes: s.MaxContentBytes}
	c.attrsHint.Store(24)
	c.proc = newProcessor(s.Batch.MaxQueueSize).start()
	idp := &identityProcessor{}
	c.procs = append(c.procs, idp)
	for _, exp := range exporters {
		if s.Redact != nil || !s.content {
			exp = &contentFilter{next: exp, redact: s.Redact, strip: !s.content}
		}
		b := newBatcher(exp, s.Batch)
		c.batchers = append(c.batchers, b)
		c.procs = append(c.procs, b)
	}

	if s.TracerProvider != nil {
		c.provider = s.TracerProvider
		if s.Environment != "" {
			idp.extra = []attribute.KeyValue{attribute.String(keyEnvironment, s.Environment)}
		}
		for _, p := range c.procs {
			c.provider.RegisterSpanProcessor(p)
		}
	} else {
		res, err := newResource(ctx, s)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("init lumina: %w", err), c.proc.Shutdown(ctx), c.stopBatchers(ctx))
		}
		opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
		var sampler sdktrace.Sampler
		switch {
		case s.Sampler != nil:
			sampler = s.Sampler
		case s.ratio > 0:
			sampler = sdktrace.ParentBased(sdktrace.TraceIDRatioBased(s.ratio))
		case os.Getenv("OTEL_TRACES_SAMPLER") == "":
			sampler = sdktrace.ParentBased(sdktrace.AlwaysSample()) // the provider's default
		}
		if sampler != nil { // else the provider reads OTEL_TRACES_SAMPLER
			opts = append(opts, sdktrace.WithSampler(sampler))
		}
		for _, p := range c.procs {
			opts = append(opts, sdktrace.WithSpanProcessor(p))
		}
		c.provider, c.own = sdktrace.NewTracerProvider(opts...), true
		if sampler != nil && directAllowed(os.Getenv) {
			c.direct = &recorder{sampler: sampler, resource: res, batchers: c.batchers,
				scope: instrumentation.Scope{Name: scopeName, Version: Version}, recycle: true}
			for _, b := range c.batchers {
				c.direct.recycle = c.direct.recycle && releasesSpans(b.exp)
			}
		}
	}
	c.tracer = c.provider.Tracer(scopeName, trace.WithInstrumentationVersion(Version))

	if !s.KeepGlobal {
		if _, taken := otel.GetTracerProvider().(*sdktrace.TracerProvider); !taken && c.own {
			otel.SetTracerProvider(c.provider)
			otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
		}
	}
	return c, nil
}

func newExporter(ctx context.Context, s settings) (sdktrace.SpanExporter, error) {
	if s.Protocol == ProtocolGRPC {
		opts := []otlptracegrpc.Option{otlptracegrpc.WithHeaders(s.Headers)}
		if !s.endpointFromOTelEnv {
			opts = append(opts, otlptracegrpc.WithEndpointURL(s.Endpoint))
		}
		exp, err := otlptracegrpc.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("create otlp grpc exporter: %w", err)
		}
		return exp, nil
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithHeaders(s.Headers)}
	if !s.endpointFromOTelEnv {
		endpoint, err := tracesURL(s.Endpoint)
		if err != nil {
			return nil, err
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(endpoint))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("create otlp http exporter: %w", err)
	}
	return exp, nil
}

// tracesURL appends /v1/traces to a base URL without a path.
func tracesURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("parse endpoint %q: want a URL such as http://localhost:4318", endpoint)
	}
	if strings.Trim(u.Path, "/") == "" {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}

func newResource(ctx context.Context, s settings) (*resource.Resource, error) {
	var attrs []attribute.KeyValue
	if s.ServiceName != "" {
		attrs = append(attrs, attribute.String("service.name", s.ServiceName))
	}
	if s.Environment != "" {
		attrs = append(attrs, attribute.String(keyEnvironmentSemcnv, s.Environment))
	}
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK(), resource.WithAttributes(attrs...))
	if err != nil {
		return nil, fmt.Errorf("build resource: %w", err)
	}
	merged, err := resource.Merge(resource.Default(), res)
	if err != nil {
		return nil, fmt.Errorf("merge resource: %w", err)
	}
	return merged, nil
}

// TracerProvider returns the provider the SDK records through: register it wherever a
// library takes a trace.TracerProvider (for example anthropic-sdk-go's
// option.WithTracerProvider) to send that library's spans to Lumina.
func (c *Client) TracerProvider() *sdktrace.TracerProvider { return c.provider }

// Tracer returns the SDK's tracer, for spans of your own.
func (c *Client) Tracer() trace.Tracer { return c.tracer }

// Flush records the spans of every call that has ended, exports every span that has ended,
// to every exporter, and returns when they have answered or ctx is done.
func (c *Client) Flush(ctx context.Context) error {
	var errs []error
	if err := c.proc.Flush(ctx); err != nil {
		errs = append(errs, err)
	}
	for _, b := range c.batchers {
		if err := b.ForceFlush(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("flush lumina: %w", err)
	}
	return nil
}

// Shutdown exports every span that has ended, then stops the exporters. With Config.
// TracerProvider it removes Lumina's processors and leaves the application's provider
// running. Calls after the first return the first result.
func (c *Client) Shutdown(ctx context.Context) error {
	c.shutdownOnce.Do(func() {
		// First record the calls that ended, while the provider still runs.
		errs := []error{c.proc.Shutdown(ctx)}
		if c.own {
			errs = append(errs, c.provider.Shutdown(ctx))
		} else {
			for _, p := range c.procs {
				c.provider.UnregisterSpanProcessor(p) // shuts p down
			}
			errs = append(errs, c.stopBatchers(ctx)) // no-op for those already stopped
		}
		if err := errors.Join(errs...); err != nil {
			c.shutdownErr = fmt.Errorf("shutdown lumina: %w", err)
		}
	})
	return c.shutdownErr
}

func (c *Client) stopBatchers(ctx context.Context) error {
	var errs []error
	for _, b := range c.batchers {
		if err := b.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Stats counts what the exporters did with the spans that ended: totals over every exporter
// (a span sent to Lumina and to one extra exporter counts twice).
type Stats struct {
	// Exported spans were accepted by an exporter.
	Exported uint64
	// Dropped spans found the queue full (or arrived after Shutdown) and were never sent.
	Dropped uint64
	// Failed spans were in a batch the exporter returned an error for.
	Failed uint64
	// Queued spans are waiting for export now.
	Queued int
	// DroppedCalls are model calls the transport saw but never recorded: the queue of calls
	// waiting to be parsed was full (Batch.MaxQueueSize calls or 64 MiB of captured bytes).
	DroppedCalls uint64
}

// Stats returns the export counters.
func (c *Client) Stats() Stats {
	st := Stats{DroppedCalls: c.proc.dropped.Load()}
	for _, b := range c.batchers {
		st.Exported += b.exported.Load()
		st.Dropped += b.dropped.Load()
		st.Failed += b.failed.Load()
		st.Queued += b.queued()
	}
	return st
}
