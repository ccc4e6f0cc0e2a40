package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/use-lumina/lumina/internal/llm/llmtest"
)

const (
	replayOrigModel = "claude-sonnet-4-20250514"
	replayNewModel  = "claude-3-5-haiku-20241022"
	replaySystem    = "You are a calculator."
)

// chatTrace is one trace of service svc with one captured Anthropic chat call asking q.
func chatTrace(svc, q, answer string) (ptrace.Traces, string) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", svc)
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	tid := randomTraceID()
	s.SetTraceID(tid)
	s.SetSpanID(randomSpanID())
	s.SetName("chat " + replayOrigModel)
	s.SetKind(ptrace.SpanKindClient)
	now := time.Now()
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(2400 * time.Millisecond)))
	a := s.Attributes()
	a.PutStr("gen_ai.operation.name", "chat")
	a.PutStr("gen_ai.provider.name", "anthropic")
	a.PutStr("gen_ai.request.model", replayOrigModel)
	a.PutStr("gen_ai.response.model", replayOrigModel)
	a.PutDouble("gen_ai.request.temperature", 0.3)
	a.PutInt("gen_ai.request.max_tokens", 256)
	a.PutInt("gen_ai.usage.input_tokens", 100)
	a.PutInt("gen_ai.usage.output_tokens", 20)
	a.PutStr("gen_ai.system_instructions", `[{"type":"text","content":"`+replaySystem+`"}]`)
	a.PutStr("gen_ai.input.messages", `[{"role":"user","parts":[{"type":"text","content":"`+q+`"}]}]`)
	a.PutStr("gen_ai.output.messages", `[{"role":"assistant","parts":[{"type":"text","content":"`+answer+`"}],"finish_reason":"stop"}]`)
	return td, fmt.Sprintf("%x", tid[:])
}

// replayCall sends a JSON request and decodes the JSON answer into out, returning the status.
func replayCall(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, url, raw, err)
		}
	}
	return resp.StatusCode
}

type obj = map[string]any

// ingestChats sends one chat trace per question for svc and waits until they are stored.
func ingestChats(t *testing.T, a *testApp, svc string, qs ...string) {
	t.Helper()
	for _, q := range qs {
		td, id := chatTrace(svc, q, "The answer to "+q+" is simple: it is four.")
		if resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != 200 {
			t.Fatalf("ingest: %d %s", resp.StatusCode, body)
		}
		a.waitTrace(id, 1)
	}
}

