package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/alert"
)

// signedHook is a webhook receiver that checks every request's signature and hands the
// verified payloads to the test.
type signedHook struct {
	*httptest.Server
	payloads chan alert.WebhookPayload
	bad      chan string
}

func newSignedHook(t *testing.T, secret string) *signedHook {
	h := &signedHook{payloads: make(chan alert.WebhookPayload, 16), bad: make(chan string, 16)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := alert.VerifySignature(secret, r.Header.Get(alert.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
			h.bad <- err.Error()
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var p alert.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			h.bad <- err.Error()
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.payloads <- p
	}))
	t.Cleanup(h.Close)
	return h
}

// next waits for the next verified payload of the given event.
func (h *signedHook) next(t *testing.T, event string) alert.WebhookPayload {
	t.Helper()
	deadline := time.After(45 * time.Second)
	for {
		select {
		case p := <-h.payloads:
			if p.Event == event {
				return p
			}
		case msg := <-h.bad:
			t.Fatalf("webhook request failed verification: %s", msg)
		case <-deadline:
			t.Fatalf("no %s webhook arrived", event)
		}
	}
}

// apiDo sends a JSON request to the API and decodes the answer into out.
func apiDo(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
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
			t.Fatalf("%s %s: %v: %s", method, url, err, raw)
		}
	}
	return resp.StatusCode
}

type apiAlert struct {
	ID          string  `json:"id"`
	Type        string  `json:"type"`
	Status      string  `json:"status"`
	TraceID     string  `json:"trace_id"`
	SpanID      string  `json:"span_id"`
	Observed    float64 `json:"observed"`
	Baseline    float64 `json:"baseline"`
	Explanation string  `json:"explanation"`
	ResolvedBy  string  `json:"resolved_by"`
	AckedAt     *string `json:"acknowledged_at"`
	Deliveries  []struct {
		Event    string `json:"event"`
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	} `json:"deliveries"`
}

// TestAlertEndToEnd establishes a baseline with normal calls, sends one expensive call and
// follows its alert through a signed webhook, the API, acknowledgement and resolution, on
// the embedded store.
func TestAlertEndToEnd(t *testing.T) { alertEndToEnd(t, startTestApp(t)) }

// TestAlertEndToEndPostgres is TestAlertEndToEnd on PostgreSQL (four worker loops).
func TestAlertEndToEndPostgres(t *testing.T) {
	alertEndToEnd(t, startTestApp(t, "--database-url", pgSchema(t, "")))
}

