package web

import (
	"context"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// aid is a deterministic alert id that looks like a real one.
func aid(n int) string { return hexOf("alert", n, 32) }

// seedAlerts writes rules, channels, alerts (one per status, one hostile, one in another
// project, one outside the default window) and the delivery attempts of the first alert.
func seedAlerts(t testing.TB, st store.AlertStore) {
	t.Helper()
	ctx := context.Background()
	rules := []store.AlertRule{
		{ID: "rule-cost", ProjectID: "default", Type: store.RuleCostSpike, Name: "Cost spike", Enabled: true, Severity: store.SeverityWarning,
			Threshold: 0.2, Stat: "mean", WindowRequests: 10, WindowDuration: 15 * time.Minute, MinSamples: 20, Cooldown: 30 * time.Minute},
		{ID: "rule-quality", ProjectID: "default", Type: store.RuleQualityDrop, Name: "Quality drop", Enabled: true, Severity: store.SeverityWarning,
			Threshold: 0.7, WindowRequests: 10, WindowDuration: 15 * time.Minute, MinSamples: 5, Cooldown: 30 * time.Minute},
		{ID: "rule-budget", ProjectID: "default", Type: store.RuleBudget, Name: "Daily budget", Enabled: false, Severity: store.SeverityCritical,
			Threshold: 50, Period: "day", WindowRequests: 10, WindowDuration: 15 * time.Minute, Cooldown: time.Hour},
		{ID: "rule-other", ProjectID: "someone-else", Type: store.RuleCostSpike, Name: "Not yours", Enabled: true, Severity: store.SeverityWarning,
			Threshold: 0.2, Stat: "mean", WindowRequests: 10, WindowDuration: 15 * time.Minute},
	}
	for _, r := range rules {
		r.CreatedAt, r.UpdatedAt = testNow.Add(-48*time.Hour), testNow.Add(-48*time.Hour)
		if err := st.PutAlertRule(ctx, r); err != nil {
			t.Fatalf("seed rule: %v", err)
		}
	}
	chans := []store.Channel{
		{ID: "ch-ops", ProjectID: "default", Type: store.ChannelWebhook, Name: "Ops webhook", URL: "https://hooks.example.com/T0/secret-path",
			Secret: "s3cret", Enabled: true, CreatedAt: testNow.Add(-72 * time.Hour)},
		{ID: "ch-slack", ProjectID: "default", Type: store.ChannelSlack, Name: "#llm-alerts", URL: "https://hooks.slack.com/services/T/B/XYZ",
			MinSeverity: store.SeverityCritical, Enabled: false, CreatedAt: testNow.Add(-71 * time.Hour)},
	}
	for _, c := range chans {
		if err := st.PutChannel(ctx, c); err != nil {
			t.Fatalf("seed channel: %v", err)
		}
	}
	alerts := []store.Alert{
		{ID: aid(1), RuleID: "rule-cost", Type: store.RuleCostSpike, Severity: store.SeverityCritical, Status: store.AlertFiring,
			Service: "rag-api", Endpoint: "answer_question", Model: "gpt-4o", Metric: "cost_usd", Observed: 0.0062, Baseline: 0.004, Threshold: 0.0048,
			TraceID: tid(4), SpanID: sid(43), Explanation: "Cost per request $0.0062 is 55% above the baseline mean $0.0040 (threshold +20%).",
			Count: 7, FiredAt: testNow.Add(-30 * time.Minute), LastSeenAt: testNow.Add(-2 * time.Minute)},
		{ID: aid(2), RuleID: "rule-quality", Type: store.RuleQualityDrop, Severity: store.SeverityWarning, Status: store.AlertAcknowledged,
			Service: "support-bot", Metric: "quality", Observed: 0.55, Threshold: 0.7, TraceID: tid(3),
			Explanation: "Rolling quality 0.55 is below 0.7.", Count: 3, FiredAt: testNow.Add(-3 * time.Hour), LastSeenAt: testNow.Add(-time.Hour),
			AcknowledgedAt: testNow.Add(-150 * time.Minute)},
		{ID: aid(3), RuleID: "rule-cost", Type: store.RuleLatencySpike, Severity: store.SeverityInfo, Status: store.AlertResolved,
			Service: "rag-api", Metric: "latency_ms", Observed: 2400, Baseline: 1500, Threshold: 2250,
			Explanation: "Latency 2.40s is 60% above the baseline.", Count: 1, FiredAt: testNow.Add(-48 * time.Hour), LastSeenAt: testNow.Add(-48 * time.Hour),
			ResolvedAt: testNow.Add(-47 * time.Hour), ResolvedBy: "auto"},
		{ID: aid(4), RuleID: "rule-quality", Type: store.RuleQualityDrop, Severity: store.SeverityWarning, Status: store.AlertFiring,
			Service: xssPayload, Metric: "quality", Observed: 0.4, Threshold: 0.7,
			Explanation: "Quality of " + xssPayload + " dropped.", Count: 1, FiredAt: testNow.Add(-50 * time.Minute), LastSeenAt: testNow.Add(-50 * time.Minute)},
		{ID: aid(5), RuleID: "rule-cost", Type: store.RuleErrorRate, Severity: store.SeverityWarning, Status: store.AlertFiring,
			Service: "batch-jobs", Metric: "error_rate", Observed: 0.3, Threshold: 0.1,
			Explanation: "30% of requests failed.", Count: 2, FiredAt: testNow.Add(-10 * 24 * time.Hour), LastSeenAt: testNow.Add(-10 * 24 * time.Hour)},
	}
	for i := range alerts {
		alerts[i].ProjectID, alerts[i].DedupKey = "default", "key-"+alerts[i].ID[:6]
	}
	other := store.Alert{ID: aid(9), ProjectID: "someone-else", RuleID: "rule-other", Type: store.RuleCostSpike, Severity: store.SeverityCritical,
		Status: store.AlertFiring, DedupKey: "k", Service: "other-project-svc", Metric: "cost_usd", Observed: 1, Baseline: 0.5, Threshold: 0.6,
		Explanation: "Not yours.", Count: 1, FiredAt: testNow.Add(-20 * time.Minute), LastSeenAt: testNow.Add(-20 * time.Minute)}
	for _, a := range append(alerts, other) {
		if err := st.PutAlert(ctx, a); err != nil {
			t.Fatalf("seed alert: %v", err)
		}
	}
	ds := []store.Delivery{
		{ID: "d-1", ProjectID: "default", AlertID: aid(1), ChannelID: "ch-ops", Event: store.EventTrigger, Alert: alerts[0],
			Status: store.DeliveryPending, Attempts: 2, NextAttempt: testNow.Add(4 * time.Minute), LastStatus: 503, LastError: "503 Service Unavailable",
			CreatedAt: testNow.Add(-30 * time.Minute), UpdatedAt: testNow.Add(-time.Minute)},
	}
	if err := st.EnqueueDeliveries(ctx, ds); err != nil {
		t.Fatalf("seed deliveries: %v", err)
	}
	if err := st.UpdateDelivery(ctx, ds[0]); err != nil {
		t.Fatalf("seed delivery attempt: %v", err)
	}
}
