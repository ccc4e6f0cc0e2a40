package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

// TestExportWindow exports by --since and --until (durations, RFC 3339 times), to a file
// and to standard output, and splits a trace across lines only when it alone is too big.
func TestExportWindow(t *testing.T) {
	dir := t.TempDir()
	a := startTestApp(t, "--data-dir", dir, "--retention-time", "off")
	old, oldID := buildTraces("window", 2)
	shiftTraces(old, -72*time.Hour)
	fresh, freshID := buildTraces("window", 3)
	for _, td := range []ptrace.Traces{old, fresh} {
		ingest(t, a, "/v1/traces", protoBody(t, td))
	}
	a.waitTrace(oldID, 2)
	a.waitTrace(freshID, 3)
	oldStart := old.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).StartTimestamp().AsTime()

	tests := []struct {
		name  string
		args  []string
		want  []string
		lines int
	}{
		{"everything", nil, sorted(oldID, freshID), 1},
		{"since a duration ago", []string{"--since", "24h"}, []string{freshID}, 1},
		{"until a duration ago", []string{"--until", "1d"}, []string{oldID}, 1},
		{"RFC 3339 window", []string{"--since", oldStart.Add(-time.Hour).Format(time.RFC3339), "--until", oldStart.Add(time.Hour).Format(time.RFC3339Nano)}, []string{oldID}, 1},
		{"since is inclusive", []string{"--since", oldStart.Format(time.RFC3339Nano), "--until", "24h"}, []string{oldID}, 1},
		{"empty window", []string{"--since", "2001-01-01", "--until", "2001-01-02"}, nil, 0},
		{"other project", []string{"--project", "elsewhere"}, nil, 0},
		// 2 + 3 spans, at most 2 a line: the old trace, then the fresh one in two parts.
		{"split a big trace", []string{"--spans-per-line", "2"}, sorted(oldID, freshID), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"export", "--data-dir", dir, "--log-level", "warn"}, tt.args...)
			stdout, stderr, err := runCLI(t, args...)
			if err != nil {
				t.Fatalf("export: %v\n%s", err, stderr)
			}
			if got := exportedTraceIDs(t, []byte(stdout)); !equalStrings(got, tt.want) {
				t.Errorf("exported traces: got %v, want %v", got, tt.want)
			}
			if got := strings.Count(stdout, "\n"); got != tt.lines {
				t.Errorf("got %d lines, want %d:\n%.300s", got, tt.lines, stdout)
			}
		})
	}
	for _, bad := range [][]string{{"--since", "yesterday"}, {"--until", "2001-13-01"}, {"--since", "1h", "--until", "2h"}, {"--spans-per-line", "0"}} {
		_, _, err := runCLI(t, append([]string{"export", "--data-dir", dir}, bad...)...)
		if err == nil || !strings.Contains(err.Error(), bad[len(bad)-2]) {
			t.Errorf("export %v: got error %v, want one naming %s", bad, err, bad[len(bad)-2])
		}
	}
}

