//go:build alertbench

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/use-lumina/lumina/internal/alert"
	"github.com/use-lumina/lumina/internal/loadgen"
)

// TestAlertLatency measures trace-to-alert latency: from the OTLP request that carries a
// cost spike to its webhook arriving, over ALERTBENCH_PROBES alerts (50), each on its own
// key with its own 20-call baseline, while the load generator offers ALERTBENCH_SPAN_RATE
// spans/s (4000) of background traffic. ALERTBENCH_DATABASE_URL runs it on PostgreSQL.
// `make bench-alerts` runs it; it reports, it does not assert on times.
func TestAlertLatency(t *testing.T) {
	probes := int(envFloat(t, "ALERTBENCH_PROBES", 50))
	rate := envFloat(t, "ALERTBENCH_SPAN_RATE", 4000)
	a := startAlertBenchApp(t)

	var mu sync.Mutex
	arrived := map[string]arrival{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		var p alert.WebhookPayload
		if err := json.NewDecoder(r.Body).Decode(&p); err == nil && p.Event == "trigger" {
			mu.Lock()
			if _, ok := arrived[p.Alert.TraceID]; !ok {
				arrived[p.Alert.TraceID] = arrival{at: at, fired: p.Alert.FiredAt, sent: p.SentAt}
			}
			mu.Unlock()
		}
	}))
	defer hook.Close()
	if code := apiDo(t, "POST", a.url("api", "/api/v1/channels"), `{"type":"webhook","url":"`+hook.URL+`"}`, nil); code != 200 {
		t.Fatalf("create the webhook channel: %d", code)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bg := make(chan *loadgen.Report, 1)
	if rate > 0 {
		go func() {
			r, err := loadgen.Run(ctx, loadgen.Config{Endpoint: a.url("ingest", ""), Clients: 4, SpanRate: rate,
				Duration: time.Hour, MaxRetries: 5}, io.Discard)
			if err != nil && ctx.Err() == nil {
				t.Logf("background load: %v", err)
			}
			bg <- r
		}()
		time.Sleep(10 * time.Second) // let the background load reach its rate
	}

	send := func(svc string, in, out int64) string {
		td, id := llmTrace("gpt-4o-mini", in, out)
		td.ResourceSpans().At(0).Resource().Attributes().PutStr("service.name", svc)
		if resp, body := post(t, a.url("ingest", "/v1/traces"), "application/x-protobuf", "", protoBody(t, td)); resp.StatusCode != 200 {
			t.Fatalf("ingest: %d %s", resp.StatusCode, body)
		}
		return id
	}
	var lat, toAccept, toFire, toSend []time.Duration
	missed := 0
	machine, stored, commits := readPressure(), storedSpans(t, a), committedBatches(t, a)
	for i := range probes {
		svc := fmt.Sprintf("alert-probe-%d", i)
		var baseline []string
		for range 20 {
			baseline = append(baseline, send(svc, 1000, 500))
		}
		// The whole baseline is in before the spike: with several consume loops
		// (PostgreSQL) the last call can be stored before an earlier one. Stored is not
		// yet observed (the alert hook runs just after the commit), hence the pause.
		for _, id := range baseline {
			a.waitTrace(id, 1)
		}
		time.Sleep(100 * time.Millisecond)
		sent := time.Now()
		spike := send(svc, 100_000, 50_000)
		accepted := time.Since(sent)
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			at, ok := arrived[spike]
			mu.Unlock()
			if ok {
				lat = append(lat, at.at.Sub(sent))
				toAccept = append(toAccept, accepted)
				toFire = append(toFire, at.fired.Sub(sent))
				toSend = append(toSend, at.sent.Sub(at.fired))
				break
			}
			if time.Now().After(deadline) {
				t.Logf("probe %d: no alert webhook for trace %s within 30 s", i, spike)
				missed++
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	stored, commits = storedSpans(t, a)-stored, committedBatches(t, a)-commits
	machineDuring := readPressure().since(machine, stored)
	cancel()
	var bgRate float64
	if rate > 0 {
		if r := <-bg; r != nil {
			bgRate = float64(r.SpansAcked) / r.Elapsed.Seconds()
		}
	}
	if len(lat) == 0 || missed > probes/10 {
		t.Fatalf("%d of %d probes raised no alert on their spike", missed, probes)
	}
	store := "sqlite"
	if os.Getenv("ALERTBENCH_DATABASE_URL") != "" {
		store = "postgresql"
	}
	t.Logf("trace-to-alert (%s, background %.0f spans/s acknowledged, %d alerts, %d probes missed, search index backlog at the end %.0f): %s",
		store, bgRate, len(lat), missed, indexBacklog(t, a), quantiles(lat))
	// Its parts, from the OTLP response, the alert's fired_at and the webhook's sent_at (one
	// clock): the OTLP request until it was accepted (queued), until the engine fired (the
	// worker's batch and commit), then the firing to the send (the alert's writes, the outbox).
	t.Logf("  request → accepted: %s", quantiles(toAccept))
	t.Logf("  request → fired: %s", quantiles(toFire))
	t.Logf("  fired → sent:    %s", quantiles(toSend))
	t.Logf("  the worker's commits: %.0f, %.0f spans each on average", commits, stored/max(commits, 1))
	t.Logf("  %s", machineDuring)
}

// startAlertBenchApp starts Lumina as both alert benchmarks run it, with the extra flags in
// ALERTBENCH_FLAGS (space-separated, e.g. "--sync-always").
func startAlertBenchApp(t *testing.T) *testApp {
	flags := append([]string{"--daily-trace-limit", "0", "--worker-linger", "20ms"}, strings.Fields(os.Getenv("ALERTBENCH_FLAGS"))...)
	if db := os.Getenv("ALERTBENCH_DATABASE_URL"); db != "" {
		flags = append(flags, "--database-url", isolated(t, db))
	}
	return startTestApp(t, flags...)
}

// TestAlertBenchCapacity measures what TestAlertLatency's Lumina stores per second at most,
// two ways. The drain rate: the load generator offers far more than that for 40 s, and the
// spans the worker committed between the 10th and the 40th second (a backlog all along)
// give it. The sustained rate: the highest steady offered rate whose backlog (spans
// accepted but not yet committed) grows by less than a second of traffic over
// sustainStep, found by bisection between 30 % and 100 % of the drain rate. The drain
// rate overstates what a steady load can have: with a backlog every batch is full, and
// full batches cost less per span. TestAlertLatency's background load is a share of the
// sustained rate. `make bench-alerts-capacity` runs it.
func TestAlertBenchCapacity(t *testing.T) {
	a := startAlertBenchApp(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	load := func(rate float64) context.CancelFunc {
		lctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = loadgen.Run(lctx, loadgen.Config{Endpoint: a.url("ingest", ""), Clients: 4, SpanRate: rate,
				Duration: time.Hour, MaxRetries: 5}, io.Discard)
		}()
		return func() { stop(); <-done }
	}
	machine, stored := readPressure(), storedSpans(t, a)
	defer func() { t.Logf("%s", readPressure().since(machine, storedSpans(t, a)-stored)) }()
	stop := load(20_000)
	time.Sleep(10 * time.Second)
	from, start := storedSpans(t, a), time.Now()
	time.Sleep(30 * time.Second)
	stored, el := storedSpans(t, a)-from, time.Since(start)
	stop()
	drain := stored / el.Seconds()
	t.Logf("drain rate: %.0f spans/s stored (%.0f spans in %s)", drain, stored, el.Round(time.Millisecond))

	lo, hi := 0.3*drain, drain
	for range 4 {
		a.waitDrained(t)
		rate := (lo + hi) / 2
		stop := load(rate)
		time.Sleep(sustainStep / 3) // the generator reaches its rate, batches settle
		b0, i0 := a.backlog(t), indexBacklog(t, a)
		time.Sleep(sustainStep)
		grew, indexGrew := a.backlog(t)-b0, indexBacklog(t, a)-i0
		stop()
		kept := grew < rate && indexGrew < rate // less than a second of traffic
		t.Logf("offered %.0f spans/s for %s: backlog grew by %.0f spans, the search index's by %.0f (kept up: %t)",
			rate, sustainStep, grew, indexGrew, kept)
		if kept {
			lo = rate
		} else {
			hi = rate
		}
	}
	t.Logf("sustained rate: %.0f spans/s (the highest offered rate kept up with; %.0f%% of the drain rate)", lo, 100*lo/drain)
}

// sustainStep is how long TestAlertBenchCapacity holds each offered rate.
const sustainStep = 20 * time.Second

// backlog is how many spans the app has received and not yet committed. The generator's
// spans are all valid and the queue never fills here, so while the generator runs every
// span received is accepted.
func (a *testApp) backlog(t *testing.T) float64 {
	return metricSum(t, a, "lumina_ingest_items_received_total", "signal", "traces") - storedSpans(t, a)
}

// indexBacklog is lumina_search_index_backlog: span changes stored and not yet in SQLite's
// full-text index (0 on PostgreSQL, which indexes in the span write).
func indexBacklog(t *testing.T, a *testApp) float64 {
	return gauge(t, a, "lumina_search_index_backlog")
}

// gauge is the value of the unlabelled gauge name in the app's registry, 0 when it has none.
func gauge(t *testing.T, a *testApp, name string) float64 {
	mfs, err := a.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return 0
}

// waitDrained waits until the queue holds no accepted request and the search index has
// applied what was stored (after the drain rate's 40 s of overload, that is a minute or
// two). Received minus stored spans would not do: a request the generator cancels as it
// stops is received, and never accepted.
func (a *testApp) waitDrained(t *testing.T) {
	deadline := time.Now().Add(5 * time.Minute)
	for gauge(t, a, "lumina_queue_messages") > 0 || indexBacklog(t, a) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("queue of %.0f requests not drained within 5 minutes", gauge(t, a, "lumina_queue_messages"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// committedBatches reads the committed series of lumina_worker_batches_total.
func committedBatches(t *testing.T, a *testApp) float64 {
	return metricSum(t, a, "lumina_worker_batches_total", "outcome", "committed")
}

// storedSpans reads lumina_worker_spans_stored_total from the app's registry.
func storedSpans(t *testing.T, a *testApp) float64 {
	return metricSum(t, a, "lumina_worker_spans_stored_total", "", "")
}

// metricSum adds up the counter name in the app's registry over its series: only those
// whose label is value when label is not empty.
func metricSum(t *testing.T, a *testApp, name, label, value string) float64 {
	mfs, err := a.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		total := 0.0
		for _, m := range mf.GetMetric() {
			if label != "" && !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
				return l.GetName() == label && l.GetValue() == value
			}) {
				continue
			}
			total += m.GetCounter().GetValue()
		}
		return total
	}
	t.Fatalf("no %s", name)
	return 0
}

// arrival is when a trigger webhook arrived, with the times its payload carries.
type arrival struct{ at, fired, sent time.Time }

// quantiles formats the p50, p90, p99 and maximum of ds, which it sorts.
func quantiles(ds []time.Duration) string {
	slices.Sort(ds)
	q := func(p float64) time.Duration {
		return ds[min(len(ds)-1, int(p*float64(len(ds))))].Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("p50 %s, p90 %s, p99 %s, max %s", q(0.50), q(0.90), q(0.99), q(1))
}
