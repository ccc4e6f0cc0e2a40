package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// agentTrace is a realistic nested trace: an HTTP server span, an agent, an LLM call with
// messages, cached tokens and request parameters, a failing tool call with an event and a
// link, under a resource and scope with schema URLs.
func agentTrace(start time.Time) (ptrace.Traces, string, pcommon.SpanID) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
	res := rs.Resource().Attributes()
	res.PutStr("service.name", "support-bot")
	res.PutStr("service.version", "2.4.1")
	res.PutStr("deployment.environment.name", "production")
	res.PutInt("host.cpus", 8)
	ss := rs.ScopeSpans().AppendEmpty()
	ss.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
	ss.Scope().SetName("support-bot/agent")
	ss.Scope().SetVersion("0.9.0")
	tid := randomTraceID()
	ids := [4]pcommon.SpanID{randomSpanID(), randomSpanID(), randomSpanID(), randomSpanID()}
	at := func(ms int) pcommon.Timestamp {
		return pcommon.NewTimestampFromTime(start.Add(time.Duration(ms) * time.Millisecond))
	}
	add := func(i int, parent pcommon.SpanID, name string, kind ptrace.SpanKind, from, to int) ptrace.Span {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(tid)
		s.SetSpanID(ids[i])
		s.SetParentSpanID(parent)
		s.SetName(name)
		s.SetKind(kind)
		s.SetStartTimestamp(at(from))
		s.SetEndTimestamp(at(to))
		return s
	}
	root := add(0, pcommon.NewSpanIDEmpty(), "POST /chat", ptrace.SpanKindServer, 0, 3000)
	root.TraceState().FromRaw("lumina=1")
	root.Status().SetCode(ptrace.StatusCodeOk)
	root.Attributes().PutStr("http.request.method", "POST")
	root.Attributes().PutInt("http.response.status_code", 200)
	root.Attributes().PutStr("lumina.tags", "beta,eu")

	ag := add(1, ids[0], "invoke_agent support", ptrace.SpanKindInternal, 10, 2900)
	ag.Attributes().PutStr("gen_ai.operation.name", "invoke_agent")
	ag.Attributes().PutStr("gen_ai.agent.name", "support")

	llm := add(2, ids[1], "chat gpt-4o-mini", ptrace.SpanKindClient, 20, 1820)
	a := llm.Attributes()
	a.PutStr("gen_ai.operation.name", "chat")
	a.PutStr("gen_ai.provider.name", "openai")
	a.PutStr("gen_ai.request.model", "gpt-4o-mini")
	a.PutStr("gen_ai.response.model", "gpt-4o-mini-2024-07-18")
	a.PutStr("gen_ai.response.id", "chatcmpl-123")
	a.PutDouble("gen_ai.request.temperature", 0.2)
	a.PutInt("gen_ai.request.max_tokens", 512)
	a.PutInt("gen_ai.usage.input_tokens", 1200)
	a.PutInt("gen_ai.usage.output_tokens", 80)
	a.PutInt("gen_ai.usage.cache_read.input_tokens", 1000)
	a.PutEmptySlice("gen_ai.response.finish_reasons").AppendEmpty().SetStr("stop")
	a.PutStr("gen_ai.input.messages", `[{"role":"system","parts":[{"type":"text","content":"You are terse."}]},{"role":"user","parts":[{"type":"text","content":"Where is my order #42?"}]}]`)
	a.PutStr("gen_ai.output.messages", `[{"role":"assistant","parts":[{"type":"text","content":"It ships tomorrow."}],"finish_reason":"stop"}]`)
	ev := llm.Events().AppendEmpty()
	ev.SetName("gen_ai.content.chunk")
	ev.SetTimestamp(at(400))
	ev.Attributes().PutInt("index", 0)

	tool := add(3, ids[1], "execute_tool lookup_order", ptrace.SpanKindInternal, 1830, 2800)
	tool.Attributes().PutStr("gen_ai.operation.name", "execute_tool")
	tool.Attributes().PutStr("gen_ai.tool.name", "lookup_order")
	tool.Attributes().PutBool("retry", true)
	tool.Status().SetCode(ptrace.StatusCodeError)
	tool.Status().SetMessage("order service timed out")
	tool.SetDroppedAttributesCount(2)
	lk := tool.Links().AppendEmpty()
	lk.SetTraceID(randomTraceID())
	lk.SetSpanID(randomSpanID())
	lk.Attributes().PutStr("link.kind", "retry-of")
	return td, hex.EncodeToString(tid[:]), ids[2]
}

