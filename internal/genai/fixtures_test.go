package genai_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/otlp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// loadTraces decodes an OTLP traces fixture (.pb or .json) into spans.
func loadTraces(t testing.TB, name string) []genai.Span {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	var td ptrace.Traces
	if strings.HasSuffix(name, ".json") {
		var u ptrace.JSONUnmarshaler
		td, err = u.UnmarshalTraces(b)
	} else {
		var u ptrace.ProtoUnmarshaler
		td, err = u.UnmarshalTraces(b)
	}
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return otlp.Spans(td, "test")
}

// loadLogs decodes an OTLP logs fixture into log records.
func loadLogs(t testing.TB, name string) []genai.LogRecord {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	var ld plog.Logs
	if strings.HasSuffix(name, ".json") {
		var u plog.JSONUnmarshaler
		ld, err = u.UnmarshalLogs(b)
	} else {
		var u plog.ProtoUnmarshaler
		ld, err = u.UnmarshalLogs(b)
	}
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return otlp.Logs(ld, "test")
}

// goldenSpan is what golden files record of a span.
type goldenSpan struct {
	SpanID string      `json:"span_id"`
	Name   string      `json:"name"`
	GenAI  *genai.Call `json:"genai"`
}

// checkGolden compares v, JSON-encoded, with testdata/golden/<name>.json.
func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file %s (run go test ./internal/genai -update after checking):\n%s", name, path, got)
	}
}

func goldenSpans(spans []genai.Span) []goldenSpan {
	out := make([]goldenSpan, len(spans))
	for i, s := range spans {
		out[i] = goldenSpan{SpanID: s.SpanID, Name: s.Name, GenAI: s.GenAI}
	}
	return out
}

func normalizeAll(spans []genai.Span) {
	for i := range spans {
		genai.Normalize(&spans[i])
	}
}

func TestFixturesGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "fixtures", "*.traces.*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			spans := loadTraces(t, name)
			normalizeAll(spans)
			if name == "otel-genai-openai.traces.pb" {
				genai.AttachLogs(spans, loadLogs(t, "otel-genai-openai.logs.pb"))
			}
			checkGolden(t, strings.TrimSuffix(strings.TrimSuffix(name, ".pb"), ".json"), goldenSpans(spans))
		})
	}
}

// TestLogFixturesGolden records how every logs fixture's records normalize on their own.
func TestLogFixturesGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "fixtures", "*.logs.*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no log fixtures: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			recs := loadLogs(t, name)
			type goldenLog struct {
				SpanID   string          `json:"span_id"`
				Event    string          `json:"event"`
				Output   bool            `json:"output"`
				Messages []genai.Message `json:"messages"`
			}
			var out []goldenLog
			for i := range recs {
				genai.NormalizeLog(&recs[i])
				if len(recs[i].Messages) == 0 {
					t.Errorf("record %d (%s): no messages", i, recs[i].EventName)
				}
				out = append(out, goldenLog{recs[i].SpanID, recs[i].EventName, recs[i].Output, recs[i].Messages})
			}
			checkGolden(t, strings.TrimSuffix(strings.TrimSuffix(name, ".pb"), ".json"), out)
		})
	}
}