func alertEndToEnd(t *testing.T, a *testApp) {
	const secret = "whsec_e2e"
	hook := newSignedHook(t, secret)
	var ch struct {
		ID        string `json:"id"`
		SecretSet bool   `json:"secret_set"`
	}
	if code := apiDo(t, "POST", a.url("api", "/api/v1/channels"), `{"type":"webhook","url":"`+hook.URL+`","secret":"`+secret+`"}`, &ch); code != 200 || !ch.SecretSet {
		t.Fatalf("POST /api/v1/channels: got %d %+v", code, ch)
	}
	var test struct {
		Delivered bool `json:"delivered"`
		Status    int  `json:"status"`
	}
	if apiDo(t, "POST", a.url("api", "/api/v1/channels/"+ch.ID+"/test"), "", &test); !test.Delivered || test.Status != 200 {
		t.Fatalf("channel test: got %+v, want delivered", test)
	}
	hook.next(t, "test")

	send := func(in, out int64) string {
		td, id := llmTrace("gpt-4o-mini", in, out)
		if resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != 200 {
			t.Fatalf("ingest: got %d %s", resp.StatusCode, body)
		}
		return id
	}
	// The baseline: 20 calls at the same normal cost ($0.00045 each).
	for range 20 {
		a.waitTrace(send(1000, 500), 1)
	}
	select {
	case p := <-hook.payloads:
		t.Fatalf("an alert fired on normal traffic: %+v", p.Alert)
	default:
	}
	// One call at 100× the cost.
	sent := time.Now()
	spike := send(100_000, 50_000)
	got := hook.next(t, "trigger")
	t.Logf("trace-to-alert: %s from the OTLP request to the verified webhook (one sample; not asserted)", time.Since(sent))
	if got.Alert.TraceID != spike || got.Alert.Type != "cost_spike" && got.Alert.Type != "cost_and_quality" {
		t.Fatalf("got alert %+v, want a cost alert on trace %s", got.Alert, spike)
	}
	if got.Alert.Observed <= got.Alert.Baseline*1.2 || got.Alert.Explanation == "" {
		t.Errorf("got observed %v baseline %v explanation %q", got.Alert.Observed, got.Alert.Baseline, got.Alert.Explanation)
	}

	var list struct {
		Alerts     []apiAlert `json:"alerts"`
		NextCursor string     `json:"next_cursor"`
	}
	getJSON(t, a.url("api", "/api/v1/alerts?status=firing"), &list)
	if len(list.Alerts) != 1 || list.Alerts[0].ID != got.Alert.ID {
		t.Fatalf("GET /api/v1/alerts?status=firing: got %+v, want the alert", list.Alerts)
	}
	var detail apiAlert
	getJSON(t, a.url("api", "/api/v1/alerts/"+got.Alert.ID), &detail)
	if len(detail.Deliveries) != 1 || detail.Deliveries[0].Event != "trigger" {
		t.Errorf("alert deliveries: got %+v, want the trigger", detail.Deliveries)
	}

	var acked apiAlert
	if code := apiDo(t, "POST", a.url("api", "/api/v1/alerts/"+got.Alert.ID+"/acknowledge"), "", &acked); code != 200 || acked.Status != "acknowledged" || acked.AckedAt == nil {
		t.Fatalf("acknowledge: got %d %+v", code, acked)
	}
	var resolved apiAlert
	if code := apiDo(t, "POST", a.url("api", "/api/v1/alerts/"+got.Alert.ID+"/resolve"), "", &resolved); code != 200 || resolved.Status != "resolved" || resolved.ResolvedBy != "user" {
		t.Fatalf("resolve: got %d %+v", code, resolved)
	}
	if code := apiDo(t, "POST", a.url("api", "/api/v1/alerts/"+got.Alert.ID+"/acknowledge"), "", nil); code != http.StatusConflict {
		t.Errorf("acknowledge a resolved alert: got %d, want 409", code)
	}
	if r := hook.next(t, "resolve"); r.Alert.ID != got.Alert.ID {
		t.Errorf("resolve webhook: got alert %s, want %s", r.Alert.ID, got.Alert.ID)
	}

	var stats struct {
		Total    int64            `json:"total"`
		ByStatus map[string]int64 `json:"by_status"`
	}
	getJSON(t, a.url("api", "/api/v1/alerts/stats"), &stats)
	if stats.Total != 1 || stats.ByStatus["resolved"] != 1 {
		t.Errorf("stats: got %+v, want one resolved alert", stats)
	}
	var rules struct {
		Rules []struct {
			ID      string `json:"id"`
			Type    string `json:"type"`
			Enabled bool   `json:"enabled"`
		} `json:"rules"`
	}
	getJSON(t, a.url("api", "/api/v1/alert-rules"), &rules)
	if len(rules.Rules) != len(alert.DefaultRules("default", time.Now())) {
		t.Errorf("rules: got %d, want the defaults", len(rules.Rules))
	}
	var patched struct {
		Enabled   bool    `json:"enabled"`
		Threshold float64 `json:"threshold"`
	}
	if code := apiDo(t, "PATCH", a.url("api", "/api/v1/alert-rules/default-cost_spike"), `{"threshold":0.5,"enabled":false}`, &patched); code != 200 || patched.Enabled || patched.Threshold != 0.5 {
		t.Errorf("PATCH rule: got %d %+v", code, patched)
	}
	if code := apiDo(t, "POST", a.url("api", "/api/v1/alert-rules"), `{"type":"budget","threshold":-1}`, nil); code != 400 {
		t.Errorf("POST an invalid rule: got %d, want 400", code)
	}
	if code := apiDo(t, "POST", a.url("api", "/api/v1/alert-rules"), `{"type":"budget","threshold":25,"period":"month"}`, nil); code != 200 {
		t.Errorf("POST a budget rule: got %d, want 200", code)
	}
	for _, tc := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"GET", "/api/v1/alerts?status=open", "", 400, "invalid_parameter"},
		{"GET", "/api/v1/alerts?since=yesterday", "", 400, "invalid_parameter"},
		{"GET", "/api/v1/alerts?cursor=nope", "", 400, "invalid_cursor"},
		{"GET", "/api/v1/alerts/ffffffffffffffffffffffffffffffff", "", 404, "not_found"},
		{"PATCH", "/api/v1/alert-rules/none", `{"enabled":false}`, 404, "not_found"},
		{"PATCH", "/api/v1/alert-rules/default-cost_spike", `{"stat":"p42"}`, 400, "invalid_rule"},
		{"POST", "/api/v1/channels", `{"type":"pagerduty"}`, 400, "invalid_channel"},
		{"POST", "/api/v1/channels", `{"type":"webhook","url":"ftp://x"}`, 400, "invalid_channel"},
		{"DELETE", "/api/v1/channels/none", "", 404, "not_found"},
	} {
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		if got := apiDo(t, tc.method, a.url("api", tc.path), tc.body, &e); got != tc.status || e.Error.Code != tc.code {
			t.Errorf("%s %s: got %d %q, want %d %q", tc.method, tc.path, got, e.Error.Code, tc.status, tc.code)
		}
	}
	var chans struct {
		Channels []map[string]any `json:"channels"`
	}
	getJSON(t, a.url("api", "/api/v1/channels"), &chans)
	if len(chans.Channels) != 1 || chans.Channels[0]["secret"] != nil || chans.Channels[0]["secret_set"] != true {
		t.Errorf("GET /api/v1/channels: got %+v, want one channel without its secret", chans.Channels)
	}
}
