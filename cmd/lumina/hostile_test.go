package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestHostileInput sends hostile but decodable OTLP through the real HTTP server: each case
// gets a clear answer or is stored safely, and the server keeps serving good requests.
func TestHostileInput(t *testing.T) {
	a := startTestApp(t, "--max-value-bytes", "4096")
	type hostile struct {
		name  string
		build func(s ptrace.Span)
		check func(t *testing.T, tr apiTrace)
	}
	script := `<script>alert(1)</script>'; DROP TABLE spans; --`
	cases := []hostile{
		{"nested value", func(s ptrace.Span) {
			nest(s.Attributes().PutEmptyMap("nested"), 20)
		}, func(t *testing.T, tr apiTrace) {
			if _, ok := tr.Spans[0].Attributes["nested"]; !ok {
				t.Errorf("nested attribute lost")
			}
		}},
		{"many attributes", func(s ptrace.Span) {
			for i := 0; i < 20_000; i++ {
				s.Attributes().PutInt(fmt.Sprintf("k%d", i), int64(i))
			}
		}, func(t *testing.T, tr apiTrace) {
			if n := len(tr.Spans[0].Attributes); n != 20_001 { // and buildTraces' "step"
				t.Errorf("got %d attributes, want 20001", n)
			}
		}},
		{"oversized value is cut with a marker", func(s ptrace.Span) {
			s.Attributes().PutStr("big", strings.Repeat("x", 100_000))
		}, func(t *testing.T, tr apiTrace) {
			v, _ := tr.Spans[0].Attributes["big"].(string)
			if len(v) > 4200 || !strings.Contains(v, "truncated by Lumina: 100000 bytes") {
				t.Errorf("got a %d-byte value ending %q, want it cut to ~4 KiB with a marker", len(v), v[max(0, len(v)-60):])
			}
		}},
		{"invalid utf-8", func(s ptrace.Span) {
			s.SetName("bad \xff\xfe name")
			s.Attributes().PutStr("bad", "\xc3\x28 value")
		}, func(t *testing.T, tr apiTrace) {
			if !strings.HasPrefix(tr.Spans[0].Name, "bad ") {
				t.Errorf("got name %q", tr.Spans[0].Name)
			}
		}},
		{"end before start", func(s ptrace.Span) {
			s.SetEndTimestamp(s.StartTimestamp() - 1_000_000)
		}, nil},
		{"year 1970", func(s ptrace.Span) {
			s.SetStartTimestamp(1)
			s.SetEndTimestamp(2)
		}, nil},
		{"year 3000", func(s ptrace.Span) {
			ts := pcommon.NewTimestampFromTime(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))
			s.SetStartTimestamp(ts)
			s.SetEndTimestamp(ts + 1000)
		}, nil},
		{"markup and sql in every text field", func(s ptrace.Span) {
			s.SetName(script)
			s.Status().SetMessage(script)
			s.Attributes().PutStr("gen_ai.operation.name", "chat")
			s.Attributes().PutStr("gen_ai.request.model", script)
			s.Attributes().PutStr("gen_ai.input.messages", `[{"role":"user","parts":[{"type":"text","content":"`+strings.ReplaceAll(script, `'`, `\u0027`)+`"}]}]`)
			s.Events().AppendEmpty().SetName(script)
		}, func(t *testing.T, tr apiTrace) {
			sp := tr.Spans[0]
			if sp.Name != script || sp.GenAI == nil || sp.GenAI.RequestModel != script || len(sp.GenAI.InputMessages) != 1 || sp.GenAI.InputMessages[0].Content != script {
				t.Errorf("got %q / %+v, want the text stored verbatim", sp.Name, sp.GenAI)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			td, id := buildTraces("hostile", 1)
			tc.build(td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0))
			resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("got %d %s, want 200", resp.StatusCode, body)
			}
			tr := a.waitTrace(id, 1)
			if tc.check != nil {
				tc.check(t, tr)
			}
		})
	}
	t.Run("nesting past the decoder's depth limit", func(t *testing.T) {
		td, _ := buildTraces("deep", 1)
		nest(td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().PutEmptyMap("nested"), 200)
		resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "recursion depth") {
			t.Errorf("got %d %q, want 400 naming the depth limit", resp.StatusCode, body)
		}
	})
	t.Run("duplicate span ids in one request", func(t *testing.T) {
		td, id := buildTraces("dupes", 2)
		spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		spans.At(1).SetSpanID(spans.At(0).SpanID())
		spans.At(1).SetName("second copy")
		resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got %d %s", resp.StatusCode, body)
		}
		tr := a.waitTrace(id, 1)
		if tr.SpanCount != 1 {
			t.Errorf("got %d spans for one span id, want 1 (last write wins)", tr.SpanCount)
		}
	})
	t.Run("path traversal and junk in ids", func(t *testing.T) {
		for _, path := range []string{
			"/api/v1/traces/..%2F..%2Fetc%2Fpasswd",
			"/api/v1/traces/" + strings.Repeat("a", 33),
			"/api/v1/traces/%3Cscript%3E",
			"/api/v1/logs?trace_id=../../x",
			"/api/v1/logs?span_id=%27%20OR%201%3D1",
		} {
			resp, err := http.Get(a.url("api", path))
			if err != nil {
				t.Fatal(err)
			}
			var body struct{ Error struct{ Code string } }
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: got %d, want 400 or 404", path, resp.StatusCode)
			}
			if body.Error.Code == "" {
				t.Errorf("GET %s: no JSON error code", path)
			}
		}
	})
	t.Run("zero trace id everywhere", func(t *testing.T) {
		td, _ := buildTraces("zero", 2)
		spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		for i := 0; i < spans.Len(); i++ {
			spans.At(i).SetTraceID(pcommon.TraceID{})
		}
		resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td))
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "all-zero trace_id") {
			t.Errorf("got %d %q, want 200 with both spans rejected in partial_success", resp.StatusCode, body)
		}
	})
	// The server still stores a plain trace after all of that.
	td, id := buildTraces("after-hostile", 2)
	if resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != 200 {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	a.waitTrace(id, 2)
}

func nest(m pcommon.Map, depth int) {
	for i := 0; i < depth; i++ {
		m = m.PutEmptyMap("level")
	}
	m.PutStr("leaf", "deep")
}