func sorted(ids ...string) []string {
	out := append([]string(nil), ids...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// otlpSink is a fake OTLP/HTTP backend that records requests and answers from a script.
type otlpSink struct {
	t      *testing.T
	answer func(n int) (status int, header http.Header, body []byte) // n counts from 1
	mu     sync.Mutex
	reqs   []sinkRequest
}

type sinkRequest struct {
	path   string
	header http.Header
	body   []byte // decompressed
}

func newSink(t *testing.T, answer func(n int) (int, http.Header, []byte)) (*otlpSink, string) {
	s := &otlpSink{t: t, answer: answer}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func (s *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, _ := io.ReadAll(body)
	s.mu.Lock()
	s.reqs = append(s.reqs, sinkRequest{path: r.URL.Path, header: r.Header.Clone(), body: b})
	n := len(s.reqs)
	s.mu.Unlock()
	status, header, out := http.StatusOK, http.Header{}, []byte(nil)
	if s.answer != nil {
		status, header, out = s.answer(n)
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

func (s *otlpSink) requests() []sinkRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkRequest(nil), s.reqs...)
}

// exportFile writes lines to a file and returns its path.
func exportFile(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func tracesLine(t *testing.T, td ptrace.Traces) string {
	t.Helper()
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func rpcStatus(t *testing.T, msg string) []byte {
	b, err := proto.Marshal(&statuspb.Status{Code: 3, Message: msg})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fast makes retries quick in tests.
var fast = []string{"--retry-initial", "1ms", "--retry-max", "4ms"}

// TestImportRetries drives the retry policy against a scripted endpoint: 503 and 429 are
// retried until accepted, a 5xx that never ends gives up, and 4xx answers fail at once
// with the line number and the endpoint's message.
func TestImportRetries(t *testing.T) {
	td, _ := buildTraces("retry", 2)
	file := exportFile(t, tracesLine(t, td))
	protoHeader := http.Header{"Content-Type": {"application/x-protobuf"}}
	tests := []struct {
		name     string
		answers  []int
		header   http.Header
		body     []byte
		args     []string
		requests int
		wantErr  []string // all in the error; nil: success
	}{
		{"503 then accepted", []int{503, 503, 200}, nil, nil, nil, 3, nil},
		{"429 then accepted", []int{429, 200}, http.Header{"Retry-After": {"0"}}, nil, nil, 2, nil},
		{"502 and 504 are retried", []int{502, 504, 200}, nil, nil, nil, 3, nil},
		{"5xx until giving up", []int{500, 500, 500, 500}, nil, nil, []string{"--retries", "2"}, 3, []string{"line 1", "gave up after 3 attempts", "500 Internal Server Error"}},
		{"400 is permanent", []int{400}, protoHeader, rpcStatus(t, "span 3 has an invalid trace id"), nil, 1, []string{"line 1", "400 Bad Request", "span 3 has an invalid trace id"}},
		{"401 is permanent", []int{401}, nil, []byte("missing API key\n"), nil, 1, []string{"line 1", "401 Unauthorized", "missing API key"}},
		{"413 says what to do", []int{413}, nil, nil, nil, 1, []string{"413", "--spans-per-line"}},
		{"Retry-After beyond the cap", []int{429}, http.Header{"Retry-After": {"3600"}}, nil, []string{"--max-retry-wait", "1m"}, 1, []string{"retry after 1h0m0s", "--max-retry-wait"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink, url := newSink(t, func(n int) (int, http.Header, []byte) {
				code := tt.answers[min(n, len(tt.answers))-1]
				if code == 200 {
					return 200, nil, nil
				}
				return code, tt.header, tt.body
			})
			args := append(append([]string{"import", "--endpoint", url}, fast...), tt.args...)
			_, stderr, err := runCLI(t, append(args, file)...)
			if got := len(sink.requests()); got != tt.requests {
				t.Errorf("got %d requests, want %d", got, tt.requests)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("import: %v\n%s", err, stderr)
				}
				if want := "imported 1 traces, 2 spans"; !strings.Contains(stderr, want) {
					t.Errorf("summary: got %q, want %q", stderr, want)
				}
				if want := "retries"; !strings.Contains(stderr, want) || strings.Contains(stderr, " 0 retries") {
					t.Errorf("summary: got %q, want the retries counted", stderr)
				}
				return
			}
			if err == nil {
				t.Fatalf("import: got success, want an error with %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !strings.Contains(stderr, "1 failed lines") {
				t.Errorf("summary: got %q, want the failed line counted", stderr)
			}
		})
	}
}

// TestSenderBackoff checks the waits between attempts with a recording sleep: exponential
// with jitter, capped, and Retry-After when the endpoint sends one.
func TestSenderBackoff(t *testing.T) {
	answers := []struct {
		code       int
		retryAfter string
	}{{503, ""}, {503, ""}, {503, ""}, {503, ""}, {429, "7"}, {503, time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)}, {200, ""}}
	_, url := newSink(t, func(n int) (int, http.Header, []byte) {
		a := answers[n-1]
		h := http.Header{}
		if a.retryAfter != "" {
			h.Set("Retry-After", a.retryAfter)
		}
		return a.code, h, nil
	})
	var waits []time.Duration
	s := &sender{
		client: http.DefaultClient, base: url, retries: 10,
		initial: time.Second, maxBackoff: 4 * time.Second, maxWait: 5 * time.Minute,
		sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
	}
	if _, err := s.send(context.Background(), "traces", []byte("x")); err != nil {
		t.Fatalf("send: %v", err)
	}
	bounds := [][2]time.Duration{{500 * time.Millisecond, time.Second}, {time.Second, 2 * time.Second}, {2 * time.Second, 4 * time.Second}, {2 * time.Second, 4 * time.Second}, {7 * time.Second, 7 * time.Second}, {80 * time.Second, 90 * time.Second}}
	if len(waits) != len(bounds) {
		t.Fatalf("got waits %v, want %d of them", waits, len(bounds))
	}
	for i, b := range bounds {
		if waits[i] < b[0] || waits[i] > b[1] {
			t.Errorf("wait %d: got %s, want between %s and %s", i+1, waits[i], b[0], b[1])
		}
	}
}

// TestImportErrors checks that bad input and unreachable endpoints fail clearly.
func TestImportErrors(t *testing.T) {
	td, _ := buildTraces("errors", 1)
	good := tracesLine(t, td)
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr
	}()
	tests := []struct {
		name     string
		args     []string
		lines    []string
		requests int
		wantErr  []string
	}{
		{"no endpoint", nil, []string{good}, 0, []string{"--endpoint is required"}},
		{"endpoint without scheme", []string{"--endpoint", "localhost:4318"}, []string{good}, 0, []string{"want an http:// or https:// URL"}},
		{"endpoint of another scheme", []string{"--endpoint", "grpc://localhost:4317"}, []string{good}, 0, []string{"want an http:// or https:// URL"}},
		{"unreachable endpoint", []string{"--endpoint", closed, "--retries", "1"}, []string{good}, 0, []string{"line 1", "gave up after 2 attempts", "connection refused"}},
		{"malformed line", nil, []string{good, `{"resourceSpans": [`, good}, 1, []string{"line 2", "not an OTLP/JSON"}},
		{"not JSON at all", nil, []string{"hello"}, 0, []string{"line 1", "one JSON object"}},
		{"wrong shape", nil, []string{`{"spans":[]}`}, 0, []string{"line 1", "no resourceSpans or resourceLogs"}},
		{"metrics", nil, []string{`{"resourceMetrics":[]}`}, 0, []string{"line 1", "metrics"}},
		{"bad span id", nil, []string{`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"01"}]}]}]}`}, 0, []string{"line 1", "OTLP/JSON traces"}},
		{"keep going", []string{"--keep-going"}, []string{good, "garbage", good}, 2, []string{"1 of 3 lines failed"}},
		{"bad header", []string{"--header", "novalue"}, []string{good}, 0, []string{"want name=value"}},
		{"bad format", []string{"--format", "xml"}, []string{good}, 0, []string{"want protobuf or json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink, url := newSink(t, nil)
			args := append([]string{"import"}, fast...)
			if !strings.Contains(strings.Join(tt.args, " "), "--endpoint") && tt.name != "no endpoint" {
				args = append(args, "--endpoint", url)
			}
			args = append(append(args, tt.args...), exportFile(t, tt.lines...))
			_, stderr, err := runCLI(t, args...)
			if err == nil {
				t.Fatalf("got success, want an error with %q\n%s", tt.wantErr, stderr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if got := len(sink.requests()); got != tt.requests {
				t.Errorf("got %d requests, want %d", got, tt.requests)
			}
		})
	}
	if _, _, err := runCLI(t, "import", "--endpoint", "http://127.0.0.1:1", filepath.Join(t.TempDir(), "missing.jsonl")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: got %v, want the open error", err)
	}
}

// TestImportEncodings checks what reaches the endpoint: protobuf (gzip) by default, the
// JSON line itself with --format json, each signal on its own path, and the API key and
// extra headers on every request.
func TestImportEncodings(t *testing.T) {
	td, _ := buildTraces("enc", 2)
	ld, _ := genaiLogs(td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID(), td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SpanID(), time.Now())
	logLine, err := plogotlp.NewExportRequestFromLogs(ld).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	file := exportFile(t, tracesLine(t, td), "", string(logLine))
	wantTraces, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"protobuf", "json"} {
		t.Run(format, func(t *testing.T) {
			sink, url := newSink(t, nil)
			_, stderr, err := runCLI(t, "import", "--endpoint", url+"/v1/traces", "--format", format, "--api-key", "sk-123", "--header", "x-tenant=acme", file)
			if err != nil {
				t.Fatalf("import: %v\n%s", err, stderr)
			}
			reqs := sink.requests()
			if len(reqs) != 2 || reqs[0].path != "/v1/traces" || reqs[1].path != "/v1/logs" {
				t.Fatalf("got requests %v, want /v1/traces then /v1/logs", reqs)
			}
			for _, r := range reqs {
				if r.header.Get("Authorization") != "Bearer sk-123" || r.header.Get("X-Tenant") != "acme" || r.header.Get("Content-Encoding") != "gzip" {
					t.Errorf("headers: got %v, want the bearer key, x-tenant and gzip", r.header)
				}
			}
			if format == "protobuf" {
				if ct := reqs[0].header.Get("Content-Type"); ct != "application/x-protobuf" || !bytes.Equal(reqs[0].body, wantTraces) {
					t.Errorf("got %s body of %d bytes, want the protobuf request (%d bytes)", ct, len(reqs[0].body), len(wantTraces))
				}
				got := plogotlp.NewExportRequest()
				if err := got.UnmarshalProto(reqs[1].body); err != nil || got.Logs().LogRecordCount() != 4 {
					t.Errorf("logs request: got %d records (%v), want 4", got.Logs().LogRecordCount(), err)
				}
				return
			}
			if ct := reqs[1].header.Get("Content-Type"); ct != "application/json" || !bytes.Equal(reqs[1].body, logLine) {
				t.Errorf("got %s body %.80s, want the JSON line as it was", ct, reqs[1].body)
			}
			if !strings.Contains(stderr, "imported 1 traces, 2 spans, 4 log records; 2 lines") {
				t.Errorf("summary: got %q", stderr)
			}
		})
	}
	// A partial success is reported, not hidden.
	_, url := newSink(t, func(int) (int, http.Header, []byte) {
		resp := ptraceotlp.NewExportResponse()
		resp.PartialSuccess().SetRejectedSpans(1)
		resp.PartialSuccess().SetErrorMessage("span too old")
		b, _ := resp.MarshalProto()
		return 200, http.Header{"Content-Type": {"application/x-protobuf"}}, b
	})
	_, stderr, err := runCLI(t, "import", "--endpoint", url, exportFile(t, tracesLine(t, td)))
	if err != nil || !strings.Contains(stderr, "rejected 1 of 2 traces: span too old") || !strings.Contains(stderr, "1 rejected by the endpoint") {
		t.Errorf("partial success: got %v, stderr %q; want the rejection reported", err, stderr)
	}
}

// TestImportStdin reads the lines from standard input for "-", as in
// `lumina export | lumina import --endpoint … -`.
func TestImportStdin(t *testing.T) {
	td, _ := buildTraces("stdin", 3)
	sink, url := newSink(t, nil)
	old := stdin
	stdin = strings.NewReader(tracesLine(t, td) + "\n")
	defer func() { stdin = old }()
	_, stderr, err := runCLI(t, "import", "--endpoint", url, "-")
	if err != nil {
		t.Fatalf("import -: %v\n%s", err, stderr)
	}
	if got := len(sink.requests()); got != 1 || !strings.Contains(stderr, "imported 1 traces, 3 spans") {
		t.Errorf("got %d requests and summary %q, want 1 request of 1 trace and 3 spans", got, stderr)
	}
}
