package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// oneMoreSpan is a span of the trace in td (another span id), as a trace still in flight
// sends.
func oneMoreSpan(td ptrace.Traces) ptrace.Traces {
	out := ptrace.NewTraces()
	td.CopyTo(out)
	spans := out.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	spans.RemoveIf(func(s ptrace.Span) bool { return s.ParentSpanID().IsEmpty() })
	spans.At(0).SetSpanID(randomSpanID())
	return out
}

// TestDailyTraceLimit drives the quota end to end: three traces are accepted, the fourth is
// refused over OTLP/HTTP (JSON and protobuf) and gRPC, spans of admitted traces are still
// accepted, and the usage route shows the count.
func TestDailyTraceLimit(t *testing.T) {
	a := startTestApp(t, "--daily-trace-limit", "3")
	var admitted []ptrace.Traces
	for i := range 3 {
		td, _ := buildTraces("quota", 2)
		resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("trace %d: got %d %s, want 200", i+1, resp.StatusCode, body)
		}
		if got, want := resp.Header.Get("X-RateLimit-Remaining"), strconv.Itoa(2-i); got != want {
			t.Errorf("trace %d: X-RateLimit-Remaining %q, want %q", i+1, got, want)
		}
		admitted = append(admitted, td)
	}
	reset := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)

	// The fourth trace, as OTLP/JSON: 429, the headers, and a JSON body.
	td, _ := buildTraces("quota", 1)
	jsonBody, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	resp, body := post(t, a.url("ingest", "/v1/traces"), "application/json", "", jsonBody)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth trace: got %d %s, want 429", resp.StatusCode, body)
	}
	for h, want := range map[string]string{
		"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10),
		"Content-Type": "application/json",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("429 header %s: got %q, want %q", h, got, want)
		}
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 86400 {
		t.Errorf("Retry-After: got %q, want the seconds until midnight UTC", resp.Header.Get("Retry-After"))
	}
	var got struct {
		Error struct{ Code, Message string }
		Limit int64
		Count int64
		Reset string
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("429 body is not JSON: %v: %s", err, body)
	}
	if got.Limit != 3 || got.Count != 3 || got.Reset != reset.Format(time.RFC3339) || got.Error.Code != "daily_trace_limit_exceeded" ||
		!strings.Contains(got.Error.Message, "daily limit of 3 traces") {
		t.Errorf("429 body: got %s, want limit 3, count 3, reset %s", body, reset.Format(time.RFC3339))
	}

	// As protobuf: 429 with a google.rpc.Status body.
	resp, body = post(t, a.url("otlp-http", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td))
	var st statuspb.Status
	if resp.StatusCode != http.StatusTooManyRequests || proto.Unmarshal(body, &st) != nil || st.Code != int32(codes.ResourceExhausted) {
		t.Errorf("fourth trace as protobuf: got %d, status %v, want 429 with RESOURCE_EXHAUSTED", resp.StatusCode, &st)
	}
	if resp.Header.Get("X-RateLimit-Limit") != "3" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("protobuf 429 headers: got %v", resp.Header)
	}

	// Over gRPC: RESOURCE_EXHAUSTED with the same message.
	conn, err := grpc.NewClient(a.addr("otlp-grpc"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
	if s, _ := status.FromError(err); s.Code() != codes.ResourceExhausted || !strings.Contains(s.Message(), "daily limit of 3 traces") {
		t.Errorf("gRPC: got %v, want RESOURCE_EXHAUSTED naming the limit", err)
	}

	// Spans of admitted traces are still accepted, over both transports.
	resp, body = post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, oneMoreSpan(admitted[0])))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("late span of an admitted trace: got %d %s, want 200", resp.StatusCode, body)
	}
	if _, err := ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(oneMoreSpan(admitted[1]))); err != nil {
		t.Errorf("late span of an admitted trace over gRPC: %v", err)
	}

	// A request mixing an admitted and a new trace: accepted, the new one in partial_success.
	mixed := oneMoreSpan(admitted[2])
	td.ResourceSpans().At(0).CopyTo(mixed.ResourceSpans().AppendEmpty())
	resp, body = post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, mixed))
	out := ptraceotlp.NewExportResponse()
	if resp.StatusCode != http.StatusOK || out.UnmarshalProto(body) != nil || out.PartialSuccess().RejectedSpans() != 1 {
		t.Errorf("mixed request: got %d, rejected %d, want 200 with 1 span rejected", resp.StatusCode, out.PartialSuccess().RejectedSpans())
	}

	// The usage route.
	uresp, err := http.Get(a.url("api", "/api/v1/usage"))
	if err != nil {
		t.Fatal(err)
	}
	defer uresp.Body.Close()
	var usage struct {
		ProjectID string `json:"project_id"`
		Count     int64
		Limit     int64
		Remaining *int64
		Reset     string
	}
	if err := json.NewDecoder(uresp.Body).Decode(&usage); err != nil {
		t.Fatal(err)
	}
	if usage.ProjectID != "default" || usage.Count != 3 || usage.Limit != 3 || usage.Remaining == nil || *usage.Remaining != 0 ||
		usage.Reset != reset.Format(time.RFC3339) {
		t.Errorf("usage: got %+v, want 3 of 3, 0 remaining, reset %s", usage, reset.Format(time.RFC3339))
	}
}

