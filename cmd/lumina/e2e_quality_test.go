package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// TestTier1QualityIsStored sends the same prompt twice, answered the same way, then a refusal:
// the first call has no reference (no invented score), the second matches it exactly, and the
// refusal scores low, all stored with the span and served by the trace API.
func TestTier1QualityIsStored(t *testing.T) {
	a := startTestApp(t)
	send := func(answer string) map[string]any {
		td, id := llmTrace("gpt-4o-mini", 20, 10)
		attrs := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
		attrs.PutStr("gen_ai.input.messages", `[{"role":"user","parts":[{"type":"text","content":"What is the capital of France?"}]}]`)
		attrs.PutStr("gen_ai.output.messages", `[{"role":"assistant","parts":[{"type":"text","content":"`+answer+`"}],"finish_reason":"stop"}]`)
		if resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != 200 {
			t.Fatalf("got %d %s", resp.StatusCode, body)
		}
		a.waitTrace(id, 1)
		resp, err := http.Get(a.url("api", "/api/v1/traces/"+id))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var tr struct {
			Spans []struct {
				GenAI struct {
					Quality map[string]any `json:"quality"`
				} `json:"genai"`
			} `json:"spans"`
		}
		if err := json.Unmarshal(raw, &tr); err != nil {
			t.Fatal(err)
		}
		if tr.Spans[0].GenAI.Quality == nil {
			t.Fatalf("no quality on the span: %s", raw)
		}
		return tr.Spans[0].GenAI.Quality
	}
	first := send("The capital of France is Paris.")
	if first["method"] != "tier1:first_sample" || first["score"] != nil {
		t.Errorf("first call: got %v, want tier1:first_sample with no score", first)
	}
	second := send("The capital of France is Paris.")
	if second["score"] != 1.0 {
		t.Errorf("identical answer: got %v, want score 1", second)
	}
	refusal := send("I'm sorry, but I can't help with that.")
	if s, ok := refusal["score"].(float64); !ok || s >= 0.5 {
		t.Errorf("refusal: got %v, want a low score", refusal)
	}
}
