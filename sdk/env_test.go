package lumina

import (
	"testing"
	"time"
)

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		env   map[string]string
		check func(t *testing.T, s settings)
		bad   bool
	}{
		{name: "defaults", check: func(t *testing.T, s settings) {
			if s.Endpoint != "http://localhost:4318" || s.Protocol != ProtocolHTTP || !s.content ||
				s.Batch.Delay != DefaultExportDelay || s.Batch.MaxQueueSize != DefaultMaxQueueSize ||
				s.Batch.MaxBatchSize != DefaultMaxBatchSize || s.MaxContentBytes != DefaultMaxContentBytes {
				t.Errorf("got %+v", s)
			}
			if s.Batch.Delay > 500*time.Millisecond {
				t.Errorf("default export delay %v, want <= 500ms", s.Batch.Delay)
			}
		}},
		{name: "lumina env", env: map[string]string{
			"LUMINA_ENDPOINT": "http://lumina:4318", "LUMINA_API_KEY": "lk_1", "LUMINA_SERVICE_NAME": "svc",
			"LUMINA_ENVIRONMENT": "prod", "LUMINA_SAMPLE_RATIO": "0.1", "LUMINA_CAPTURE_CONTENT": "false",
			"OTEL_EXPORTER_OTLP_HEADERS": "x-team=ai%20platform", "OTEL_BSP_SCHEDULE_DELAY": "50",
			"OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		}, check: func(t *testing.T, s settings) {
			if s.Endpoint != "http://lumina:4318" || s.ServiceName != "svc" || s.Environment != "prod" || s.ratio != 0.1 ||
				s.content || s.Protocol != ProtocolGRPC || s.Batch.Delay != 50*time.Millisecond ||
				s.Batch.MaxQueueSize != 100 || s.Batch.MaxBatchSize != 100 {
				t.Errorf("got %+v", s)
			}
			if s.Headers["Authorization"] != "Bearer lk_1" || s.Headers["x-team"] != "ai platform" {
				t.Errorf("headers %v", s.Headers)
			}
		}},
		{name: "config wins over env", cfg: Config{Endpoint: "http://cfg:4318", ServiceName: "cfg", SampleRatio: 0.5},
			env: map[string]string{"LUMINA_ENDPOINT": "http://env:4318", "LUMINA_SERVICE_NAME": "env", "LUMINA_SAMPLE_RATIO": "0.1"},
			check: func(t *testing.T, s settings) {
				if s.Endpoint != "http://cfg:4318" || s.ServiceName != "cfg" || s.ratio != 0.5 {
					t.Errorf("got %+v", s)
				}
			}},
		{name: "otel endpoint left to the exporter", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector:4318"},
			check: func(t *testing.T, s settings) {
				if !s.endpointFromOTelEnv || s.Endpoint != "" {
					t.Errorf("got %+v", s)
				}
			}},
		{name: "otel content switch", env: map[string]string{"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "false"},
			check: func(t *testing.T, s settings) {
				if s.content {
					t.Error("content on, want off")
				}
			}},
		{name: "bad protocol", cfg: Config{Protocol: "http/json"}, bad: true},
		{name: "bad ratio", env: map[string]string{"LUMINA_SAMPLE_RATIO": "2"}, bad: true},
		{name: "bad delay", env: map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "soon"}, bad: true},
		{name: "bad headers", env: map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "novalue"}, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := resolve(tc.cfg, func(k string) string { return tc.env[k] })
			if tc.bad {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
		})
	}
}

func TestTracesURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://localhost:4318":         "http://localhost:4318/v1/traces",
		"http://localhost:4318/":        "http://localhost:4318/v1/traces",
		"https://x.example/otlp/traces": "https://x.example/otlp/traces",
		"localhost:4318":                "",
	} {
		got, err := tracesURL(in)
		if want == "" {
			if err == nil {
				t.Errorf("tracesURL(%q) = %q, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("tracesURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
