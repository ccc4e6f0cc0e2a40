package main

import (
	"bufio"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAlertsScaleOut runs an ingest, an API and two worker processes on one PostgreSQL
// schema and one NATS stream. The workers share the consumer, so each sees part of the
// traffic. $1.80 spent against a $1.50 daily budget opens one budget alert from the total;
// a cost spike that both workers see opens one cost alert counting the spikes of both.
func TestAlertsScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four real processes")
	}
	bin := luminaBinary(t)
	shared := append([]string{"--database-url", pgSchema(t, ""), "--log-level", "warn",
		"--otlp-http-addr", "off", "--otlp-grpc-addr", "off", "--replay-addr", "off", "--web-addr", "off"}, natsStream(t, "")...)
	if out, err := exec.Command(bin, append([]string{"migrate"}, shared...)...).CombinedOutput(); err != nil {
		t.Fatalf("lumina migrate: %v\n%s", err, out)
	}
	start := func(role string) string {
		addr := freeAddr(t)
		args := append([]string{"serve", "--roles", role, "--ingest-addr", "off", "--api-addr", "off", "--worker-addr", "off"}, shared...)
		args = append(args, "--"+role+"-addr", addr)
		startProcess(t, bin, args, "http://"+addr)
		return "http://" + addr
	}
	ingest, api := start(roleIngest), start(roleAPI)
	if code := apiDo(t, "POST", api+"/api/v1/alert-rules", `{"type":"budget","threshold":1.5,"period":"day"}`, nil); code != 200 {
		t.Fatalf("POST a budget rule: got %d", code)
	}
	workers := []string{start(roleWorker), start(roleWorker)}

	var wg sync.WaitGroup
	for range 4 { // 40 calls at $0.045 (100k input and 50k output tokens of gpt-4o-mini)
		wg.Go(func() {
			for range 10 {
				td, _ := llmTrace("gpt-4o-mini", 100_000, 50_000)
				if resp, body := post(t, ingest+"/v1/traces", "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != 200 {
					t.Errorf("ingest: got %d %s", resp.StatusCode, body)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	var list struct {
		Alerts []apiAlert `json:"alerts"`
	}
	deadline := time.Now().Add(45 * time.Second)
	for {
		getJSON(t, api+"/api/v1/alerts?type=budget", &list)
		if len(list.Alerts) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(list.Alerts) != 1 || list.Alerts[0].Status != "firing" {
		t.Fatalf("budget alerts: got %+v, want one firing", list.Alerts)
	}
	if list.Alerts[0].Observed < 1.5 || list.Alerts[0].Observed > 1.8+1e-9 {
		t.Errorf("budget alert observed $%v, want the shared total, over $1.50 and at most $1.80", list.Alerts[0].Observed)
	}
	var shares []float64
	for _, w := range workers {
		shares = append(shares, evaluatedSpans(t, w))
	}
	t.Logf("spans evaluated per worker: %v (a worker alone over the budget needs 34)", shares)

	// A cost spike seen by both workers: one alert, counting the spikes of both.
	if code := apiDo(t, "POST", api+"/api/v1/alert-rules", `{"type":"cost_spike","threshold":0.2,"window_requests":10,"min_samples":20,"scope":{"model":"gpt-4o"}}`, nil); code != 200 {
		t.Fatalf("POST a cost rule: got %d", code)
	}
	time.Sleep(6 * time.Second) // the workers' next tick reads it
	send := func(n int, in, out int64) []float64 {
		before := []float64{evaluatedSpans(t, workers[0]), evaluatedSpans(t, workers[1])}
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for range n / 2 {
					td, _ := llmTrace("gpt-4o", in, out)
					if resp, body := post(t, ingest+"/v1/traces", "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != 200 {
						t.Errorf("ingest: got %d %s", resp.StatusCode, body)
					}
					time.Sleep(20 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		deadline := time.Now().Add(30 * time.Second)
		for {
			got := []float64{evaluatedSpans(t, workers[0]) - before[0], evaluatedSpans(t, workers[1]) - before[1]}
			if got[0]+got[1] >= float64(n) || time.Now().After(deadline) {
				return got
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	base := send(60, 1000, 500)         // $0.0075 each
	spikes := send(10, 100_000, 50_000) // 100×
	var cost struct {
		Alerts []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Count  int    `json:"count"`
		} `json:"alerts"`
	}
	getJSON(t, api+"/api/v1/alerts?type=cost_spike", &cost)
	t.Logf("baseline calls per worker %v, spikes per worker %v, cost alerts %+v", base, spikes, cost.Alerts)
	if len(cost.Alerts) != 1 || cost.Alerts[0].Status != "firing" {
		t.Fatalf("cost alerts: got %+v, want one firing", cost.Alerts)
	}
	if base[0] >= 20 && base[1] >= 20 && cost.Alerts[0].Count != 10 {
		t.Errorf("cost alert count: got %d, want 10 (every spike, from both workers)", cost.Alerts[0].Count)
	}

	time.Sleep(11 * time.Second) // two more ticks of each worker: still one of each
	getJSON(t, api+"/api/v1/alerts?type=budget", &list)
	if len(list.Alerts) != 1 {
		t.Fatalf("budget alerts after two more ticks: got %d, want 1", len(list.Alerts))
	}
	getJSON(t, api+"/api/v1/alerts?type=cost_spike", &cost)
	if len(cost.Alerts) != 1 {
		t.Fatalf("cost alerts after two more ticks: got %d, want 1", len(cost.Alerts))
	}
}

// evaluatedSpans reads lumina_alert_spans_total{outcome="evaluated"} from a process.
func evaluatedSpans(t *testing.T, base string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), `lumina_alert_spans_total{outcome="evaluated"} `); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return n
		}
	}
	return 0
}
