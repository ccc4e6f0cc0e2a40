package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// testApp is a Lumina started in-process on random loopback ports with its own data dir.
type testApp struct {
	*app
	t *testing.T
	// stopped is set by a test that shut the app down itself (a restart test).
	stopped bool
}

func startTestApp(t *testing.T, flags ...string) *testApp {
	t.Helper()
	args := append([]string{
		"--data-dir", t.TempDir(),
		"--ingest-addr", "127.0.0.1:0", "--otlp-http-addr", "127.0.0.1:0", "--otlp-grpc-addr", "127.0.0.1:0",
		"--api-addr", "127.0.0.1:0", "--worker-addr", "127.0.0.1:0", "--replay-addr", "off", "--web-addr", "off",
		"--worker-linger", "5ms",
	}, flags...)
	cfg, err := parseConfig("serve", args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := start(context.Background(), cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	ta := &testApp{app: a, t: t}
	t.Cleanup(func() {
		if ta.stopped {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return ta
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (a *testApp) url(listener, path string) string { return "http://" + a.addr(listener) + path }

// traceJSON is the part of the API's trace detail the tests read.
type apiTrace struct {
	TraceID      string   `json:"trace_id"`
	ServiceName  string   `json:"service_name"`
	Name         string   `json:"name"`
	SpanCount    int      `json:"span_count"`
	LLMCallCount int      `json:"llm_call_count"`
	InputTokens  int64    `json:"input_tokens"`
	OutputTokens int64    `json:"output_tokens"`
	CacheRead    int64    `json:"cache_read_tokens"`
	CostUSD      *float64 `json:"cost_usd"`
	Status       string   `json:"status"`
	Models       []string `json:"models"`
	Spans        []struct {
		SpanID       string         `json:"span_id"`
		ParentSpanID string         `json:"parent_span_id"`
		Name         string         `json:"name"`
		ServiceName  string         `json:"service_name"`
		Status       string         `json:"status"`
		Kind         string         `json:"kind"`
		Attributes   map[string]any `json:"attributes"`
		Events       []any          `json:"events"`
		GenAI        *struct {
			Type           string                           `json:"type"`
			Operation      string                           `json:"operation"`
			Provider       string                           `json:"provider"`
			RequestModel   string                           `json:"request_model"`
			ResponseModel  string                           `json:"response_model"`
			InputTokens    int64                            `json:"input_tokens"`
			OutputTokens   int64                            `json:"output_tokens"`
			CacheRead      int64                            `json:"cache_read_tokens"`
			Counted        bool                             `json:"counted"`
			CostUSD        *float64                         `json:"cost_usd"`
			CostSource     string                           `json:"cost_source"`
			InputMessages  []struct{ Role, Content string } `json:"input_messages"`
			OutputMessages []struct{ Role, Content string } `json:"output_messages"`
		} `json:"genai"`
	} `json:"spans"`
}

// waitTrace polls the API until the trace has want spans.
func (a *testApp) waitTrace(traceID string, want int) apiTrace {
	a.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(a.url("api", "/api/v1/traces/"+traceID))
		if err != nil {
			a.t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		if resp.StatusCode == http.StatusOK {
			var tr apiTrace
			if err := json.Unmarshal(body, &tr); err != nil {
				a.t.Fatalf("decode trace: %v: %s", err, body)
			}
			if tr.SpanCount == want && len(tr.Spans) == want {
				return tr
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.t.Fatalf("trace %s never reached %d spans; last answer: %s", traceID, want, last)
	return apiTrace{}
}

func randomTraceID() pcommon.TraceID {
	var id pcommon.TraceID
	_, _ = rand.Read(id[:])
	return id
}

func randomSpanID() pcommon.SpanID {
	var id pcommon.SpanID
	_, _ = rand.Read(id[:])
	return id
}

// buildTraces makes one trace of n spans (a root and children) for service svc.
func buildTraces(svc string, n int) (ptrace.Traces, string) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", svc)
	ss := rs.ScopeSpans().AppendEmpty()
	tid := randomTraceID()
	root := randomSpanID()
	now := time.Now()
	for i := 0; i < n; i++ {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(tid)
		if i == 0 {
			s.SetSpanID(root)
			s.SetName("handle request")
		} else {
			s.SetSpanID(randomSpanID())
			s.SetParentSpanID(root)
			s.SetName(fmt.Sprintf("step %d", i))
		}
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Duration(i) * time.Millisecond)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Duration(i+10) * time.Millisecond)))
		s.Attributes().PutInt("step", int64(i))
	}
	return td, hex.EncodeToString(tid[:])
}

func post(t *testing.T, url, contentType, encoding string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func protoBody(t *testing.T, td ptrace.Traces) []byte {
	t.Helper()
	b, err := ptraceBody(td)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ptraceBody(td ptrace.Traces) ([]byte, error) {
	return ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}
