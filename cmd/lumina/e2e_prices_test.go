package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// llmTrace is one chat span with usage for the given model.
func llmTrace(model string, in, out int64) (ptrace.Traces, string) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "pricing")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	tid := randomTraceID()
	s.SetTraceID(tid)
	s.SetSpanID(randomSpanID())
	s.SetName("chat " + model)
	s.SetKind(ptrace.SpanKindClient)
	now := time.Now()
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Second)))
	s.Attributes().PutStr("gen_ai.operation.name", "chat")
	s.Attributes().PutStr("gen_ai.provider.name", "openai")
	s.Attributes().PutStr("gen_ai.request.model", model)
	s.Attributes().PutInt("gen_ai.usage.input_tokens", in)
	s.Attributes().PutInt("gen_ai.usage.output_tokens", out)
	return td, hex.EncodeToString(tid[:])
}

func TestCustomPricesAndUnpricedModels(t *testing.T) {
	a := startTestApp(t)
	send := func(model string) apiTrace {
		td, id := llmTrace(model, 1_000_000, 500_000)
		if resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != 200 {
			t.Fatalf("got %d %s", resp.StatusCode, body)
		}
		return a.waitTrace(id, 1)
	}
	// Unknown model: unpriced, null cost, counted in the unpriced list.
	tr := send("acme-ft-7")
	if g := tr.Spans[0].GenAI; g.CostSource != "unpriced" || g.CostUSD != nil || tr.CostUSD != nil {
		t.Fatalf("got cost %v (%s), trace %v; want unpriced with null costs", deref(g.CostUSD), g.CostSource, deref(tr.CostUSD))
	}
	var unpriced struct {
		Models []struct {
			Model string `json:"model"`
			Calls int64  `json:"calls"`
		} `json:"models"`
	}
	getJSON(t, a.url("api", "/api/v1/models/unpriced"), &unpriced)
	if len(unpriced.Models) != 1 || unpriced.Models[0].Model != "acme-ft-7" || unpriced.Models[0].Calls != 1 {
		t.Errorf("got unpriced %+v, want acme-ft-7 once", unpriced.Models)
	}

	price := `{"provider":"openai","model":"acme-ft-","match_type":"prefix","input_per_mtok":2,"output_per_mtok":8}`
	resp, err := http.Post(a.url("api", "/api/v1/prices"), "application/json", bytes.NewReader([]byte(price)))
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID string `json:"id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != 200 || created.ID == "" {
		t.Fatalf("POST /api/v1/prices: got %d %+v", resp.StatusCode, created)
	}
	var res struct {
		Found  bool `json:"found"`
		Custom bool `json:"custom"`
	}
	getJSON(t, a.url("api", "/api/v1/prices/resolve?provider=openai&model=acme-ft-7"), &res)
	if !res.Found || !res.Custom {
		t.Errorf("got resolution %+v, want the custom price", res)
	}
	// 1M input at $2 + 0.5M output at $8 = $6.
	tr = send("acme-ft-7")
	if g := tr.Spans[0].GenAI; g.CostSource != "computed" || !near(g.CostUSD, 6) || !near(tr.CostUSD, 6) {
		t.Errorf("got cost %v (%s), want 6 computed from the custom price", deref(g.CostUSD), g.CostSource)
	}
	// A built-in model is priced from the table: gpt-4o-mini at $0.15/$0.60.
	if g := send("gpt-4o-mini").Spans[0].GenAI; !near(g.CostUSD, 0.45) {
		t.Errorf("got gpt-4o-mini cost %v, want 0.45", deref(g.CostUSD))
	}

	bad := []struct{ body, code string }{
		{`{"model":"","input_per_mtok":1}`, "invalid_price"},
		{`{"model":"x","input_per_mtok":-1}`, "invalid_price"},
		{`{"model":"(","match_type":"regex"}`, "invalid_price"},
		{`{"model":"x","unknown_field":1}`, "invalid_body"},
		{`not json`, "invalid_body"},
	}
	for _, b := range bad {
		resp, err := http.Post(a.url("api", "/api/v1/prices"), "application/json", bytes.NewReader([]byte(b.body)))
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Error struct{ Code string } }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 400 || e.Error.Code != b.code {
			t.Errorf("POST %s: got %d %q, want 400 %q", b.body, resp.StatusCode, e.Error.Code, b.code)
		}
	}

	req, _ := http.NewRequest(http.MethodDelete, a.url("api", "/api/v1/prices/"+created.ID), nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("DELETE: got %v %v", resp, err)
	}
	req, _ = http.NewRequest(http.MethodDelete, a.url("api", "/api/v1/prices/"+created.ID), nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 404 {
		t.Errorf("second DELETE: got %v %v, want 404", resp.StatusCode, err)
	}
}