// waitRun polls a run until its status is one of want.
func waitRun(t *testing.T, base, id string, want ...string) obj {
	t.Helper()
	var run obj
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		run = obj{}
		replayCall(t, "GET", base+"/api/v1/replay/runs/"+id, nil, &run)
		for _, w := range want {
			if run["status"] == w {
				return run
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("run %s: got %v, want status in %v", id, run, want)
	return nil
}

func createSet(t *testing.T, base string, req obj) obj {
	t.Helper()
	var set obj
	if code := replayCall(t, "POST", base+"/api/v1/replay/sets", req, &set); code != 200 {
		t.Fatalf("create set: %d %v", code, set)
	}
	return set
}

func startRun(t *testing.T, base, setID string, req obj) obj {
	t.Helper()
	var run obj
	if code := replayCall(t, "POST", base+"/api/v1/replay/sets/"+setID+"/runs", req, &run); code != 200 {
		t.Fatalf("start run: %d %v", code, run)
	}
	return run
}

func results(t *testing.T, base, runID string) (obj, []obj) {
	t.Helper()
	var out struct {
		Run        obj   `json:"run"`
		Results    []obj `json:"results"`
		Simulation bool  `json:"simulation"`
	}
	if code := replayCall(t, "GET", base+"/api/v1/replay/runs/"+runID+"/results", nil, &out); code != 200 {
		t.Fatalf("results: %d", code)
	}
	out.Run["top_simulation"] = out.Simulation
	return out.Run, out.Results
}

// anthropicTexts pulls the system prompt and the (role, text) messages of a recorded
// Messages API request.
func anthropicTexts(body map[string]any) (system string, msgs []string) {
	switch s := body["system"].(type) {
	case string:
		system = s
	case []any:
		for _, b := range s {
			system += b.(map[string]any)["text"].(string)
		}
	}
	for _, m := range body["messages"].([]any) {
		mm := m.(map[string]any)
		text := ""
		switch c := mm["content"].(type) {
		case string:
			text = c
		case []any:
			for _, b := range c {
				text += fmt.Sprint(b.(map[string]any)["text"])
			}
		}
		msgs = append(msgs, mm["role"].(string)+": "+text)
	}
	return system, msgs
}

func TestReplayEndToEnd(t *testing.T) {
	anth := llmtest.New(t,
		llmtest.AnthropicText(replayNewModel, "The answer is four.", 90, 10),
		llmtest.AnthropicError(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", "0"),
		llmtest.AnthropicText(replayNewModel, "It is four.", 90, 8),
	)
	a := startTestApp(t, "--replay-addr", "127.0.0.1:0", "--anthropic-api-key", "sk-ant-test", "--anthropic-base-url", anth.URL)
	base := a.url("replay", "")
	ingestChats(t, a, "checkout-bot", "what is 2+2", "what is 3+1")
	ingestChats(t, a, "other-service", "what is 1+1")

	set := createSet(t, base, obj{"name": "calc", "filter": obj{"service": "checkout-bot", "limit": 10}})
	if set["item_count"] != 2.0 || set["replayable_count"] != 2.0 {
		t.Fatalf("set from the filter: got %v, want 2 replayable items of checkout-bot", set)
	}
	setID := set["id"].(string)
	var listed struct{ Sets []obj }
	replayCall(t, "GET", base+"/api/v1/replay/sets", nil, &listed)
	if len(listed.Sets) != 1 || listed.Sets[0]["id"] != setID {
		t.Errorf("list sets: got %v, want the one set", listed.Sets)
	}

	overrides := obj{"model": replayNewModel, "system_prompt": "Be brief. {{original}}"}
	var est obj
	if code := replayCall(t, "POST", base+"/api/v1/replay/estimate", obj{"set_id": setID, "overrides": overrides}, &est); code != 200 {
		t.Fatalf("estimate: %d %v", code, est)
	}
	if est["replayable"] != 2.0 || est["estimated_cost_usd"] == nil || len(est["missing_keys"].([]any)) != 0 {
		t.Errorf("estimate: got %v, want 2 priced items and no missing key", est)
	}

	t.Run("MissingKeyRefused", func(t *testing.T) {
		var e struct {
			Error struct{ Code, Message string }
		}
		code := replayCall(t, "POST", base+"/api/v1/replay/sets/"+setID+"/runs", obj{"mode": "live", "overrides": obj{"provider": "openai", "model": "gpt-4o-mini"}}, &e)
		if code != 400 || e.Error.Code != "missing_api_key" || !strings.Contains(e.Error.Message, "OPENAI_API_KEY") {
			t.Errorf("got %d %+v, want 400 missing_api_key naming OPENAI_API_KEY", code, e)
		}
	})

	t.Run("BadRequests", func(t *testing.T) {
		for _, tt := range []struct {
			method, path string
			body         any
			status       int
			code         string
		}{
			{"POST", "/api/v1/replay/sets/" + setID + "/runs", obj{"mode": "fast"}, 400, "invalid_request"},
			{"POST", "/api/v1/replay/sets/" + setID + "/runs", obj{"mode": "live", "overrides": obj{"prompt_template": "no variable"}}, 400, "invalid_request"},
			{"POST", "/api/v1/replay/sets/" + setID + "/runs", obj{"mode": "live", "bogus": 1}, 400, "invalid_json"},
			{"POST", "/api/v1/replay/sets", obj{"name": "nothing"}, 400, "invalid_request"},
			{"POST", "/api/v1/replay/sets", obj{"filter": obj{"service": "nobody"}}, 400, "invalid_request"},
			{"POST", "/api/v1/replay/sets/set_missing/runs", obj{"mode": "simulation"}, 404, "not_found"},
			{"GET", "/api/v1/replay/runs/run_missing", nil, 404, "not_found"},
			{"GET", "/api/v1/replay/nowhere", nil, 404, "not_found"},
		} {
			var e struct {
				Error struct{ Code, Message string }
			}
			if code := replayCall(t, tt.method, base+tt.path, tt.body, &e); code != tt.status || e.Error.Code != tt.code {
				t.Errorf("%s %s %v: got %d %+v, want %d %s", tt.method, tt.path, tt.body, code, e.Error, tt.status, tt.code)
			}
		}
	})

	live := startRun(t, base, setID, obj{"mode": "live", "overrides": overrides})
	if live["simulation"] != false || live["mode"] != "live" {
		t.Errorf("live run: got %v, want mode live and simulation false", live)
	}
	done := waitRun(t, base, live["id"].(string), "completed", "failed")
	if done["status"] != "completed" {
		t.Fatalf("run: got %v, want completed", done)
	}
	progress := done["progress"].(obj)
	if progress["ok"] != 2.0 || progress["errors"] != 0.0 {
		t.Errorf("progress: got %v, want 2 ok (the 429 retried)", progress)
	}
	summary := done["summary"].(obj)
	if mc, _ := summary["model_changes"].([]any); len(mc) != 1 || mc[0] != replayOrigModel+" → "+replayNewModel {
		t.Errorf("summary model changes: got %v", summary["model_changes"])
	}
	if summary["semantic_method"] != "semantic:not_configured" || summary["avg_semantic_similarity"] != nil {
		t.Errorf("semantic without a key: got %v / %v, want not configured and no score", summary["semantic_method"], summary["avg_semantic_similarity"])
	}
	if c := summary["cost_usd"].(obj); c["original"] == nil || c["replay"] == nil || c["delta_pct"] == nil || c["delta_pct"].(float64) >= 0 {
		t.Errorf("summary cost: got %v, want both sides priced and the cheaper model cheaper", c)
	}

	// The provider received exactly the captured messages, with the overrides applied.
	reqs := anth.Requests()
	if len(reqs) != 3 {
		t.Fatalf("provider got %d requests, want 3 (two items, one 429 retried)", len(reqs))
	}
	seen := map[string]bool{}
	for _, r := range reqs {
		if auth := r.Header.Get("Authorization") + r.Header.Get("X-Api-Key"); r.Path != "/v1/messages" || !strings.Contains(auth, "sk-ant-test") {
			t.Errorf("request %s with credentials %q, want /v1/messages with the configured key", r.Path, auth)
		}
		system, msgs := anthropicTexts(r.Body)
		if r.Body["model"] != replayNewModel || system != "Be brief. "+replaySystem || r.Body["max_tokens"] != 256.0 {
			t.Errorf("request: model %v system %q max_tokens %v, want %s, the overridden system prompt and the captured 256", r.Body["model"], system, r.Body["max_tokens"], replayNewModel)
		}
		if len(msgs) != 1 || !strings.HasPrefix(msgs[0], "user: what is ") {
			t.Errorf("request messages: got %q, want the one captured user message", msgs)
		}
		seen[msgs[0]] = true
	}
	if !seen["user: what is 2+2"] || !seen["user: what is 3+1"] {
		t.Errorf("requests covered %v, want both captured questions", seen)
	}

	rv, res := results(t, base, live["id"].(string))
	if rv["top_simulation"] != false || len(res) != 2 {
		t.Fatalf("results: got %d, simulation %v", len(res), rv["top_simulation"])
	}
	attempts := 0.0
	for _, r := range res {
		attempts += r["attempts"].(float64)
		p := r["prompt"].(obj)
		if p["changed"] != true || p["replay_system"] != "Be brief. "+replaySystem || p["original_system"] != replaySystem {
			t.Errorf("prompt change: got %v", p)
		}
		if r["hash_similarity"] == nil || r["verdict"] == "" || len(r["response_diff"].([]any)) == 0 {
			t.Errorf("result metrics: got %v", r)
		}
		if lat := r["latency_ms"].(obj); lat["original"] != 2400.0 || lat["replay"] == nil {
			t.Errorf("latency: got %v, want original 2400 ms and a measured replay", lat)
		}
		if tok := r["input_tokens"].(obj); tok["original"] != 100.0 || tok["replay"] != 90.0 {
			t.Errorf("input tokens: got %v, want 100 → 90", tok)
		}
		// Hash similarity of these answers is far below the 50 % default: regressed, and said why.
		if r["verdict"] != "regressed" || !strings.Contains(fmt.Sprint(r["verdict_reasons"]), "hash similarity") {
			t.Errorf("verdict: got %v %v, want regressed on hash similarity", r["verdict"], r["verdict_reasons"])
		}
	}
	if attempts != 3 {
		t.Errorf("attempts: got %v in all, want 3 (one item retried after the 429)", attempts)
	}
	if summary["regressed"] != 2.0 {
		t.Errorf("summary regressed: got %v, want 2", summary["regressed"])
	}

	t.Run("Simulation", func(t *testing.T) {
		before := len(anth.Requests())
		var answers [2][]string
		for i := range answers {
			sim := startRun(t, base, setID, obj{"mode": "simulation", "seed": 42, "overrides": obj{"model": replayNewModel}})
			if sim["simulation"] != true || !strings.HasPrefix(fmt.Sprint(sim["notice"]), "SIMULATION") {
				t.Errorf("simulation run: got %v, want it labelled", sim)
			}
			got := waitRun(t, base, sim["id"].(string), "completed")
			if got["simulation"] != true || got["summary"].(obj)["simulation"] != true {
				t.Errorf("simulation run view: got %v, want it labelled", got)
			}
			rv, res := results(t, base, sim["id"].(string))
			if rv["top_simulation"] != true {
				t.Errorf("simulation results: not labelled at the top level")
			}
			for _, r := range res {
				if r["simulation"] != true || !strings.Contains(fmt.Sprint(r["replay_provider"]), "simulated") {
					t.Errorf("simulated result: got %v, want it labelled", r)
				}
				if m := r["semantic_similarity"].(obj)["method"]; m != "semantic:not_computed" {
					t.Errorf("simulated semantic method: got %v", m)
				}
				answers[i] = append(answers[i], fmt.Sprint(r["replay_response"], r["latency_ms"], r["output_tokens"]))
			}
		}
		if fmt.Sprint(answers[0]) != fmt.Sprint(answers[1]) || len(answers[0]) != 2 {
			t.Errorf("simulation with one seed: got %q then %q, want the same", answers[0], answers[1])
		}
		if n := len(anth.Requests()); n != before {
			t.Errorf("simulation called the provider: %d requests, want %d", n, before)
		}
	})

	t.Run("OpenAICompatibleAnd500", func(t *testing.T) {
		oai := llmtest.New(t, llmtest.OpenAIText("llama3", "The answer is four.", 50, 6),
			llmtest.OpenAIError(500, "server_error", "The server had an error while processing your request.", ""))
		r := startRun(t, base, setID, obj{"mode": "live", "overrides": obj{"provider": "openai_compatible", "base_url": oai.URL + "/v1", "model": "llama3", "temperature": 0}})
		got := waitRun(t, base, r["id"].(string), "completed", "failed")
		p := got["progress"].(obj)
		if got["status"] != "completed" || p["ok"] != 1.0 || p["errors"] != 1.0 {
			t.Fatalf("run with a failing provider: got %v %v, want completed with 1 ok and 1 error", got["status"], p)
		}
		_, res := results(t, base, r["id"].(string))
		var errs int
		for _, x := range res {
			if x["status"] == "error" {
				errs++
				if !strings.Contains(fmt.Sprint(x["error"]), "500") {
					t.Errorf("error result: got %v, want the 500 named", x["error"])
				}
			}
		}
		if errs != 1 {
			t.Errorf("got %d error results, want 1", errs)
		}
		for _, q := range oai.Requests() {
			msgs := q.Body["messages"].([]any)
			first, second := msgs[0].(map[string]any), msgs[1].(map[string]any)
			if q.Path != "/v1/chat/completions" || q.Body["model"] != "llama3" || q.Body["temperature"] != 0.0 || len(msgs) != 2 ||
				first["role"] != "system" || first["content"] != replaySystem || second["role"] != "user" {
				t.Errorf("chat completions request %s: %s", q.Path, q.Raw)
			}
		}
	})

	t.Run("Cancel", func(t *testing.T) {
		slow := llmtest.New(t, llmtest.Reply{Delay: time.Minute, Body: "{}"})
		r := startRun(t, base, setID, obj{"mode": "live", "overrides": obj{"provider": "openai_compatible", "base_url": slow.URL + "/v1", "model": "llama3"}})
		waitRun(t, base, r["id"].(string), "running")
		var c obj
		if code := replayCall(t, "POST", base+"/api/v1/replay/runs/"+r["id"].(string)+"/cancel", nil, &c); code != 200 || c["status"] != "canceled" {
			t.Fatalf("cancel: %d %v", code, c)
		}
		got := waitRun(t, base, r["id"].(string), "canceled")
		if got["finished_at"] == nil || got["progress"].(obj)["done"] != 0.0 {
			t.Errorf("canceled run: got %v, want a finish time and no result for the items cut short", got)
		}
	})

	t.Run("CLI", func(t *testing.T) {
		cli := func(args ...string) (string, error) {
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"replay"}, args...), func(string) string { return "" }, &out, io.Discard)
			return out.String(), err
		}
		out, err := cli("sets", "create", "--url", base, "--name", "from cli", "--service", "checkout-bot")
		if err != nil || !strings.Contains(out, "2 calls, 2 replayable") {
			t.Errorf("sets create: got %q, %v", out, err)
		}
		if out, err := cli("sets", "list", "--url", base); err != nil || !strings.Contains(out, setID) || !strings.Contains(out, "from cli") {
			t.Errorf("sets list: got %q, %v", out, err)
		}
		out, err = cli("run", setID, "--url", base, "--model", replayNewModel, "--simulate", "--seed", "3", "--fail-on-regression", "--min-hash", "99.9")
		if exitCode(err) != 3 {
			t.Errorf("run --fail-on-regression with a regression: got exit %d (%v), want 3", exitCode(err), err)
		}
		for _, want := range []string{"SIMULATION", "Cost: ", "Latency: ", "Semantic similarity: none (semantic:not_computed)",
			"Model changed: " + replayOrigModel + " → " + replayNewModel} {
			if !strings.Contains(out, want) {
				t.Errorf("run output lacks %q:\n%s", want, out)
			}
		}
		// The simulated answers depend on the items' (random) ids, so an item whose answer
		// comes back unchanged can count as improved; at least one must regress.
		if strings.Contains(out, " 0 regressed") || !strings.Contains(out, " regressed") {
			t.Errorf("run output reports no regression under --min-hash 99.9:\n%s", out)
		}
		out, err = cli("run", setID, "--url", base, "--model", replayNewModel, "--simulate", "--seed", "3", "--fail-on-regression", "--min-hash", "1")
		if err != nil || !strings.Contains(out, "0 regressed") {
			t.Errorf("run without regressions: got %v\n%s", err, out)
		}
	})

	t.Run("DeleteSet", func(t *testing.T) {
		var e obj
		if code := replayCall(t, "DELETE", base+"/api/v1/replay/sets/"+setID, nil, &e); code != 200 {
			t.Fatalf("delete: %d %v", code, e)
		}
		if code := replayCall(t, "GET", base+"/api/v1/replay/runs/"+live["id"].(string), nil, &e); code != 404 {
			t.Errorf("run of a deleted set: got %d, want 404", code)
		}
	})
}

