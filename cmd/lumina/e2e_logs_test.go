package main

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// TestLogsOverGRPC sends GenAI log events over OTLP/gRPC, before their span exists and for a
// span that never arrives, plus a plain application log: the first is joined to its span once
// the span arrives, the second stays visible as an orphan, the third is stored.
func TestLogsOverGRPC(t *testing.T) {
	a := startTestApp(t)
	td, traceID := llmTrace("gpt-4o-mini", 10, 5)
	span := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)

	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "pricing")
	records := rl.ScopeLogs().AppendEmpty().LogRecords()
	now := pcommon.NewTimestampFromTime(time.Now())
	appendChatEvents(records, span, now, "What is the capital of France?", "Paris.")
	orphan := records.AppendEmpty()
	orphan.SetEventName("gen_ai.user.message")
	orphan.SetTimestamp(now)
	orphanTrace := randomTraceID()
	orphan.SetTraceID(orphanTrace)
	orphan.SetSpanID(randomSpanID())
	orphan.Body().SetEmptyMap().PutStr("content", "nobody sent my span")
	plain := records.AppendEmpty()
	plain.SetTimestamp(now)
	plain.SetSeverityText("INFO")
	plain.Body().SetStr("cache warmed")

	conn, err := grpc.NewClient(a.addr("otlp-grpc"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(ld)); err != nil {
		t.Fatalf("export logs: %v", err)
	}
	// The logs are committed before the span is sent: wait for them.
	eventually(t, func() bool {
		var out struct{ Logs []any }
		getJSON(t, a.url("api", "/api/v1/logs?trace_id="+traceID), &out)
		return len(out.Logs) == 2
	})
	if resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != 200 {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	tr := a.waitTrace(traceID, 1)
	g := tr.Spans[0].GenAI
	if g == nil || len(g.InputMessages) != 1 || g.InputMessages[0].Content != "What is the capital of France?" ||
		len(g.OutputMessages) != 1 || g.OutputMessages[0].Content != "Paris." {
		t.Fatalf("got genai %+v, want the log events' messages joined to the span", g)
	}
	var orphans struct {
		Logs []struct {
			TraceID  string `json:"trace_id"`
			Messages []struct{ Content string }
		} `json:"logs"`
	}
	getJSON(t, a.url("api", "/api/v1/logs?orphans=true"), &orphans)
	if len(orphans.Logs) != 1 || orphans.Logs[0].TraceID != hex.EncodeToString(orphanTrace[:]) {
		t.Errorf("got orphans %+v, want exactly the record whose span never arrived", orphans.Logs)
	}
	var all struct{ Logs []struct{ Body any } }
	getJSON(t, a.url("api", "/api/v1/logs?limit=1000"), &all)
	found := false
	for _, l := range all.Logs {
		found = found || l.Body == "cache warmed"
	}
	if !found {
		t.Errorf("the plain application log record was not stored")
	}
}

// appendChatEvents adds a gen_ai.user.message and a gen_ai.choice log record for span, the
// older GenAI event convention that carries a call's messages apart from its span.
func appendChatEvents(records plog.LogRecordSlice, span ptrace.Span, now pcommon.Timestamp, question, answer string) {
	user := records.AppendEmpty()
	user.SetEventName("gen_ai.user.message")
	user.SetTimestamp(now)
	user.SetTraceID(span.TraceID())
	user.SetSpanID(span.SpanID())
	user.Body().SetEmptyMap().PutStr("content", question)
	choice := records.AppendEmpty()
	choice.SetEventName("gen_ai.choice")
	choice.SetTimestamp(now + 1)
	choice.SetTraceID(span.TraceID())
	choice.SetSpanID(span.SpanID())
	msg := choice.Body().SetEmptyMap()
	msg.PutInt("index", 0)
	msg.PutStr("finish_reason", "stop")
	msg.PutEmptyMap("message").PutStr("content", answer)
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
