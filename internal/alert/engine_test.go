package alert

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

func costRule(window int) store.AlertRule {
	return store.AlertRule{Type: store.RuleCostSpike, Threshold: 0.2, Stat: StatMean, WindowRequests: window, MinSamples: 20, Cooldown: time.Hour}
}

func TestCostSpikeEdges(t *testing.T) {
	tests := []struct {
		name     string
		baseline int
		cost     float64
		fire     bool
	}{
		{"at the threshold", 20, 1.2, false},
		{"just over", 20, 1.21, true},
		{"far over", 20, 10, true},
		{"below the minimum samples", 19, 10, false},
		{"cheaper", 20, 0.1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, costRule(1))
			h.observe(repeat(tt.baseline, call{cost: 1})...)
			h.observe(call{cost: tt.cost})
			got := h.open(store.RuleCostSpike)
			if (len(got) == 1) != tt.fire || len(got) > 1 {
				t.Fatalf("got %d open cost alerts, want fire=%v", len(got), tt.fire)
			}
			if !tt.fire {
				return
			}
			a := got[0]
			if a.Observed != tt.cost || a.Baseline != 1 || a.Metric != MetricCost || a.Severity != store.SeverityWarning {
				t.Errorf("got observed %v baseline %v metric %s severity %s, want %v, 1, cost_usd, warning", a.Observed, a.Baseline, a.Metric, a.Severity, tt.cost)
			}
			if a.Explanation == "" || a.TraceID == "" || a.SpanID == "" || a.Count != 1 {
				t.Errorf("got %+v, want an explanation, the triggering trace and span, count 1", a)
			}
		})
	}
}

func TestCostSpikeTriggeringSpan(t *testing.T) {
	h := newHarness(t, costRule(10))
	h.observe(repeat(20, call{cost: 1})...)
	b := h.observe(call{cost: 5})
	got := h.open(store.RuleCostSpike)
	if len(got) != 1 {
		t.Fatalf("got %d alerts, want 1", len(got))
	}
	// Rolling mean over the last 10: (9×1 + 5)/10 = 1.4 > 1.2.
	if got[0].TraceID != b.Spans[0].TraceID || got[0].SpanID != b.Spans[0].SpanID || got[0].Observed != 1.4 {
		t.Errorf("got trace %s span %s observed %v, want %s %s 1.4", got[0].TraceID, got[0].SpanID, got[0].Observed, b.Spans[0].TraceID, b.Spans[0].SpanID)
	}
	// An unpriced call has no cost: it neither fires nor resolves the cost alert.
	h.observe(repeat(10, call{unpriced: true})...)
	if got := h.open(store.RuleCostSpike); len(got) != 1 {
		t.Errorf("after unpriced calls: got %d open, want 1", len(got))
	}
}

func TestQualityDropEdges(t *testing.T) {
	rule := store.AlertRule{Type: store.RuleQualityDrop, Threshold: 0.7, WindowRequests: 5, MinSamples: 5}
	tests := []struct {
		name  string
		calls []call
		fire  bool
	}{
		{"at 0.7", repeat(5, call{cost: 1, quality: q(0.7)}), false},
		{"just below", repeat(5, call{cost: 1, quality: q(0.69)}), true},
		{"too few scores", repeat(4, call{cost: 1, quality: q(0.1)}), false},
		{"no scores at all", repeat(20, call{cost: 1}), false},
		{"mean of mixed scores above", append(repeat(4, call{cost: 1, quality: q(0.9)}), call{cost: 1, quality: q(0.2)}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, rule)
			h.observe(tt.calls...)
			if got := len(h.open(store.RuleQualityDrop)); got != map[bool]int{true: 1, false: 0}[tt.fire] {
				t.Errorf("got %d quality alerts, want fire=%v", got, tt.fire)
			}
		})
	}
}

func TestLatencySpikeEdges(t *testing.T) {
	rule := store.AlertRule{Type: store.RuleLatencySpike, Threshold: 0.5, Stat: StatP95, WindowRequests: 1, MinSamples: 20}
	for _, tt := range []struct {
		latency time.Duration
		fire    bool
	}{{150 * time.Millisecond, false}, {151 * time.Millisecond, true}, {50 * time.Millisecond, false}} {
		h := newHarness(t, rule)
		h.observe(repeat(20, call{cost: 1, latency: 100 * time.Millisecond})...)
		h.observe(call{cost: 1, latency: tt.latency})
		if got := len(h.open(store.RuleLatencySpike)); (got == 1) != tt.fire {
			t.Errorf("latency %s: got %d alerts, want fire=%v", tt.latency, got, tt.fire)
		}
	}
}

