package lumina

import (
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Defaults of the batch processor. The export delay is far below OpenTelemetry's 5 s so that
// an LLM call reaches Lumina's alerting within a second.
const (
	DefaultExportDelay   = 200 * time.Millisecond
	DefaultMaxQueueSize  = 2048
	DefaultMaxBatchSize  = 512
	DefaultExportTimeout = 10 * time.Second
	// DefaultMaxContentBytes caps the text of one content attribute (gen_ai.input.messages,
	// gen_ai.output.messages, gen_ai.system_instructions). It stays under the server's 256 KiB
	// per-value limit, so the JSON Lumina stores is never cut.
	DefaultMaxContentBytes = 128 << 10
)

// Protocols accepted in Config.Protocol.
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// EndpointNone as Config.Endpoint (or LUMINA_ENDPOINT) turns off the export to Lumina; the
// extra exporters still receive every span.
const EndpointNone = "none"

// Config configures Init. Every field is optional: a zero field falls back to its environment
// variable, then to a default.
type Config struct {
	// Endpoint is Lumina's OTLP endpoint: a base URL such as http://localhost:4318 (for HTTP the
	// SDK appends /v1/traces when the URL has no path) or, for gRPC, http://host:4317.
	// Env: LUMINA_ENDPOINT, then the exporter reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and
	// OTEL_EXPORTER_OTLP_ENDPOINT itself; default http://localhost:4318.
	Endpoint string
	// Protocol is ProtocolHTTP (default) or ProtocolGRPC.
	// Env: LUMINA_PROTOCOL, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL.
	Protocol string
	// APIKey is the project API key, sent as "Authorization: Bearer …". Env: LUMINA_API_KEY.
	APIKey string
	// Headers are extra export headers, added to OTEL_EXPORTER_OTLP_HEADERS and
	// OTEL_EXPORTER_OTLP_TRACES_HEADERS.
	Headers map[string]string
	// ServiceName is the resource's service.name.
	// Env: LUMINA_SERVICE_NAME, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES.
	ServiceName string
	// Environment is the deployment environment (deployment.environment.name), such as
	// "production". Env: LUMINA_ENVIRONMENT.
	Environment string
	// SampleRatio samples this fraction of traces (parent-based: a child follows its parent's
	// decision). Zero means unset. Env: LUMINA_SAMPLE_RATIO, then OTEL_TRACES_SAMPLER and
	// OTEL_TRACES_SAMPLER_ARG as the OpenTelemetry SDK reads them; default: every trace.
	SampleRatio float64
	// Sampler, when set, replaces SampleRatio: full control over sampling, including
	// sdktrace.NeverSample().
	Sampler sdktrace.Sampler
	// DisableContent stops the capture of prompts, responses and tool arguments: spans keep
	// model, usage, timings and errors only. Content that other instrumentations put on spans
	// of this provider is removed before export too.
	// Env: LUMINA_CAPTURE_CONTENT=false or OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=false.
	DisableContent bool
	// MaxContentBytes caps the text kept in one content attribute; the JSON stays valid and
	// the cut is marked. Default DefaultMaxContentBytes.
	MaxContentBytes int
	// Redact rewrites every content attribute before it leaves the process, for every
	// exporter. It runs on the exporting goroutine, never on the application's.
	Redact Redactor
	// Exporters receive every span in addition to Lumina: dual export to an existing
	// OpenTelemetry backend. Each exporter has its own queue, so a slow one drops its own
	// spans and never delays the others.
	Exporters []sdktrace.SpanExporter
	// Batch tunes the batch processor of each exporter.
	Batch BatchConfig
	// TracerProvider, when set, is an existing provider of the application: Init adds Lumina's
	// processors to it instead of creating a provider, so every span of the application goes
	// to Lumina too. Its sampler and resource apply; SampleRatio, Sampler and ServiceName are
	// ignored. Shutdown removes Lumina's processors and leaves the provider running.
	TracerProvider *sdktrace.TracerProvider
	// KeepGlobal leaves the global tracer provider and propagator alone. By default Init
	// registers its provider as the global one (so libraries that trace through the global
	// provider, such as anthropic-sdk-go, report to Lumina) unless the application already
	// registered an OpenTelemetry SDK provider.
	KeepGlobal bool
}

// BatchConfig tunes a batch processor. Zero fields take their environment variable, then the
// default.
type BatchConfig struct {
	// Delay is the longest a finished span waits before export.
	// Env: OTEL_BSP_SCHEDULE_DELAY (ms); default DefaultExportDelay.
	Delay time.Duration
	// MaxQueueSize is the number of spans held; when full, new spans are dropped and counted.
	// It also bounds the transport's queue of calls waiting to be parsed (in pieces: a call is
	// one, a stream one per 16 KiB), where a full queue drops and counts the call.
	// Env: OTEL_BSP_MAX_QUEUE_SIZE; default DefaultMaxQueueSize.
	MaxQueueSize int
	// MaxBatchSize is the most spans sent in one export; a full batch is sent at once.
	// Env: OTEL_BSP_MAX_EXPORT_BATCH_SIZE; default DefaultMaxBatchSize.
	MaxBatchSize int
	// ExportTimeout bounds one export. Env: OTEL_BSP_EXPORT_TIMEOUT (ms); default
	// DefaultExportTimeout.
	ExportTimeout time.Duration
}

// Redactor rewrites the value of a content attribute (key is gen_ai.input.messages,
// gen_ai.output.messages, gen_ai.system_instructions, gen_ai.tool.definitions,
// gen_ai.tool.call.arguments, gen_ai.tool.call.result or gen_ai.retrieval.query.text; value
// is its JSON or text). Returning "" removes the attribute. It must be safe for concurrent use
// and keep JSON values valid JSON.
type Redactor func(key, value string) string
