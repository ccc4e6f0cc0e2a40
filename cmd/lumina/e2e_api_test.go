package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type apiList struct {
	Traces []struct {
		TraceID     string  `json:"trace_id"`
		ServiceName string  `json:"service_name"`
		SpanCount   int     `json:"span_count"`
		DurationMS  float64 `json:"duration_ms"`
	} `json:"traces"`
	NextCursor string `json:"next_cursor"`
}

func getJSON(t *testing.T, rawURL string, into any) int {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("got Content-Type %q, want application/json", ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("decode %s: %v", rawURL, err)
	}
	return resp.StatusCode
}

// TestTraceAPI lists traces through the HTTP API with filters and keyset pagination, and
// checks the JSON errors.
func TestTraceAPI(t *testing.T) {
	a := startTestApp(t)
	ids := map[string]bool{}
	for i := 0; i < 7; i++ {
		svc := "list-a"
		if i%2 == 1 {
			svc = "list-b"
		}
		td, id := buildTraces(svc, 2)
		if resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != 200 {
			t.Fatalf("got %d %s", resp.StatusCode, body)
		}
		ids[id] = true
		a.waitTrace(id, 2)
	}
	// Page through everything, three at a time.
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		var page apiList
		q := url.Values{"limit": {"3"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if code := getJSON(t, a.url("api", "/api/v1/traces?"+q.Encode()), &page); code != 200 {
			t.Fatalf("got %d", code)
		}
		pages++
		for _, tr := range page.Traces {
			if seen[tr.TraceID] {
				t.Fatalf("trace %s on two pages", tr.TraceID)
			}
			seen[tr.TraceID] = true
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if len(seen) != 7 || pages != 3 {
		t.Errorf("got %d traces on %d pages, want 7 on 3", len(seen), pages)
	}
	var onlyB apiList
	getJSON(t, a.url("api", "/api/v1/traces?service=list-b"), &onlyB)
	if len(onlyB.Traces) != 3 {
		t.Errorf("got %d traces of list-b, want 3", len(onlyB.Traces))
	}
	for _, tr := range onlyB.Traces {
		if tr.ServiceName != "list-b" || !ids[tr.TraceID] {
			t.Errorf("got %+v in the list-b filter", tr)
		}
	}

	errs := []struct {
		path, code string
		status     int
	}{
		{"/api/v1/traces/0123456789abcdef0123456789abcdef", "not_found", 404},
		{"/api/v1/traces/not-hex", "invalid_trace_id", 400},
		{"/api/v1/traces?limit=0", "invalid_parameter", 400},
		{"/api/v1/traces?status=maybe", "invalid_parameter", 400},
		{"/api/v1/traces?since=yesterday", "invalid_parameter", 400},
		{"/api/v1/traces?cursor=garbage", "invalid_cursor", 400},
		{"/api/v1/traces?q=" + strings.Repeat("x", 257), "invalid_parameter", 400},
		{"/api/v1/nothing-here", "not_found", 404},
	}
	for _, e := range errs {
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if status := getJSON(t, a.url("api", e.path), &body); status != e.status || body.Error.Code != e.code || body.Error.Message == "" {
			t.Errorf("GET %s: got %d %+v, want %d with code %s and a message", e.path, status, body.Error, e.status, e.code)
		}
	}
}

// TestTraceSearchAPI finds traces by the words of their prompts and responses, sent as
// OTLP span attributes, through GET /api/v1/traces?q=.
func TestTraceSearchAPI(t *testing.T) {
	a := startTestApp(t)
	send := func(prompt, answer string) string {
		td, id := llmTrace("gpt-4o-mini", 20, 10)
		attrs := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
		attrs.PutStr("gen_ai.input.messages", `[{"role":"user","parts":[{"type":"text","content":"`+prompt+`"}]}]`)
		attrs.PutStr("gen_ai.output.messages", `[{"role":"assistant","parts":[{"type":"text","content":"`+answer+`"}]}]`)
		if resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != 200 {
			t.Fatalf("got %d %s", resp.StatusCode, body)
		}
		a.waitTrace(id, 1)
		return id
	}
	refund := send("Where is my refund?", "It was issued on Monday.")
	weather := send("Weather in Paris?", "Sunny, 21 degrees.")
	tests := []struct {
		q    string
		want []string
	}{
		{"REFUND", []string{refund}},
		{"sunny paris", []string{weather}},
		{`"issued on monday"`, []string{refund}},
		{"refund paris", nil},
		{`NEAR("x") OR * -- '; DROP TABLE traces`, nil},
		{"", []string{weather, refund}},
	}
	for _, tt := range tests {
		var page apiList
		if code := getJSON(t, a.url("api", "/api/v1/traces?"+url.Values{"q": {tt.q}}.Encode()), &page); code != 200 {
			t.Fatalf("q=%q: got %d", tt.q, code)
		}
		var got []string
		for _, tr := range page.Traces {
			got = append(got, tr.TraceID)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("q=%q: got %v, want %v", tt.q, got, tt.want)
		}
	}
}

// TestTraceAttributeFilterAPI filters traces by OTLP span attributes of each type, and by
// the other per-trace filters, through GET /api/v1/traces.
func TestTraceAttributeFilterAPI(t *testing.T) {
	a := startTestApp(t)
	send := func(tier string, retries int64, cached bool) string {
		td, id := llmTrace("gpt-4o-mini", 20, 10)
		attrs := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
		attrs.PutStr("customer.tier", tier)
		attrs.PutInt("app.retries", retries)
		attrs.PutBool("app.cached", cached)
		if resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != 200 {
			t.Fatalf("got %d %s", resp.StatusCode, body)
		}
		a.waitTrace(id, 1)
		return id
	}
	gold := send("gold", 3, true)
	silver := send("silver", 0, false)
	for _, tt := range []struct {
		query url.Values
		want  []string
	}{
		{url.Values{"attr": {"customer.tier=gold"}}, []string{gold}},
		{url.Values{"attr": {"app.retries=3"}}, []string{gold}},
		{url.Values{"attr": {"app.cached=false"}}, []string{silver}},
		{url.Values{"attr": {"customer.tier=gold", "app.cached=false"}}, nil},
		{url.Values{"attr": {"customer.tier=' OR 1=1 --"}}, nil},
		{url.Values{"provider": {"openai"}, "max_cost_usd": {"1"}}, []string{silver, gold}},
		{url.Values{"provider": {"anthropic"}}, nil},
	} {
		var page apiList
		if code := getJSON(t, a.url("api", "/api/v1/traces?"+tt.query.Encode()), &page); code != 200 {
			t.Fatalf("%s: got %d", tt.query.Encode(), code)
		}
		var got []string
		for _, tr := range page.Traces {
			got = append(got, tr.TraceID)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: got %v, want %v", tt.query.Encode(), got, tt.want)
		}
	}
}

// TestHealthReadyMetrics checks the endpoints every listener serves.
func TestHealthReadyMetrics(t *testing.T) {
	a := startTestApp(t)
	td, id := buildTraces("metrics", 1)
	post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td))
	a.waitTrace(id, 1)
	for _, l := range []string{"ingest", "otlp-http", "api"} {
		var ready struct {
			Ready  bool              `json:"ready"`
			Checks map[string]string `json:"checks"`
		}
		if code := getJSON(t, a.url(l, "/ready"), &ready); code != 200 || !ready.Ready {
			t.Errorf("%s /ready: got %d %+v", l, code, ready)
		}
		var health map[string]string
		if code := getJSON(t, a.url(l, "/health"), &health); code != 200 || health["status"] != "ok" {
			t.Errorf("%s /health: got %d %v", l, code, health)
		}
	}
	resp, err := http.Get(a.url("api", "/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("got %d from /metrics", resp.StatusCode)
	}
	for _, name := range []string{"lumina_queue_messages", "lumina_queue_pending", "lumina_ingest_request_duration_seconds", "lumina_worker_batch_duration_seconds", "lumina_worker_spans_stored_total", "lumina_ingest_items_received_total", "lumina_search_index_backlog", "go_goroutines"} {
		if !strings.Contains(string(body), name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}
