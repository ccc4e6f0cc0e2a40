package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedAlert is the alert every payload golden file renders.
func fixedAlert() store.Alert {
	fired := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	return store.Alert{
		ID: "0123456789abcdef0123456789abcdef", ProjectID: "default", RuleID: "default-cost_spike",
		Type: store.RuleCostSpike, Severity: store.SeverityWarning, Status: store.AlertFiring,
		DedupKey: "default-cost_spike|chat-svc / chat gpt-4o / gpt-4o", Service: "chat-svc", Endpoint: "chat gpt-4o",
		Model: "gpt-4o", Metric: MetricCost, Observed: 0.042, Baseline: 0.01, Threshold: 0.012,
		TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7",
		Explanation: "cost per request $0.042 over the last 10 requests of chat-svc / chat gpt-4o / gpt-4o is +320% vs the baseline mean $0.01 (alert above +20%)",
		Count:       3, FiredAt: fired, LastSeenAt: fired.Add(time.Minute),
	}
}

// receiver is an httptest server that records requests and answers with the next status.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	statuses []int // answered in order; 200 once they run out
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies, r.headers = append(r.bodies, body), append(r.headers, req.Header.Clone())
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() ([][]byte, []http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...), append([]http.Header(nil), r.headers...)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", name, err, got)
	}
	pretty.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("%s: got\n%s\nwant\n%s", name, pretty.Bytes(), want)
	}
}

func TestPayloadsAgainstReceivers(t *testing.T) {
	sentAt := time.Date(2026, 6, 1, 12, 1, 5, 0, time.UTC)
	sender := &Sender{Payloads: Payloads{DashboardURL: "http://lumina.example:3000"}, Now: func() time.Time { return sentAt }}
	for _, tc := range []struct {
		typ, event string
	}{
		{store.ChannelWebhook, store.EventTrigger},
		{store.ChannelWebhook, store.EventResolve},
		{store.ChannelSlack, store.EventTrigger},
		{store.ChannelSlack, store.EventResolve},
		{store.ChannelPagerDuty, store.EventTrigger},
		{store.ChannelPagerDuty, store.EventResolve},
		{store.ChannelDiscord, store.EventTrigger},
	} {
		t.Run(tc.typ+"-"+tc.event, func(t *testing.T) {
			rcv := newReceiver(t)
			a := fixedAlert()
			if tc.event == store.EventResolve {
				a.Status, a.ResolvedAt, a.ResolvedBy = store.AlertResolved, sentAt, "auto"
			}
			ch := store.Channel{ID: "ch1", ProjectID: "default", Type: tc.typ, URL: rcv.URL, RoutingKey: "R0UT1NGKEY", Enabled: true}
			d := store.Delivery{ID: a.ID + ":" + tc.event + ":ch1", AlertID: a.ID, ChannelID: "ch1", Event: tc.event, Alert: a}
			if res := sender.Send(context.Background(), ch, d); res.Err != nil || res.Status != 200 {
				t.Fatalf("Send: got %d %v, want 200", res.Status, res.Err)
			}
			bodies, headers := rcv.requests()
			if len(bodies) != 1 {
				t.Fatalf("got %d requests, want 1", len(bodies))
			}
			if ct := headers[0].Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type: got %q", ct)
			}
			if tc.typ == store.ChannelWebhook && headers[0].Get(SignatureHeader) != "" {
				t.Errorf("a webhook without a secret is not signed: got %q", headers[0].Get(SignatureHeader))
			}
			golden(t, tc.typ+"-"+tc.event+".json", bodies[0])
		})
	}
}

func TestWebhookSignature(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	rcv := newReceiver(t)
	sender := &Sender{Now: func() time.Time { return now }}
	ch := store.Channel{ID: "c", Type: store.ChannelWebhook, URL: rcv.URL, Secret: "whsec_test", Enabled: true}
	d := store.Delivery{ID: "d1", Event: store.EventTrigger, Alert: fixedAlert()}
	if res := sender.Send(context.Background(), ch, d); res.Err != nil {
		t.Fatal(res.Err)
	}
	bodies, headers := rcv.requests()
	sig := headers[0].Get(SignatureHeader)
	if !strings.HasPrefix(sig, "t=1780315200,v1=") {
		t.Fatalf("signature header: got %q", sig)
	}
	if headers[0].Get("X-Lumina-Event") != "trigger" || headers[0].Get("X-Lumina-Delivery") != "d1" {
		t.Errorf("got event %q delivery %q", headers[0].Get("X-Lumina-Event"), headers[0].Get("X-Lumina-Delivery"))
	}
	tests := []struct {
		name, secret string
		body         []byte
		at           time.Time
		ok           bool
	}{
		{"valid", "whsec_test", bodies[0], now.Add(time.Minute), true},
		{"wrong secret", "other", bodies[0], now, false},
		{"tampered body", "whsec_test", append(bytes.Clone(bodies[0]), ' '), now, false},
		{"replayed later", "whsec_test", bodies[0], now.Add(10 * time.Minute), false},
	}
	for _, tt := range tests {
		err := VerifySignature(tt.secret, sig, tt.body, tt.at, 5*time.Minute)
		if (err == nil) != tt.ok {
			t.Errorf("%s: got %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	if err := VerifySignature("whsec_test", "garbage", bodies[0], now, time.Minute); err == nil {
		t.Error("a malformed header verified")
	}
}

func TestSendClassifiesFailures(t *testing.T) {
	for _, tc := range []struct {
		status    int
		retryable bool
	}{{500, true}, {503, true}, {429, true}, {400, false}, {404, false}} {
		rcv := newReceiver(t, tc.status)
		res := (&Sender{}).Send(context.Background(), store.Channel{ID: "c", Type: store.ChannelSlack, URL: rcv.URL}, store.Delivery{Event: store.EventTrigger, Alert: fixedAlert()})
		if res.Err == nil || res.Status != tc.status || res.Retryable != tc.retryable {
			t.Errorf("status %d: got %+v, want an error, retryable=%v", tc.status, res, tc.retryable)
		}
	}
	res := (&Sender{}).Send(context.Background(), store.Channel{ID: "c", Type: store.ChannelWebhook, URL: "http://127.0.0.1:1/none"}, store.Delivery{Alert: fixedAlert()})
	if res.Err == nil || !res.Retryable {
		t.Errorf("connection refused: got %+v, want a retryable error", res)
	}
}
