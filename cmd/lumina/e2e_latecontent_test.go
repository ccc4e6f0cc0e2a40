package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestLateContentIsScored sends LLM spans without content and their messages as GenAI log
// events in separate requests, logs after the span and logs before it: either way the
// span ends up scored on its messages, not left at tier1:no_content.
func TestLateContentIsScored(t *testing.T) {
	a := startTestApp(t)
	logsOf := func(span ptrace.Span, answer string) []byte {
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", "pricing")
		records := rl.ScopeLogs().AppendEmpty().LogRecords()
		appendChatEvents(records, span, pcommon.NewTimestampFromTime(time.Now()), "What is the capital of France?", answer)
		b, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	quality := func(traceID string) map[string]any {
		resp, err := http.Get(a.url("api", "/api/v1/traces/"+traceID))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var tr struct {
			Spans []struct {
				GenAI *struct {
					Quality map[string]any `json:"quality"`
				} `json:"genai"`
			} `json:"spans"`
		}
		if err := json.Unmarshal(raw, &tr); err != nil || len(tr.Spans) != 1 || tr.Spans[0].GenAI == nil {
			return nil
		}
		return tr.Spans[0].GenAI.Quality
	}
	sendTrace := func(td ptrace.Traces) {
		if resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != 200 {
			t.Fatalf("traces: %d %s", resp.StatusCode, body)
		}
	}
	sendLogs := func(b []byte) {
		if resp, body := post(t, a.url("otlp-http", "/v1/logs"), "application/x-protobuf", "", b); resp.StatusCode != 200 {
			t.Fatalf("logs: %d %s", resp.StatusCode, body)
		}
	}
	scored := func(traceID string) map[string]any {
		t.Helper()
		var q map[string]any
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if q = quality(traceID); q != nil && q["method"] != "tier1:no_content" {
				return q
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("trace %s: quality %v, want it scored on the log events' messages", traceID, q)
		return nil
	}

	// Span first: stored as no_content, then its logs arrive.
	td1, id1 := llmTrace("gpt-4o-mini", 20, 10)
	sendTrace(td1)
	a.waitTrace(id1, 1)
	if q := quality(id1); q == nil || q["method"] != "tier1:no_content" {
		t.Fatalf("a span without content: quality %v, want tier1:no_content first", q)
	}
	sendLogs(logsOf(td1.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0), "The capital of France is Paris."))
	if q := scored(id1); q["method"] != "tier1:first_sample" {
		t.Errorf("first answer of the endpoint: got %v, want tier1:first_sample", q)
	}

	// Logs first, then the span: scored against the first answer (same prompt).
	td2, id2 := llmTrace("gpt-4o-mini", 20, 10)
	sendLogs(logsOf(td2.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0), "The capital of France is Paris."))
	eventually(t, func() bool {
		var out struct{ Logs []any }
		getJSON(t, a.url("api", "/api/v1/logs?trace_id="+id2), &out)
		return len(out.Logs) == 2
	})
	sendTrace(td2)
	if q := scored(id2); q["score"] != 1.0 {
		t.Errorf("the same answer again: got %v, want score 1", q)
	}

	// The worker counted both.
	eventually(t, func() bool {
		resp, err := http.Get(a.url("worker", "/metrics"))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return metricLine(string(b), "lumina_quality_rescored_spans_total") == "2"
	})
}

// metricLine is the value of an unlabelled metric in Prometheus text, "" when absent.
func metricLine(body, name string) string {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}