// genaiLogs are GenAI events for a span (the messages of an LLM call sent as log records),
// an event whose span never arrives, and a plain application log without a trace.
func genaiLogs(traceID pcommon.TraceID, spanID pcommon.SpanID, at time.Time) (plog.Logs, string) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "pricing")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("opentelemetry.instrumentation.openai")
	recs := sl.LogRecords()
	ts := pcommon.NewTimestampFromTime(at)
	user := recs.AppendEmpty()
	user.SetEventName("gen_ai.user.message")
	user.SetTimestamp(ts)
	user.SetTraceID(traceID)
	user.SetSpanID(spanID)
	user.Body().SetEmptyMap().PutStr("content", "What is the capital of France?")
	choice := recs.AppendEmpty()
	choice.SetEventName("gen_ai.choice")
	choice.SetTimestamp(ts + 1)
	choice.SetTraceID(traceID)
	choice.SetSpanID(spanID)
	m := choice.Body().SetEmptyMap()
	m.PutInt("index", 0)
	m.PutStr("finish_reason", "stop")
	m.PutEmptyMap("message").PutStr("content", "Paris.")
	orphan := recs.AppendEmpty()
	orphan.SetEventName("gen_ai.user.message")
	orphan.SetTimestamp(ts)
	orphanTrace := randomTraceID()
	orphan.SetTraceID(orphanTrace)
	orphan.SetSpanID(randomSpanID())
	orphan.Body().SetEmptyMap().PutStr("content", "nobody sent my span")
	plain := recs.AppendEmpty()
	plain.SetTimestamp(ts)
	plain.SetSeverityText("INFO")
	plain.SetSeverityNumber(plog.SeverityNumberInfo)
	plain.Body().SetStr("cache warmed")
	plain.Attributes().PutInt("entries", 1024)
	return ld, hex.EncodeToString(orphanTrace[:])
}

func ingest(t *testing.T, a *testApp, path string, body []byte) {
	t.Helper()
	if resp, out := post(t, a.url("ingest", path), "application/x-protobuf", "", body); resp.StatusCode != http.StatusOK {
		t.Fatalf("ingest %s: got %d %s", path, resp.StatusCode, out)
	}
}

// traceDetail is the API's full trace detail, as generic JSON.
// spanQualityMethod is the quality method of a one-span trace's span, "" when it has none.
func spanQualityMethod(t *testing.T, a *testApp, traceID string) string {
	t.Helper()
	d, _ := traceDetail(t, a, traceID)
	spans, _ := d["spans"].([]any)
	if len(spans) == 0 {
		return ""
	}
	g, _ := spans[0].(map[string]any)["genai"].(map[string]any)
	q, _ := g["quality"].(map[string]any)
	m, _ := q["method"].(string)
	return m
}

func traceDetail(t *testing.T, a *testApp, traceID string) (map[string]any, int) {
	t.Helper()
	var d map[string]any
	code := getJSON(t, a.url("api", "/api/v1/traces/"+traceID), &d)
	// Tier-1 quality is scored again by the target when it stores the span: the score is
	// compared, the time it was scored cannot be.
	spans, _ := d["spans"].([]any)
	for _, s := range spans {
		if g, ok := s.(map[string]any)["genai"].(map[string]any); ok {
			if q, ok := g["quality"].(map[string]any); ok {
				delete(q, "scored_at")
			}
		}
	}
	return d, code
}

// logList is the API's log listing, sorted by id.
func logList(t *testing.T, a *testApp, query string) []any {
	t.Helper()
	var out struct{ Logs []any }
	getJSON(t, a.url("api", "/api/v1/logs?"+query), &out)
	slices.SortFunc(out.Logs, func(x, y any) int {
		return strings.Compare(x.(map[string]any)["id"].(string), y.(map[string]any)["id"].(string))
	})
	return out.Logs
}

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// TestExportImportRoundTrip exports one Lumina's traces and logs, imports the file into a
// fresh Lumina over OTLP/HTTP, and compares everything the API serves: every trace detail
// (spans, ids, parents, times, attributes, resource, scope, events, links, status, GenAI
// fields, messages, tokens and cost), the trace listing, and the log records.
// Run between SQLite and PostgreSQL too, it is the documented way to move between them.
func TestExportImportRoundTrip(t *testing.T) {
	sqlite := func(t *testing.T) []string { return []string{"--data-dir", t.TempDir()} }
	postgres := func(t *testing.T) []string { return []string{"--database-url", pgSchema(t, "")} }
	tests := []struct {
		name     string
		src, dst func(t *testing.T) []string
	}{
		{"sqlite to sqlite", sqlite, sqlite},
		{"sqlite to postgres", sqlite, postgres},
		{"postgres to sqlite", postgres, sqlite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testRoundTrip(t, tt.src(t), tt.dst(t)) })
	}
}