func TestErrorRateEdges(t *testing.T) {
	rule := store.AlertRule{Type: store.RuleErrorRate, Threshold: 0.1, WindowRequests: 10, MinSamples: 10}
	for _, tt := range []struct {
		failed, ok int
		fire       bool
	}{{1, 9, false}, {2, 8, true}, {2, 7, false} /* too few */, {0, 10, false}} {
		h := newHarness(t, rule)
		h.observe(repeat(tt.ok, call{cost: 1})...)
		h.observe(repeat(tt.failed, call{cost: 1, failed: true})...)
		if got := len(h.open(store.RuleErrorRate)); (got == 1) != tt.fire {
			t.Errorf("%d failed of %d: got %d alerts, want fire=%v", tt.failed, tt.failed+tt.ok, got, tt.fire)
		}
	}
}

func TestBudget(t *testing.T) {
	rule := store.AlertRule{Type: store.RuleBudget, Threshold: 10, Period: PeriodDay, Severity: store.SeverityCritical}
	scoped := store.AlertRule{ID: "mini", Type: store.RuleBudget, Threshold: 1, Period: PeriodDay, Scope: store.AlertScope{Model: "gpt-4o-mini"}}
	h := newHarness(t, rule, scoped)
	h.observe(repeat(10, call{cost: 1})...) // $10: at the budget, not over
	if got := h.open(store.RuleBudget); len(got) != 0 {
		t.Fatalf("at the budget: got %d alerts, want 0", len(got))
	}
	h.observe(call{cost: 0.5, model: "gpt-4o-mini"}) // $10.50 total; $0.50 on mini
	got := h.open(store.RuleBudget)
	if len(got) != 1 || got[0].RuleID != "budget" || got[0].Observed != 10.5 || got[0].Severity != store.SeverityCritical {
		t.Fatalf("over the budget: got %+v, want one alert of rule budget at $10.50", got)
	}
	h.observe(call{cost: 0.6, model: "gpt-4o-mini"}) // mini: $1.10 > $1
	if got := h.open(store.RuleBudget); len(got) != 2 {
		t.Fatalf("scoped budget: got %d open, want 2", len(got))
	}
	if a := h.store.alertsOf(store.RuleBudget)[0]; a.Count != 2 {
		t.Errorf("repeat over the budget: got count %d, want 2", a.Count)
	}
	// A new day starts from zero: both resolve on the tick.
	h.clock.add(24 * time.Hour)
	h.e.Tick(context.Background())
	if got := h.open(store.RuleBudget); len(got) != 0 {
		t.Errorf("next day: got %d open, want 0", len(got))
	}
}

func TestDualSignalReplacesItsParts(t *testing.T) {
	h := newHarness(t) // the default rules
	h.observe(repeat(20, call{cost: 1, quality: q(0.9)})...)
	// Cost alone: a cost spike.
	h.observe(repeat(3, call{cost: 3, quality: q(0.9)})...)
	if got := h.open(store.RuleCostSpike); len(got) != 1 {
		t.Fatalf("cost alone: got %d cost alerts, want 1", len(got))
	}
	if got := h.open(store.RuleCostAndQuality); len(got) != 0 {
		t.Fatalf("cost alone: got %d dual alerts, want 0", len(got))
	}
	// Quality drops too, on the same key: the dual alert replaces the cost alert, and no
	// quality alert opens.
	h.observe(repeat(10, call{cost: 3, quality: q(0.2)})...)
	dual := h.open(store.RuleCostAndQuality)
	if len(dual) != 1 || dual[0].Severity != store.SeverityCritical {
		t.Fatalf("both: got dual alerts %+v, want one critical", dual)
	}
	if got := h.open(store.RuleCostSpike); len(got) != 0 {
		t.Errorf("both: got %d open cost alerts, want the cost alert replaced", len(got))
	}
	if got := h.store.alertsOf(store.RuleCostSpike); len(got) != 1 || got[0].ResolvedBy != "replaced" {
		t.Errorf("both: got cost alerts %+v, want one resolved by replaced", got)
	}
	if got := h.store.alertsOf(store.RuleQualityDrop); len(got) != 0 {
		t.Errorf("both: got %d quality alerts, want none", len(got))
	}
}