// TestDailyTraceLimitSurvivesRestart restarts Lumina on the same data directory: the
// traces admitted before the restart still count.
func TestDailyTraceLimitSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	first := startOwnedApp(t, dir, "--daily-trace-limit", "2")
	for range 2 {
		td, _ := buildTraces("restart", 1)
		if resp, body := post(t, "http://"+first.addr("ingest")+"/v1/traces", "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != http.StatusOK {
			t.Fatalf("before the restart: got %d %s", resp.StatusCode, body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := first.shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	second := startOwnedApp(t, dir, "--daily-trace-limit", "2")
	defer second.shutdown(ctx)
	td, _ := buildTraces("restart", 1)
	if resp, body := post(t, "http://"+second.addr("ingest")+"/v1/traces", "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after the restart: got %d %s, want 429 (two traces already counted today)", resp.StatusCode, body)
	}
}

// TestRetentionRunCommand stores a trace that started three days ago and one from now, then
// runs `lumina retention run --retention-days 1` on the same data directory: the old trace
// is gone, the new one is kept.
func TestRetentionRunCommand(t *testing.T) {
	dir := t.TempDir()
	a := startTestApp(t, "--data-dir", dir, "--retention-time", "off")
	old, oldID := buildTraces("retention", 2)
	shiftTraces(old, -72*time.Hour)
	fresh, freshID := buildTraces("retention", 2)
	for _, td := range []ptrace.Traces{old, fresh} {
		if resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != http.StatusOK {
			t.Fatalf("ingest: got %d %s", resp.StatusCode, body)
		}
	}
	a.waitTrace(oldID, 2)
	a.waitTrace(freshID, 2)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"retention", "run", "--data-dir", dir, "--retention-days", "1", "--log-level", "warn"},
		func(string) string { return "" }, &stdout, &stderr)
	if err != nil {
		t.Fatalf("lumina retention run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "deleted 1 traces, 2 spans") {
		t.Errorf("retention run output: got %q, want 1 trace and 2 spans deleted", stdout.String())
	}
	resp, err := http.Get(a.url("api", "/api/v1/traces/"+oldID))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("old trace after retention: got %d, want 404", resp.StatusCode)
	}
	a.waitTrace(freshID, 2)
}

// shiftTraces moves every span of td by d.
func shiftTraces(td ptrace.Traces, d time.Duration) {
	rs := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for i := 0; i < rs.Len(); i++ {
		s := rs.At(i)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(s.StartTimestamp().AsTime().Add(d)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(s.EndTimestamp().AsTime().Add(d)))
	}
}

// startOwnedApp starts Lumina on dir like startTestApp, but leaves the shutdown to the test.
func startOwnedApp(t *testing.T, dir string, flags ...string) *app {
	t.Helper()
	args := append([]string{
		"--data-dir", dir,
		"--ingest-addr", "127.0.0.1:0", "--otlp-http-addr", "off", "--otlp-grpc-addr", "off",
		"--api-addr", "127.0.0.1:0", "--worker-addr", "off", "--replay-addr", "off", "--web-addr", "off",
	}, flags...)
	cfg, err := parseConfig("serve", args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := start(context.Background(), cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	return a
}