// gatedOpenAI answers Chat Completions requests, holding back those whose user message
// contains hold until release is called.
type gatedOpenAI struct {
	*httptest.Server
	hold    string
	mu      sync.Mutex
	gate    chan struct{}
	prompts []string
}

func newGatedOpenAI(t *testing.T, hold string) *gatedOpenAI {
	g := &gatedOpenAI{hold: hold, gate: make(chan struct{})}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		g.prompts = append(g.prompts, string(raw))
		gate := g.gate
		g.mu.Unlock()
		if strings.Contains(string(raw), hold) {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, llmtest.OpenAIText("llama3", "It is four.", 40, 4).Body)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *gatedOpenAI) release() {
	g.mu.Lock()
	close(g.gate)
	g.mu.Unlock()
}

func (g *gatedOpenAI) count(substr string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, p := range g.prompts {
		if strings.Contains(p, substr) {
			n++
		}
	}
	return n
}

// startReplayApp starts Lumina on dir without a cleanup, for tests that restart it.
func startReplayApp(t *testing.T, dir string) *testApp {
	t.Helper()
	cfg, err := parseConfig("serve", []string{
		"--data-dir", dir, "--ingest-addr", "127.0.0.1:0", "--otlp-http-addr", "off", "--otlp-grpc-addr", "off",
		"--api-addr", "127.0.0.1:0", "--worker-addr", "off", "--replay-addr", "127.0.0.1:0", "--web-addr", "off",
		"--worker-linger", "5ms",
	}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := start(context.Background(), cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	return &testApp{app: a, t: t}
}

func TestReplayResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	srv := newGatedOpenAI(t, "3+1")
	a := startReplayApp(t, dir)
	ingestChats(t, a, "checkout-bot", "what is 2+2", "what is 3+1")
	base := a.url("replay", "")
	set := createSet(t, base, obj{"filter": obj{"service": "checkout-bot"}})
	r := startRun(t, base, set["id"].(string), obj{"mode": "live", "overrides": obj{"provider": "openai_compatible", "base_url": srv.URL + "/v1", "model": "llama3"}})
	runID := r["id"].(string)
	// One item finishes; the other hangs at the provider when the process stops.
	eventually(t, func() bool {
		var v obj
		replayCall(t, "GET", base+"/api/v1/replay/runs/"+runID, nil, &v)
		p, _ := v["progress"].(obj)
		return p != nil && p["done"] == 1.0 && srv.count("3+1") == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	srv.release()

	b := startReplayApp(t, dir)
	t.Cleanup(func() {
		if err := b.shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	got := waitRun(t, b.url("replay", ""), runID, "completed", "failed")
	p := got["progress"].(obj)
	if got["status"] != "completed" || p["ok"] != 2.0 || got["resumed"] != 1.0 {
		t.Fatalf("resumed run: got %v %v resumed %v, want completed with 2 ok, resumed once", got["status"], p, got["resumed"])
	}
	if n := srv.count("2+2"); n != 1 {
		t.Errorf("the finished item was sent %d times, want once (its result survived the restart)", n)
	}
	if n := srv.count("3+1"); n != 2 {
		t.Errorf("the interrupted item was sent %d times, want twice (before and after the restart)", n)
	}
}

func TestReplaySemanticEmbeddings(t *testing.T) {
	anth := llmtest.New(t, llmtest.AnthropicText(replayNewModel, "Four.", 90, 2))
	emb := llmtest.New(t, llmtest.OpenAIEmbeddings("text-embedding-3-small", []float64{1, 0}, []float64{0.8, 0.6}))
	a := startTestApp(t, "--replay-addr", "127.0.0.1:0", "--anthropic-api-key", "sk-ant-test", "--anthropic-base-url", anth.URL,
		"--openai-api-key", "sk-test", "--openai-base-url", emb.URL+"/v1")
	base := a.url("replay", "")
	ingestChats(t, a, "semantic-bot", "what is 2+2")
	set := createSet(t, base, obj{"filter": obj{"service": "semantic-bot"}})
	live := startRun(t, base, set["id"].(string), obj{"mode": "live", "overrides": obj{"model": replayNewModel},
		"thresholds": obj{"min_semantic_similarity": 90}})
	done := waitRun(t, base, live["id"].(string), "completed")
	s := done["summary"].(obj)
	if s["semantic_method"] != "semantic:embeddings" || s["avg_semantic_similarity"] == nil || !nearPct(s["avg_semantic_similarity"].(float64), 80) {
		t.Fatalf("summary: got method %v score %v, want embeddings scoring 80 %%", s["semantic_method"], s["avg_semantic_similarity"])
	}
	_, res := results(t, base, live["id"].(string))
	if len(res) != 1 || res[0]["verdict"] != "regressed" || !strings.Contains(fmt.Sprint(res[0]["verdict_reasons"]), "semantic similarity 80.0% < 90%") {
		t.Errorf("verdict: got %v %v, want regressed on the semantic threshold", res[0]["verdict"], res[0]["verdict_reasons"])
	}
	reqs := emb.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/v1/embeddings" || fmt.Sprint(reqs[0].Body["input"]) != fmt.Sprint([]any{"The answer to what is 2+2 is simple: it is four.", "Four."}) {
		t.Errorf("embeddings requests: got %+v", reqs)
	}
}

func nearPct(got, want float64) bool { return got > want-0.001 && got < want+0.001 }