func TestDualSignalTakesTheHigherSeverity(t *testing.T) {
	cost := costRule(10)
	cost.Severity = store.SeverityCritical
	dual := store.AlertRule{Type: store.RuleCostAndQuality, Threshold: 0.2, QualityThreshold: 0.7, WindowRequests: 1, MinSamples: 20, Severity: store.SeverityInfo}
	h := newHarness(t, cost, dual)
	h.observe(repeat(20, call{cost: 1, quality: q(0.9)})...)
	h.observe(call{cost: 10, quality: q(0.1)})
	if got := h.open(store.RuleCostAndQuality); len(got) != 1 || got[0].Severity != store.SeverityCritical {
		t.Errorf("got %+v, want one dual alert at the cost rule's critical", got)
	}
}

func TestDedupAndCooldown(t *testing.T) {
	h := newHarness(t, costRule(1))
	h.observe(repeat(20, call{cost: 1})...)
	h.observe(repeat(5, call{cost: 5})...)
	alerts := h.store.alertsOf(store.RuleCostSpike)
	if len(alerts) != 1 || alerts[0].Count != 5 {
		t.Fatalf("five spikes: got %+v, want one alert counting 5", alerts)
	}
	if got := h.store.deliveriesOf(store.EventTrigger); len(got) != 1 {
		t.Fatalf("five spikes: got %d trigger deliveries, want 1", len(got))
	}
	h.observe(call{cost: 1}) // back to normal: resolves
	if got := h.open(store.RuleCostSpike); len(got) != 0 {
		t.Fatalf("after a normal request: got %d open, want 0", len(got))
	}
	h.observe(call{cost: 5}) // within the hour of cooldown
	if got := h.store.alertsOf(store.RuleCostSpike); len(got) != 1 {
		t.Fatalf("spike within the cooldown: got %d alerts, want still 1", len(got))
	}
	h.clock.add(time.Hour)
	h.observe(call{cost: 5})
	if got := h.store.alertsOf(store.RuleCostSpike); len(got) != 2 {
		t.Fatalf("spike after the cooldown: got %d alerts, want 2", len(got))
	}
}

func TestAutoResolve(t *testing.T) {
	h := newHarness(t, costRule(3))
	h.observe(repeat(20, call{cost: 1})...)
	h.observe(call{cost: 2}) // (1+1+2)/3 = 1.33 > 1.2
	if len(h.open(store.RuleCostSpike)) != 1 {
		t.Fatal("want the spike to fire")
	}
	h.observe(call{cost: 1}) // (1+2+1)/3: still over
	if len(h.open(store.RuleCostSpike)) != 1 {
		t.Fatal("want the alert still open while the spike is in the window")
	}
	h.observe(call{cost: 1}) // (2+1+1)/3: still over
	h.observe(call{cost: 1}) // the spike left the window
	got := h.store.alertsOf(store.RuleCostSpike)
	if len(got) != 1 || got[0].Status != store.AlertResolved || got[0].ResolvedBy != "auto" || got[0].Count != 3 {
		t.Fatalf("got %+v, want one alert auto-resolved after 3 degraded observations", got)
	}
	if got := h.store.deliveriesOf(store.EventResolve); len(got) != 1 || got[0].Alert.Status != store.AlertResolved {
		t.Errorf("got %d resolve deliveries, want 1 carrying the resolved alert", len(got))
	}
}

func TestAutoResolveWhenTheWindowAges(t *testing.T) {
	h := newHarness(t, costRule(10))
	h.observe(repeat(20, call{cost: 1})...)
	h.observe(call{cost: 10})
	if len(h.open(store.RuleCostSpike)) != 1 {
		t.Fatal("want the spike to fire")
	}
	h.e.Tick(context.Background())
	if len(h.open(store.RuleCostSpike)) != 1 {
		t.Fatal("a tick inside the window must not resolve")
	}
	h.clock.add(16 * time.Minute) // past the 15-minute window: no traffic since
	h.e.Tick(context.Background())
	if got := h.open(store.RuleCostSpike); len(got) != 0 {
		t.Errorf("after the window: got %d open, want 0", len(got))
	}
}

