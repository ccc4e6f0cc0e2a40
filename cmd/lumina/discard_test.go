package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestStoreDiscard checks the benchmark-only mode: ingest answers 200 only after the queue
// took the request, the worker acknowledges and drops every request (the queue drains and
// the drop counter matches), and nothing reaches the store.
func TestStoreDiscard(t *testing.T) {
	a := startTestApp(t, "--store", "discard")
	var ids []string
	const requests = 5
	for range requests {
		td, id := buildTraces("bench", 4)
		resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got %d %s, want 200", resp.StatusCode, body)
		}
		ids = append(ids, id)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := a.queue.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		dropped := gatheredValue(t, a.app, "lumina_worker_discarded_requests_total")
		if st.Messages == 0 && dropped == requests {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue holds %d messages and %v were dropped; want 0 and %d", st.Messages, dropped, requests)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if stored := gatheredValue(t, a.app, "lumina_worker_spans_stored_total"); stored != 0 {
		t.Errorf("worker stored %v spans, want 0", stored)
	}
	for _, id := range ids {
		resp, err := http.Get(a.url("api", "/api/v1/traces/"+id))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("trace %s: got %d from the API, want 404 (nothing stored)", id, resp.StatusCode)
		}
	}
}

func TestStoreOption(t *testing.T) {
	if _, err := parseConfig("serve", []string{"--store", "memory"}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "--store") {
		t.Errorf("--store memory: got %v, want an error naming --store", err)
	}
	cfg, err := parseConfig("serve", nil, env(map[string]string{"LUMINA_STORE": "discard"}), io.Discard)
	if err != nil {
		t.Fatalf("LUMINA_STORE=discard: %v", err)
	}
	if cfg.Store != storeDiscard {
		t.Errorf("LUMINA_STORE=discard: got store %q", cfg.Store)
	}
}

// gatheredValue is the sum of a counter's or gauge's samples in the app's registry (0 when absent).
func gatheredValue(t *testing.T, a *app, name string) float64 {
	t.Helper()
	mfs, err := a.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}