func testRoundTrip(t *testing.T, srcStore, dstStore []string) {
	a := startTestApp(t, srcStore...)
	now := time.Now().Add(-time.Minute)
	agent, agentID, _ := agentTrace(now)
	simple, simpleID := llmTrace("gpt-4o-mini", 10, 5)
	plain, plainID := buildTraces("batch-job", 3)
	old, oldID := buildTraces("batch-job", 2) // three days old: an older partition on PostgreSQL
	shiftTraces(old, -72*time.Hour)
	// An LLM span whose messages arrive as GenAI log events.
	logged, loggedID := llmTrace("gpt-4o", 20, 3)
	lspan := logged.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	ld, orphanTrace := genaiLogs(lspan.TraceID(), lspan.SpanID(), now)
	for _, td := range []ptrace.Traces{agent, simple, plain, logged, old} {
		ingest(t, a, "/v1/traces", protoBody(t, td))
	}
	logBody, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, a, "/v1/logs", logBody)
	want := map[string]int{agentID: 4, simpleID: 1, plainID: 3, loggedID: 1, oldID: 2}
	for id, n := range want {
		a.waitTrace(id, n)
	}
	eventually(t, func() bool { return len(logList(t, a, "limit=1000")) == 4 })
	if g := a.waitTrace(loggedID, 1).Spans[0].GenAI; g == nil || len(g.OutputMessages) != 1 {
		t.Fatalf("source: got genai %+v, want the log events' messages joined to the span", g)
	}
	// The span is scored again once its log events are joined (after their commit): let
	// the source settle before it is the reference.
	eventually(t, func() bool { return spanQualityMethod(t, a, loggedID) != "tier1:no_content" })

	file := filepath.Join(t.TempDir(), "export.jsonl")
	_, stderr, err := runCLI(t, append([]string{"export", "--output", file, "--log-level", "warn"}, srcStore...)...)
	if err != nil {
		t.Fatalf("lumina export: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "exported 5 traces, 11 spans, 4 log records; 2 lines") {
		t.Errorf("export summary: got %q, want 5 traces, 11 spans, 4 log records in 2 lines", stderr)
	}
	signals := lineSignals(t, file)
	if !reflect.DeepEqual(signals, []string{"traces", "logs"}) {
		t.Errorf("export lines: got %v, want one traces line then one logs line", signals)
	}

	b := startTestApp(t, dstStore...)
	_, stderr, err = runCLI(t, "import", "--endpoint", "http://"+b.addr("otlp-http"), file)
	if err != nil {
		t.Fatalf("lumina import: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "imported 5 traces, 11 spans, 4 log records; 2 lines") || !strings.Contains(stderr, "0 failed lines") {
		t.Errorf("import summary: got %q, want 5 traces, 11 spans, 4 log records in 2 lines, none failed", stderr)
	}
	for id, n := range want {
		b.waitTrace(id, n)
		wantDetail, _ := traceDetail(t, a, id)
		// The target converges: its logs arrive after the spans, and the span they describe
		// is scored again after their commit.
		var path, g, w string
		for deadline, ok := time.Now().Add(15*time.Second), false; !ok; {
			got, _ := traceDetail(t, b, id)
			if path, g, w, ok = jsonDiff("trace", got, wantDetail); !ok && time.Now().After(deadline) {
				t.Errorf("trace %s after the round trip differs at %s: got %s, want %s", id, path, g, w)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, q := range []string{"limit=1000", "orphans=true"} {
		var got []any
		eventually(t, func() bool { got = logList(t, b, q); return len(got) == len(logList(t, a, q)) })
		if path, g, w, ok := jsonDiff("logs", got, logList(t, a, q)); !ok {
			t.Errorf("logs?%s after the round trip differ at %s: got %s, want %s", q, path, g, w)
		}
	}
	if orphans := logList(t, b, "orphans=true"); len(orphans) != 1 || orphans[0].(map[string]any)["trace_id"] != orphanTrace {
		t.Errorf("orphans after the round trip: got %v, want the record of trace %s", orphans, orphanTrace)
	}
	var la, lb struct{ Traces []any }
	getJSON(t, a.url("api", "/api/v1/traces?limit=100"), &la)
	getJSON(t, b.url("api", "/api/v1/traces?limit=100"), &lb)
	if path, g, w, ok := jsonDiff("traces", lb.Traces, la.Traces); !ok || len(la.Traces) != 5 {
		t.Errorf("trace listing after the round trip differs at %s: got %s, want %s (%d traces)", path, g, w, len(la.Traces))
	}

	// Importing the same file again changes nothing: writes are idempotent upserts.
	if _, stderr, err := runCLI(t, "import", "--endpoint", "http://"+b.addr("ingest")+"/v1/traces", "--format", "json", file); err != nil {
		t.Fatalf("second import (JSON): %v\n%s", err, stderr)
	}
	// The queue is consumed in order by one loop on SQLite: once a trace sent after the
	// second import is stored, so is the second copy.
	sentinel, sentinelID := buildTraces("sentinel", 1)
	ingest(t, b, "/v1/traces", protoBody(t, sentinel))
	b.waitTrace(sentinelID, 1)
	for id := range want {
		got, _ := traceDetail(t, b, id)
		wantDetail, _ := traceDetail(t, a, id)
		if path, g, w, ok := jsonDiff("trace", got, wantDetail); !ok {
			t.Errorf("trace %s after a second import differs at %s: got %s, want %s", id, path, g, w)
		}
	}
	if got := logList(t, b, "limit=1000"); len(got) != 4 {
		t.Errorf("logs after a second import: got %d, want 4 (records are keyed by content)", len(got))
	}
}

// lineSignals reads an export file and names each line's signal, checking each decodes.
func lineSignals(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case bytes.HasPrefix(line, []byte(`{"resourceSpans":`)):
			if err := ptraceotlp.NewExportRequest().UnmarshalJSON(line); err != nil {
				t.Fatalf("traces line: %v", err)
			}
			out = append(out, "traces")
		case bytes.HasPrefix(line, []byte(`{"resourceLogs":`)):
			if err := plogotlp.NewExportRequest().UnmarshalJSON(line); err != nil {
				t.Fatalf("logs line: %v", err)
			}
			out = append(out, "logs")
		default:
			t.Fatalf("line is neither OTLP traces nor logs: %.100s", line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// exportedTraceIDs reads the trace ids of an export file's traces lines.
func exportedTraceIDs(t *testing.T, data []byte) []string {
	t.Helper()
	var ids []string
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		if !bytes.HasPrefix(line, []byte(`{"resourceSpans":`)) {
			continue
		}
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalJSON(line); err != nil {
			t.Fatal(err)
		}
		rss := req.Traces().ResourceSpans()
		for i := 0; i < rss.Len(); i++ {
			spans := rss.At(i).ScopeSpans().At(0).Spans()
			for k := 0; k < spans.Len(); k++ {
				id := spans.At(k).TraceID()
				if h := hex.EncodeToString(id[:]); !slices.Contains(ids, h) {
					ids = append(ids, h)
				}
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// jsonDiff finds the first difference between two decoded JSON values.
func jsonDiff(path string, got, want any) (string, string, string, bool) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range keys {
				if !yield(k) {
					return
				}
			}
		}) {
			if p, gs, ws, ok := jsonDiff(path+"."+k, g[k], w[k]); !ok {
				return p, gs, ws, false
			}
		}
		return "", "", "", true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			break
		}
		for i := range w {
			if p, gs, ws, ok := jsonDiff(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); !ok {
				return p, gs, ws, false
			}
		}
		return "", "", "", true
	default:
		if reflect.DeepEqual(got, want) {
			return "", "", "", true
		}
	}
	gs, _ := json.Marshal(got)
	ws, _ := json.Marshal(want)
	return path, string(gs), string(ws), false
}

// TestExportImportProjects moves one project of an AUTH_REQUIRED Lumina into a project of
// another: --project selects what is exported, --api-key decides where it lands, and a
// missing key is a clear 401.
func TestExportImportProjects(t *testing.T) {
	dir := t.TempDir()
	src := startAuthApp(t, "--data-dir", dir)
	inA := src.ingestWith(src.keyA, "checkout")
	inB := src.ingestWith(src.keyB, "search")

	file := filepath.Join(t.TempDir(), "proj-b.jsonl")
	if _, stderr, err := runCLI(t, "export", "--data-dir", dir, "--project", "proj-b", "--output", file, "--log-level", "warn"); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := exportedTraceIDs(t, data); !reflect.DeepEqual(got, []string{inB}) {
		t.Fatalf("export --project proj-b: got traces %v, want only %s (not proj-a's %s)", got, inB, inA)
	}

	dst := startAuthApp(t)
	_, _, err = runCLI(t, "import", "--endpoint", dst.url("otlp-http", ""), file)
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized") || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("import without a key into AUTH_REQUIRED=true: got %v, want a 401 on line 1", err)
	}
	if _, stderr, err := runCLI(t, "import", "--endpoint", dst.url("otlp-http", ""), "--api-key", dst.keyA, file); err != nil {
		t.Fatalf("import with proj-a's key: %v\n%s", err, stderr)
	}
	eventually(t, func() bool {
		st, _ := do(t, nil, "GET", dst.url("api", "/api/v1/traces/"+inB), nil, bearer(dst.keyA))
		return st == http.StatusOK
	})
	if st, _ := do(t, nil, "GET", dst.url("api", "/api/v1/traces/"+inB), nil, bearer(dst.keyB)); st != http.StatusNotFound {
		t.Errorf("the imported trace read with another project's key: got %d, want 404", st)
	}
}