func TestRedeliveredBatchCreatesNoSecondAlert(t *testing.T) {
	h := newHarness(t, costRule(1))
	base := h.observe(repeat(20, call{cost: 1})...)
	h.e.Observe(context.Background(), base) // redelivered: must not count twice
	spike := h.observe(call{cost: 5})
	h.e.Observe(context.Background(), spike)
	h.e.Observe(context.Background(), spike)
	alerts := h.store.alertsOf(store.RuleCostSpike)
	if len(alerts) != 1 || alerts[0].Count != 1 {
		t.Fatalf("got %+v, want one alert counting 1", alerts)
	}
	if got := len(h.store.deliveriesOf("")); got != 1 {
		t.Errorf("got %d deliveries, want 1", got)
	}
	h.e.snapshot(context.Background(), true)
	for _, b := range h.store.baselines {
		if b.Metric == MetricCost && b.Count != 21 {
			t.Errorf("cost baseline: got count %d, want 21 (redeliveries not counted)", b.Count)
		}
	}
}

func TestUserAcknowledgeAndResolve(t *testing.T) {
	h := newHarness(t, costRule(1))
	h.observe(repeat(20, call{cost: 1})...)
	h.observe(call{cost: 5})
	a := h.open(store.RuleCostSpike)[0]
	ctx := context.Background()
	a.Status, a.AcknowledgedAt = store.AlertAcknowledged, h.clock.now()
	_ = h.store.PutAlert(ctx, a)
	h.e.Tick(ctx)
	h.observe(call{cost: 5}) // a repeat keeps the acknowledgement
	got := h.store.alertsOf(store.RuleCostSpike)
	if len(got) != 1 || got[0].Status != store.AlertAcknowledged || got[0].Count != 2 {
		t.Fatalf("after ack and a repeat: got %+v, want acknowledged, count 2", got)
	}
	a = got[0]
	a.Status, a.ResolvedAt, a.ResolvedBy = store.AlertResolved, h.clock.now(), "user"
	_ = h.store.PutAlert(ctx, a)
	h.e.Tick(ctx)
	if got := h.store.deliveriesOf(store.EventResolve); len(got) != 1 {
		t.Errorf("user resolve: got %d resolve deliveries, want 1", len(got))
	}
	h.clock.add(2 * time.Hour) // past the cooldown: a new spike is a new alert
	h.observe(call{cost: 5})
	if got := h.store.alertsOf(store.RuleCostSpike); len(got) != 2 {
		t.Errorf("spike after a user resolve: got %d alerts, want 2", len(got))
	}
}

func TestDefaultRulesCreatedOnce(t *testing.T) {
	h := newHarness(t)
	h.observe(call{cost: 1})
	h.observe(call{cost: 1})
	rules, _ := h.store.AlertRules(context.Background(), "p")
	if len(rules) != len(DefaultRules("p", t0)) {
		t.Fatalf("got %d rules, want the %d defaults", len(rules), len(DefaultRules("p", t0)))
	}
	for _, r := range rules {
		if err := ValidateRule(&r); err != nil {
			t.Errorf("default rule %s invalid: %v", r.ID, err)
		}
	}
	// The user deletes them all: they are not created again by this engine.
	h.store.rules = nil
	h.e.Tick(context.Background())
	h.observe(call{cost: 1})
	if rules, _ := h.store.AlertRules(context.Background(), "p"); len(rules) != 0 {
		t.Errorf("after deleting every rule: got %d rules, want 0", len(rules))
	}
}

func TestFailedWritesAreRetried(t *testing.T) {
	h := newHarness(t, costRule(1))
	h.observe(repeat(20, call{cost: 1})...)
	h.store.fail = errDown
	h.observe(call{cost: 5})
	if got := h.store.alertsOf(""); len(got) != 0 {
		t.Fatalf("store down: got %d alerts stored, want 0", len(got))
	}
	h.store.fail = nil
	h.e.Tick(context.Background())
	if got := h.open(store.RuleCostSpike); len(got) != 1 {
		t.Errorf("after the store returns: got %d alerts, want 1", len(got))
	}
	if got := h.store.deliveriesOf(store.EventTrigger); len(got) != 1 {
		t.Errorf("after the store returns: got %d deliveries, want 1", len(got))
	}
}

func TestRestartResumesBaselines(t *testing.T) {
	h := newHarness(t, costRule(1))
	h.observe(repeat(20, call{cost: 1})...)
	h.e.snapshot(context.Background(), true)
	// A new engine on the same store: the baseline is back, so the first spike fires.
	e := New(Config{}, h.store, h.clock.now, nil, nil)
	if err := e.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.e = e
	h.observe(call{cost: 5})
	if got := h.open(store.RuleCostSpike); len(got) != 1 {
		t.Fatalf("after a restart: got %d alerts, want 1", len(got))
	}
	var found bool
	for _, b := range h.store.baselines {
		if b.Metric == MetricCost {
			found = b.Count == 20 && b.Mean == 1 && b.P50 == 1 && b.P99 == 1
		}
	}
	if !found {
		t.Errorf("got baselines %+v, want a cost baseline of 20 samples at 1", h.store.baselines)
	}
}

