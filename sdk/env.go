package lumina

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// settings is a Config with every fallback applied.
type settings struct {
	Config
	// endpointFromOTelEnv is set when only the OTEL_EXPORTER_OTLP_* variables name the
	// endpoint: the exporter then reads them (with their TLS and path rules) itself.
	endpointFromOTelEnv bool
	content             bool
	ratio               float64 // 0: unset
}

// getenv is os.Getenv, a parameter so tests can pass a fixed environment.
type getenv func(string) string

func resolve(cfg Config, env getenv) (settings, error) {
	s := settings{Config: cfg}
	first := func(v string, keys ...string) string {
		for _, k := range keys {
			if v != "" {
				return v
			}
			v = strings.TrimSpace(env(k))
		}
		return v
	}
	s.Endpoint = first(cfg.Endpoint, "LUMINA_ENDPOINT")
	if s.Endpoint == "" {
		if env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" || env("OTEL_EXPORTER_OTLP_ENDPOINT") != "" {
			s.endpointFromOTelEnv = true
		} else {
			s.Endpoint = "http://localhost:4318"
		}
	}
	s.Protocol = first(cfg.Protocol, "LUMINA_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
	switch s.Protocol {
	case "", "http", ProtocolHTTP:
		s.Protocol = ProtocolHTTP
	case ProtocolGRPC:
	default:
		return s, fmt.Errorf("resolve protocol %q: want %q or %q", s.Protocol, ProtocolHTTP, ProtocolGRPC)
	}
	s.APIKey = first(cfg.APIKey, "LUMINA_API_KEY")
	s.ServiceName = first(cfg.ServiceName, "LUMINA_SERVICE_NAME")
	s.Environment = first(cfg.Environment, "LUMINA_ENVIRONMENT")

	headers := map[string]string{}
	for _, k := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
		if err := parseHeaders(env(k), headers); err != nil {
			return s, fmt.Errorf("resolve %s: %w", k, err)
		}
	}
	for k, v := range cfg.Headers {
		headers[k] = v
	}
	if s.APIKey != "" {
		headers["Authorization"] = "Bearer " + s.APIKey
	}
	s.Headers = headers

	s.ratio = cfg.SampleRatio
	if s.ratio == 0 {
		if v := env("LUMINA_SAMPLE_RATIO"); v != "" {
			r, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return s, fmt.Errorf("resolve LUMINA_SAMPLE_RATIO %q: %w", v, err)
			}
			s.ratio = r
		}
	}
	if s.ratio < 0 || s.ratio > 1 {
		return s, fmt.Errorf("resolve sample ratio %v: want 0 < ratio <= 1", s.ratio)
	}

	s.content = !cfg.DisableContent
	for _, k := range []string{"LUMINA_CAPTURE_CONTENT", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"} {
		if b, err := strconv.ParseBool(env(k)); err == nil && !b {
			s.content = false
		}
	}
	if s.MaxContentBytes <= 0 {
		s.MaxContentBytes = DefaultMaxContentBytes
	}

	b := &s.Batch
	var err error
	if b.Delay, err = envDuration(b.Delay, env, "OTEL_BSP_SCHEDULE_DELAY", DefaultExportDelay); err != nil {
		return s, err
	}
	if b.ExportTimeout, err = envDuration(b.ExportTimeout, env, "OTEL_BSP_EXPORT_TIMEOUT", DefaultExportTimeout); err != nil {
		return s, err
	}
	if b.MaxQueueSize, err = envInt(b.MaxQueueSize, env, "OTEL_BSP_MAX_QUEUE_SIZE", DefaultMaxQueueSize); err != nil {
		return s, err
	}
	if b.MaxBatchSize, err = envInt(b.MaxBatchSize, env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", DefaultMaxBatchSize); err != nil {
		return s, err
	}
	b.MaxBatchSize = min(b.MaxBatchSize, b.MaxQueueSize)
	return s, nil
}

// parseHeaders adds the W3C-baggage-style list "k1=v1,k2=v2" (values URL-encoded) to dst.
func parseHeaders(list string, dst map[string]string) error {
	for item := range strings.SplitSeq(list, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			return fmt.Errorf("parse header %q: want key=value", item)
		}
		val, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("parse header %q: %w", item, err)
		}
		dst[strings.TrimSpace(k)] = val
	}
	return nil
}

func envDuration(v time.Duration, env getenv, key string, def time.Duration) (time.Duration, error) {
	if v > 0 {
		return v, nil
	}
	if s := env(key); s != "" {
		ms, err := strconv.Atoi(s)
		if err != nil || ms <= 0 {
			return 0, fmt.Errorf("resolve %s %q: want a positive number of milliseconds", key, s)
		}
		return time.Duration(ms) * time.Millisecond, nil
	}
	return def, nil
}

func envInt(v int, env getenv, key string, def int) (int, error) {
	if v > 0 {
		return v, nil
	}
	if s := env(key); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("resolve %s %q: want a positive integer", key, s)
		}
		return n, nil
	}
	return def, nil
}
