package main

import (
	"encoding/hex"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

const fixtureDir = "../../internal/genai/testdata/fixtures"

// fixtureTraces reads a fixture's trace ids and span counts.
func fixtureTraces(t *testing.T, name string) (body []byte, contentType string, spans map[string]int) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	req := ptraceotlp.NewExportRequest()
	contentType = "application/x-protobuf"
	if strings.HasSuffix(name, ".json") {
		contentType = "application/json"
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	spans = map[string]int{}
	rss := req.Traces().ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j).Spans()
			for k := 0; k < ss.Len(); k++ {
				id := ss.At(k).TraceID()
				spans[hex.EncodeToString(id[:])]++
			}
		}
	}
	return body, contentType, spans
}

func near(got *float64, want float64) bool {
	return got != nil && math.Abs(*got-want) < 1e-12
}

// TestFixturesEndToEnd posts the OTLP payloads captured from real client SDKs (their README
// gives the expected numbers) and reads them back through the API.
func TestFixturesEndToEnd(t *testing.T) {
	a := startTestApp(t)
	// The logs go first and are waited for: their messages are joined to the spans when a
	// trace is read, so the spans must not be checked before the logs are stored.
	logs, err := os.ReadFile(filepath.Join(fixtureDir, "otel-genai-openai.logs.pb"))
	if err != nil {
		t.Fatal(err)
	}
	if resp, out := post(t, a.url("otlp-http", "/v1/logs"), "application/x-protobuf", "", logs); resp.StatusCode != http.StatusOK {
		t.Fatalf("logs: got %d %s", resp.StatusCode, out)
	}
	eventually(t, func() bool {
		var got struct{ Logs []any }
		getJSON(t, a.url("api", "/api/v1/logs?limit=1000"), &got)
		return len(got.Logs) > 0
	})
	traces := map[string]int{}
	for _, name := range []string{"otel-genai-openai.traces.pb", "openllmetry-openai.traces.pb", "openllmetry-anthropic.traces.pb", "openllmetry-workflow.traces.pb", "openinference-openai.traces.json"} {
		body, ct, spans := fixtureTraces(t, name)
		resp, out := post(t, a.url("ingest", "/v1/traces"), ct, "", body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: got %d %s", name, resp.StatusCode, out)
		}
		for id, n := range spans {
			traces[id] += n
		}
	}
	type want struct {
		model              string
		input, output, cr  int64
		cost               float64
		hasInput, hasReply bool
	}
	seen := map[string]int{}
	for id, n := range traces {
		tr := a.waitTrace(id, n)
		for _, s := range tr.Spans {
			g := s.GenAI
			if g == nil || (g.Type != "llm" && g.Type != "embedding") {
				continue
			}
			var w want
			switch {
			case strings.HasPrefix(g.RequestModel, "gpt-4o-mini"):
				w = want{"gpt-4o-mini", 11, 7, 0, 0.00000585, true, true}
			case strings.HasPrefix(g.RequestModel, "text-embedding-3-small"):
				w = want{"text-embedding-3-small", 5, 0, 0, 0.0000001, false, false}
			case strings.HasPrefix(g.RequestModel, "gpt-4o"):
				w = want{"gpt-4o", 120, 30, 0, 0.0006, true, true}
			case strings.HasPrefix(g.RequestModel, "claude-haiku-4-5"):
				w = want{"claude-haiku-4-5", 60, 20, 10, 0.000151, true, true}
			case strings.Contains(g.RequestModel+g.ResponseModel, "gpt-4.1-mini"):
				w = want{"gpt-4.1-mini", 200, 50, 0, 0.00016, true, true}
			default:
				t.Errorf("unexpected model call %q/%q in the fixtures", g.RequestModel, g.ResponseModel)
				continue
			}
			seen[w.model]++
			if g.InputTokens != w.input || g.OutputTokens != w.output || g.CacheRead != w.cr {
				t.Errorf("%s: got tokens in %d out %d cache read %d, want %d %d %d", w.model, g.InputTokens, g.OutputTokens, g.CacheRead, w.input, w.output, w.cr)
			}
			if !near(g.CostUSD, w.cost) || g.CostSource != "computed" {
				t.Errorf("%s: got cost %v (%s), want %.10f computed", w.model, deref(g.CostUSD), g.CostSource, w.cost)
			}
			if w.hasInput && len(g.InputMessages) == 0 {
				t.Errorf("%s: no input messages", w.model)
			}
			if w.hasReply && (len(g.OutputMessages) == 0 || g.OutputMessages[0].Content == "") {
				t.Errorf("%s: no assistant reply", w.model)
			}
		}
		if tr.Name == "answer_question.workflow" {
			if tr.SpanCount != 3 || tr.LLMCallCount != 2 || !near(tr.CostUSD, 0.000751) {
				t.Errorf("workflow trace: got %d spans, %d LLM calls, cost %v; want 3, 2, 0.000751", tr.SpanCount, tr.LLMCallCount, deref(tr.CostUSD))
			}
		}
	}
	// Two chats and an embedding from the OTel fixture, one call each from the others.
	wantSeen := map[string]int{"gpt-4o-mini": 2, "text-embedding-3-small": 1, "gpt-4o": 1, "claude-haiku-4-5": 1, "gpt-4.1-mini": 1}
	for m, n := range wantSeen {
		if seen[m] != n {
			t.Errorf("got %d %s calls, want %d (all seen: %v)", seen[m], m, n, seen)
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