func TestScopeFilters(t *testing.T) {
	r := costRule(1)
	r.Scope = store.AlertScope{Service: "billing"}
	h := newHarness(t, r)
	h.observe(repeat(20, call{cost: 1})...)
	h.observe(call{cost: 5}) // service chat-svc: out of scope
	if got := h.open(store.RuleCostSpike); len(got) != 0 {
		t.Fatalf("out of scope: got %d alerts, want 0", len(got))
	}
	h.observe(repeat(20, call{cost: 1, service: "billing"})...)
	h.observe(call{cost: 5, service: "billing"})
	if got := h.open(store.RuleCostSpike); len(got) != 1 || got[0].Service != "billing" {
		t.Fatalf("in scope: got %+v, want one alert on billing", got)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newHarness(t, costRule(1))
	h.e = New(Config{Registerer: reg}, h.store, h.clock.now, nil, nil)
	if err := h.e.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	base := h.observe(repeat(20, call{cost: 1})...)
	h.e.Observe(context.Background(), base)
	h.observe(call{cost: 5})
	got := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "/" + l.GetValue()
			}
			got[name] = m.GetCounter().GetValue()
		}
	}
	for name, want := range map[string]float64{
		"lumina_alert_spans_total/evaluated":   21,
		"lumina_alert_spans_total/redelivered": 20,
		"lumina_alerts_fired_total/cost_spike": 1,
	} {
		if got[name] != want {
			t.Errorf("%s: got %v, want %v", name, got[name], want)
		}
	}
}

// TestConcurrentObserve runs Observe from several worker loops at once, with ticks in
// between (run it with -race): every span counts once and one spike opens one alert.
func TestConcurrentObserve(t *testing.T) {
	h := newHarness(t, costRule(1))
	var batches []store.Batch
	for range 8 {
		var b store.Batch
		for range 25 {
			h.n++
			b.Spans = append(b.Spans, h.span(call{cost: 1}))
		}
		batches = append(batches, b)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, b := range batches[2*i : 2*i+2] {
				h.e.Observe(ctx, b)
				h.e.Observe(ctx, b) // redelivered
				h.e.Tick(ctx)
			}
		}()
	}
	wg.Wait()
	spikes := make([]store.Batch, 4)
	for i := range spikes {
		h.n++
		spikes[i].Spans = []genai.Span{h.span(call{cost: 9})}
	}
	for _, b := range spikes {
		wg.Add(1)
		go func() { defer wg.Done(); h.e.Observe(ctx, b) }()
	}
	wg.Wait()
	alerts := h.store.alertsOf(store.RuleCostSpike)
	if len(alerts) != 1 {
		t.Fatalf("got %d alerts, want 1", len(alerts))
	}
	if got := h.e.keys[Key{Project: "p", Service: "chat-svc", Endpoint: "chat gpt-4o", Model: "gpt-4o"}].dists[MetricCost].summary(h.clock.now().UnixNano()).Count; got != 204 {
		t.Errorf("cost baseline count: got %d, want 204 (200 + 4 spikes, redeliveries not counted)", got)
	}
}

// An evaluation with nothing to store does not wait for another's slow alert write: it
// would wait holding the engine's lock, and every consume loop's evaluation behind it.
func TestEvaluationWithNothingToStoreDoesNotWait(t *testing.T) {
	h := newHarness(t, costRule(1))
	h.observe(repeat(20, call{cost: 1})...)
	writing, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h.store.mu.Lock()
	h.store.stall = func() { once.Do(func() { close(writing); <-release }) }
	h.store.mu.Unlock()
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	ctx := context.Background()
	h.clock.add(time.Second)
	spike := store.Batch{Spans: []genai.Span{h.span(call{cost: 10})}}
	fired := make(chan struct{})
	go func() { h.e.Observe(ctx, spike); close(fired) }()
	<-writing // the spike's alert is being written
	quiet := store.Batch{Spans: []genai.Span{h.span(call{cost: 1, service: "other-svc"})}}
	observed := make(chan struct{})
	go func() { h.e.Observe(ctx, quiet); close(observed) }()
	select {
	case <-observed:
	case <-time.After(5 * time.Second):
		t.Fatal("an evaluation with nothing to store waited for another evaluation's alert write")
	}
	close(release)
	<-fired
	if got := h.open(store.RuleCostSpike); len(got) != 1 {
		t.Errorf("got %d open cost alerts after the write went through, want 1", len(got))
	}
}

