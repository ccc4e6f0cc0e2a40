package otlp

import (
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// seeds adds every captured SDK payload in testdata as a fuzz seed.
func seeds(f *testing.F, pattern string) {
	f.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	if len(files) == 0 {
		f.Fatalf("no seed files match %s", pattern)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzTraces runs the ingest check and the conversion to stored spans on arbitrary
// protobuf and JSON bodies: they may be refused, never crash, and whatever is accepted
// converts to spans with well-formed ids.
func FuzzTraces(f *testing.F) {
	seeds(f, "*.traces.*")
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, isJSON := range []bool{false, true} {
			req := ptraceotlp.NewExportRequest()
			raw, err := unmarshal(req, body, isJSON)
			if err != nil {
				continue
			}
			a, err := checkTraces(req, raw)
			if err != nil {
				t.Fatalf("check: %v", err)
			}
			if a.rejected > a.items {
				t.Fatalf("rejected %d of %d", a.rejected, a.items)
			}
			if a.body == nil {
				continue
			}
			again := ptraceotlp.NewExportRequest()
			if err := again.UnmarshalProto(a.body); err != nil {
				t.Fatalf("the published body does not decode: %v", err)
			}
			for _, s := range Spans(again.Traces(), "p") {
				if len(s.TraceID) != 32 || len(s.SpanID) != 16 || s.TraceID == "00000000000000000000000000000000" {
					t.Fatalf("stored span with ids %q/%q", s.TraceID, s.SpanID)
				}
			}
		}
	})
}

// FuzzLogs does the same for log bodies.
func FuzzLogs(f *testing.F) {
	seeds(f, "*.logs.*")
	f.Fuzz(func(t *testing.T, body []byte) {
		req := plogotlp.NewExportRequest()
		if _, err := unmarshal(req, body, false); err != nil {
			return
		}
		a, err := checkLogs(req, body)
		if err != nil {
			t.Fatalf("check: %v", err)
		}
		for _, r := range Logs(req.Logs(), "p") {
			if r.ID == "" {
				t.Fatal("log record without an id")
			}
		}
		_ = a
	})
}