func TestBudgetPerUser(t *testing.T) {
	rule := store.AlertRule{Type: store.RuleBudget, Threshold: 2, Period: PeriodMonth, Scope: store.AlertScope{User: "u-42"}}
	h := newHarness(t, rule)
	h.observe(repeat(5, call{cost: 1, user: "someone-else"})...) // $5, not u-42's
	if got := h.open(store.RuleBudget); len(got) != 0 {
		t.Fatalf("other users' spend: got %d alerts, want 0", len(got))
	}
	h.observe(call{cost: 1, user: "u-42"}, call{cost: 1, user: "u-42"}) // $2: at the budget
	if got := h.open(store.RuleBudget); len(got) != 0 {
		t.Fatalf("at the budget: got %d alerts, want 0", len(got))
	}
	h.observe(call{cost: 0.01, user: "u-42"})
	got := h.open(store.RuleBudget)
	if len(got) != 1 || got[0].Observed != 2.01 {
		t.Fatalf("over the budget: got %+v, want one alert at $2.01", got)
	}
	// The per-user spend survives a restart through the shared accumulators.
	h.e.exchangeSpend(context.Background())
	e := New(Config{}, h.store, h.clock.now, nil, nil)
	if err := e.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sp := e.budgets[budgetKey{project: "p", period: PeriodMonth, start: periodStart(h.clock.now(), PeriodMonth).UnixNano(), user: "u-42"}]; sp == nil || sp.usd() != 2.01 {
		t.Errorf("restored spend of u-42: got %+v, want $2.01", sp)
	}
	bad := store.AlertRule{Type: store.RuleCostSpike, Threshold: 0.2, Scope: store.AlertScope{User: "u"}}
	if err := ValidateRule(&bad); err == nil {
		t.Error("a cost rule scoped to a user validated")
	}
}

func TestNoData(t *testing.T) {
	rule := store.AlertRule{Type: store.RuleNoData, WindowDuration: 10 * time.Minute, MinSamples: 5}
	h := newHarness(t, rule)
	tick := func() { h.e.Tick(context.Background()) }

	// A key with too few requests never counts as silent.
	h.observe(repeat(4, call{cost: 1, service: "rare"})...)
	h.observe(repeat(5, call{cost: 1})...)
	h.clock.add(9 * time.Minute)
	tick()
	if got := h.open(store.RuleNoData); len(got) != 0 {
		t.Fatalf("9 minutes of silence, window 10: got %d alerts, want 0", len(got))
	}
	h.clock.add(2 * time.Minute)
	tick()
	got := h.open(store.RuleNoData)
	if len(got) != 1 || got[0].Service != "chat-svc" || got[0].Observed < 10 || got[0].Threshold != 10 ||
		!strings.Contains(got[0].Explanation, "no request from") || got[0].TraceID == "" {
		t.Fatalf("11 minutes of silence: got %+v, want one no_data alert on chat-svc naming the last trace", got)
	}
	tick() // still silent: one alert, not a second, and no repeat counted per tick
	if got := h.open(store.RuleNoData); len(got) != 1 || got[0].Count != 1 {
		t.Fatalf("another tick: got %+v, want the same single alert", got)
	}
	// Traffic returns: resolved at once, by the request.
	h.observe(call{cost: 1})
	if got := h.open(store.RuleNoData); len(got) != 0 {
		t.Fatalf("after a request: got %d open, want 0", len(got))
	}
	if a := h.store.alertsOf(store.RuleNoData)[0]; a.ResolvedBy != "auto" {
		t.Errorf("resolved by %q, want auto", a.ResolvedBy)
	}
}

func TestNoDataValidation(t *testing.T) {
	for _, r := range []store.AlertRule{
		{Type: store.RuleNoData, Threshold: 5},
		{Type: store.RuleNoData, MinSamples: maxWindowRequests + 1},
	} {
		if err := ValidateRule(&r); err == nil {
			t.Errorf("ValidateRule(%+v): got nil error", r)
		}
	}
	r := store.AlertRule{Type: store.RuleNoData}
	if err := ValidateRule(&r); err != nil || r.MinSamples != 10 || r.WindowDuration != 15*time.Minute {
		t.Errorf("defaults: got %+v, %v; want 10 samples over 15 minutes", r, err)
	}
}
