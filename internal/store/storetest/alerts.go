package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// alertTests is the AlertStore part of the suite, run by Run.
var alertTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"AlertRules", testAlertRules},
	{"AlertForwardOnly", testAlertForwardOnly},
	{"AlertQuery", testAlertQuery},
	{"AlertBaselines", testAlertBaselines},
	{"AlertChannels", testAlertChannels},
	{"AlertOutbox", testAlertOutbox},
	{"AlertOutboxClaimed", testAlertOutboxClaimed},
	{"ChannelDeliveries", testChannelDeliveries},
	{"AlertDedup", testAlertDedup},
	{"AlertOpenRace", testAlertOpenRace},
	{"AlertSpend", testAlertSpend},
	{"AlertBaselineParts", testBaselineParts},
}

func runAlertTests(t *testing.T, open Opener) {
	for _, tt := range alertTests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func alertID(n int) string { return fmt.Sprintf("%032x", 0xc000_0000+n) }

func testAlertRules(t *testing.T, s store.Store) {
	ctx := context.Background()
	r1 := store.AlertRule{ID: "r1", ProjectID: projectA, Type: store.RuleCostSpike, Name: "cost", Enabled: true,
		Severity: store.SeverityWarning, Threshold: 0.2, Stat: "mean", WindowRequests: 10, WindowDuration: 10 * time.Minute,
		MinSamples: 20, Scope: store.AlertScope{Service: "svc", Model: "gpt"}, Cooldown: time.Hour,
		CreatedAt: at(0), UpdatedAt: at(time.Second)}
	r2 := store.AlertRule{ID: "r2", ProjectID: projectA, Type: store.RuleBudget, Threshold: 100, Period: "day", CreatedAt: at(0), UpdatedAt: at(0)}
	rb := store.AlertRule{ID: "r1", ProjectID: projectB, Type: store.RuleErrorRate, CreatedAt: at(0), UpdatedAt: at(0)}
	for _, r := range []store.AlertRule{r2, r1, rb} {
		if err := s.PutAlertRule(ctx, r); err != nil {
			t.Fatalf("PutAlertRule(%s/%s): %v", r.ProjectID, r.ID, err)
		}
	}
	got, err := s.AlertRules(ctx, projectA)
	if err != nil {
		t.Fatalf("AlertRules: %v", err)
	}
	diff(t, "AlertRules(A)", got, []store.AlertRule{r1, r2})
	all, err := s.AlertRules(ctx, "")
	if err != nil {
		t.Fatalf("AlertRules(all): %v", err)
	}
	diff(t, "AlertRules(all)", all, []store.AlertRule{r1, r2, rb})

	r1.Enabled, r1.Threshold = false, 0.5
	if err := s.PutAlertRule(ctx, r1); err != nil {
		t.Fatalf("PutAlertRule(replace): %v", err)
	}
	if err := s.DeleteAlertRule(ctx, projectA, "r2"); err != nil {
		t.Fatalf("DeleteAlertRule: %v", err)
	}
	got, _ = s.AlertRules(ctx, projectA)
	diff(t, "AlertRules after replace and delete", got, []store.AlertRule{r1})
	for _, tc := range []struct{ p, id string }{{projectA, "r2"}, {projectB, "r2"}, {projectA, "none"}} {
		if err := s.DeleteAlertRule(ctx, tc.p, tc.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteAlertRule(%s, %s): got %v, want ErrNotFound", tc.p, tc.id, err)
		}
	}
}

func sampleAlert(p string, n int, typ, sev, service string, fired time.Duration) store.Alert {
	return store.Alert{
		ID: alertID(n), ProjectID: p, RuleID: "rule-" + typ, Type: typ, Severity: sev, Status: store.AlertFiring,
		DedupKey: "rule-" + typ + "|" + service, Service: service, Endpoint: "chat", Model: "gpt-4o", Metric: "cost_usd",
		Observed: 0.5, Baseline: 0.1, Threshold: 0.2, TraceID: traceID(n), SpanID: spanID(n),
		Explanation: "cost per request $0.50 is 400% over the baseline $0.10", Count: 1,
		FiredAt: at(fired), LastSeenAt: at(fired),
	}
}

func testAlertForwardOnly(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := sampleAlert(projectA, 1, store.RuleCostSpike, store.SeverityWarning, "svc", 0)
	if err := s.PutAlert(ctx, a); err != nil {
		t.Fatalf("PutAlert: %v", err)
	}
	got, err := s.Alert(ctx, projectA, a.ID)
	if err != nil {
		t.Fatalf("Alert: %v", err)
	}
	diff(t, "Alert round trip", got, a)

	// A user acknowledges; the engine then counts a repeat with its stale status.
	acked := a
	acked.Status, acked.AcknowledgedAt = store.AlertAcknowledged, at(time.Minute)
	if err := s.PutAlert(ctx, acked); err != nil {
		t.Fatalf("PutAlert(ack): %v", err)
	}
	repeat := a
	repeat.Count, repeat.LastSeenAt = 2, at(2*time.Minute)
	if err := s.PutAlert(ctx, repeat); err != nil {
		t.Fatalf("PutAlert(repeat): %v", err)
	}
	want := repeat
	want.Status, want.AcknowledgedAt = store.AlertAcknowledged, at(time.Minute)
	got, _ = s.Alert(ctx, projectA, a.ID)
	diff(t, "Alert after ack then a stale repeat", got, want)

	resolved := repeat
	resolved.Status, resolved.ResolvedAt, resolved.ResolvedBy = store.AlertResolved, at(3*time.Minute), "user"
	if err := s.PutAlert(ctx, resolved); err != nil {
		t.Fatalf("PutAlert(resolve): %v", err)
	}
	later := resolved
	later.ResolvedAt, later.ResolvedBy = at(4*time.Minute), "auto"
	if err := s.PutAlert(ctx, later); err != nil {
		t.Fatalf("PutAlert(second resolve): %v", err)
	}
	want = resolved
	want.AcknowledgedAt = at(time.Minute)
	got, _ = s.Alert(ctx, projectA, a.ID)
	diff(t, "Alert after two resolves (the first wins)", got, want)

	if _, err := s.Alert(ctx, projectB, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Alert of another project: got %v, want ErrNotFound", err)
	}
	open, err := s.OpenAlerts(ctx)
	if err != nil {
		t.Fatalf("OpenAlerts: %v", err)
	}
	if len(open) != 0 {
		t.Errorf("OpenAlerts after resolve: got %d, want 0", len(open))
	}
}

func testAlertQuery(t *testing.T, s store.Store) {
	ctx := context.Background()
	var all []store.Alert
	for i := range 7 {
		typ, sev := store.RuleCostSpike, store.SeverityWarning
		if i%2 == 1 {
			typ, sev = store.RuleQualityDrop, store.SeverityCritical
		}
		a := sampleAlert(projectA, i, typ, sev, fmt.Sprintf("svc%d", i%3), time.Duration(i/2)*time.Minute) // ties on FiredAt
		if i == 6 {
			a.Status, a.ResolvedAt, a.ResolvedBy = store.AlertResolved, at(time.Hour), "auto"
		}
		all = append(all, a)
	}
	other := sampleAlert(projectB, 100, store.RuleCostSpike, store.SeverityWarning, "svc0", 0)
	for _, a := range append(all, other) {
		if err := s.PutAlert(ctx, a); err != nil {
			t.Fatalf("PutAlert: %v", err)
		}
	}
	ids := func(as []store.Alert) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	list := func(q store.AlertQuery) []store.Alert {
		t.Helper()
		q.ProjectID = projectA
		return allPages(t, "Alerts", q.Limit, func(cursor string) ([]store.Alert, string, error) {
			q.Cursor = cursor
			page, err := s.Alerts(ctx, q)
			return page.Alerts, page.NextCursor, err
		})
	}
	// Newest first; ties on FiredAt broken by id, descending.
	wantAll := []string{alertID(6), alertID(5), alertID(4), alertID(3), alertID(2), alertID(1), alertID(0)}
	diff(t, "Alerts (all)", ids(list(store.AlertQuery{})), wantAll)
	diff(t, "Alerts (pages of 2)", ids(list(store.AlertQuery{Limit: 2})), wantAll)
	diff(t, "Alerts (type)", ids(list(store.AlertQuery{Type: store.RuleQualityDrop})), []string{alertID(5), alertID(3), alertID(1)})
	diff(t, "Alerts (severity)", ids(list(store.AlertQuery{Severity: store.SeverityWarning, Limit: 1})), []string{alertID(6), alertID(4), alertID(2), alertID(0)})
	diff(t, "Alerts (status)", ids(list(store.AlertQuery{Status: store.AlertResolved})), []string{alertID(6)})
	diff(t, "Alerts (service)", ids(list(store.AlertQuery{Service: "svc0"})), []string{alertID(6), alertID(3), alertID(0)})
	diff(t, "Alerts (time)", ids(list(store.AlertQuery{Since: at(time.Minute), Until: at(3 * time.Minute)})), []string{alertID(5), alertID(4), alertID(3), alertID(2)})
	diff(t, "Alerts (trace)", ids(list(store.AlertQuery{TraceID: all[4].TraceID})), []string{alertID(4)})
	if _, err := s.Alerts(ctx, store.AlertQuery{ProjectID: projectA, Cursor: "%%%"}); !errors.Is(err, store.ErrInvalidCursor) {
		t.Errorf("Alerts with a bad cursor: got %v, want ErrInvalidCursor", err)
	}

	open, err := s.OpenAlerts(ctx)
	if err != nil {
		t.Fatalf("OpenAlerts: %v", err)
	}
	if len(open) != 7 { // six of A, one of B
		t.Errorf("OpenAlerts: got %d, want 7", len(open))
	}
	counts, err := s.AlertCounts(ctx, projectA, at(time.Minute))
	if err != nil {
		t.Fatalf("AlertCounts: %v", err)
	}
	diff(t, "AlertCounts", counts, []store.AlertCount{
		{Type: store.RuleCostSpike, Severity: store.SeverityWarning, Status: store.AlertFiring, Count: 2},
		{Type: store.RuleCostSpike, Severity: store.SeverityWarning, Status: store.AlertResolved, Count: 1},
		{Type: store.RuleQualityDrop, Severity: store.SeverityCritical, Status: store.AlertFiring, Count: 2},
	})
}

func testAlertBaselines(t *testing.T, s store.Store) {
	ctx := context.Background()
	b1 := store.Baseline{ProjectID: projectA, Service: "svc", Endpoint: "chat", Model: "gpt-4o", Metric: "cost_usd",
		WindowStart: at(-time.Hour), Count: 40, Sum: 4, Mean: 0.1, P50: 0.09, P95: 0.2, P99: 0.3, UpdatedAt: at(0), State: []byte{1, 2, 0, 255}}
	b2 := b1
	b2.Metric, b2.State = "latency_ms", []byte("x")
	b3 := b1
	b3.ProjectID = projectB
	if err := s.PutBaselines(ctx, []store.Baseline{b2, b1, b3}); err != nil {
		t.Fatalf("PutBaselines: %v", err)
	}
	b1.Count, b1.Mean, b1.State = 41, 0.11, []byte{9}
	if err := s.PutBaselines(ctx, []store.Baseline{b1}); err != nil {
		t.Fatalf("PutBaselines(replace): %v", err)
	}
	all, err := s.Baselines(ctx, "")
	if err != nil {
		t.Fatalf("Baselines(all): %v", err)
	}
	diff(t, "Baselines(all), with state", all, []store.Baseline{b1, b2, b3})
	got, err := s.Baselines(ctx, projectA)
	if err != nil {
		t.Fatalf("Baselines(A): %v", err)
	}
	b1.State, b2.State = nil, nil
	diff(t, "Baselines(A), without state", got, []store.Baseline{b1, b2})
}

func testAlertChannels(t *testing.T, s store.Store) {
	ctx := context.Background()
	c1 := store.Channel{ID: "c1", ProjectID: projectA, Type: store.ChannelWebhook, Name: "hook", URL: "http://x/hook",
		Secret: "s3cret", MinSeverity: store.SeverityWarning, Enabled: true, CreatedAt: at(0)}
	c2 := store.Channel{ID: "c2", ProjectID: projectA, Type: store.ChannelPagerDuty, RoutingKey: "rk", Enabled: true, CreatedAt: at(0)}
	cb := store.Channel{ID: "c1", ProjectID: projectB, Type: store.ChannelSlack, URL: "http://slack", CreatedAt: at(0)}
	for _, c := range []store.Channel{c2, c1, cb} {
		if err := s.PutChannel(ctx, c); err != nil {
			t.Fatalf("PutChannel: %v", err)
		}
	}
	got, err := s.Channels(ctx, projectA)
	if err != nil {
		t.Fatalf("Channels: %v", err)
	}
	diff(t, "Channels(A)", got, []store.Channel{c1, c2})
	if err := s.DeleteChannel(ctx, projectA, "c1"); err != nil {
		t.Fatalf("DeleteChannel: %v", err)
	}
	if err := s.DeleteChannel(ctx, projectA, "c1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second DeleteChannel: got %v, want ErrNotFound", err)
	}
	all, _ := s.Channels(ctx, "")
	diff(t, "Channels(all) after delete", all, []store.Channel{c2, cb})
}

func testAlertOutbox(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := sampleAlert(projectA, 1, store.RuleCostSpike, store.SeverityWarning, "svc", 0)
	mk := func(id, ch string, next time.Duration) store.Delivery {
		return store.Delivery{ID: id, ProjectID: projectA, AlertID: a.ID, ChannelID: ch, Event: store.EventTrigger,
			Alert: a, Status: store.DeliveryPending, NextAttempt: at(next), CreatedAt: at(next), UpdatedAt: at(next)}
	}
	d1, d2, d3 := mk("d1", "c1", 0), mk("d2", "c2", time.Second), mk("d3", "c1", time.Hour)
	if err := s.EnqueueDeliveries(ctx, []store.Delivery{d3, d1, d2}); err != nil {
		t.Fatalf("EnqueueDeliveries: %v", err)
	}
	// Enqueueing again (a redelivered batch) leaves the stored items alone.
	again := d1
	again.Event = store.EventResolve
	if err := s.EnqueueDeliveries(ctx, []store.Delivery{again}); err != nil {
		t.Fatalf("EnqueueDeliveries(again): %v", err)
	}
	due, err := s.DueDeliveries(ctx, at(time.Minute), 10)
	if err != nil {
		t.Fatalf("DueDeliveries: %v", err)
	}
	diff(t, "DueDeliveries", due, []store.Delivery{d1, d2})
	if due, _ := s.DueDeliveries(ctx, at(time.Minute), 1); len(due) != 1 || due[0].ID != "d1" {
		t.Errorf("DueDeliveries(limit 1): got %+v, want d1", due)
	}
	d1.Status, d1.Attempts, d1.LastStatus, d1.UpdatedAt = store.DeliveryDelivered, 1, 200, at(time.Second)
	d2.Attempts, d2.LastStatus, d2.LastError, d2.NextAttempt = 1, 500, "500 Internal Server Error", at(2*time.Minute)
	for _, d := range []store.Delivery{d1, d2} {
		if err := s.UpdateDelivery(ctx, d); err != nil {
			t.Fatalf("UpdateDelivery(%s): %v", d.ID, err)
		}
	}
	if err := s.UpdateDelivery(ctx, mk("none", "c1", 0)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateDelivery(unknown): got %v, want ErrNotFound", err)
	}
	due, _ = s.DueDeliveries(ctx, at(time.Minute), 10)
	if len(due) != 0 {
		t.Errorf("DueDeliveries after the attempts: got %d, want 0", len(due))
	}
	due, _ = s.DueDeliveries(ctx, at(2*time.Hour), 10)
	diff(t, "DueDeliveries later", due, []store.Delivery{d2, d3})
	// Claiming leases the due items: a second claim finds nothing until the lease ends.
	claimed, err := s.ClaimDeliveries(ctx, at(2*time.Hour), time.Minute, 10)
	if err != nil {
		t.Fatalf("ClaimDeliveries: %v", err)
	}
	diff(t, "ClaimDeliveries", claimed, []store.Delivery{d2, d3})
	if again, _ := s.ClaimDeliveries(ctx, at(2*time.Hour+time.Second), time.Minute, 10); len(again) != 0 {
		t.Errorf("ClaimDeliveries within the lease: got %d, want 0", len(again))
	}
	if due, _ := s.DueDeliveries(ctx, at(2*time.Hour+time.Second), 10); len(due) != 0 {
		t.Errorf("DueDeliveries within the lease: got %d, want 0", len(due))
	}
	if again, _ := s.ClaimDeliveries(ctx, at(2*time.Hour+time.Minute), time.Minute, 1); len(again) != 1 || again[0].ID != "d2" {
		t.Errorf("ClaimDeliveries after the lease (limit 1): got %+v, want d2", again)
	}
	list, err := s.Deliveries(ctx, projectA, a.ID)
	if err != nil {
		t.Fatalf("Deliveries: %v", err)
	}
	diff(t, "Deliveries of the alert", list, []store.Delivery{d1, d2, d3})
	if list, _ := s.Deliveries(ctx, projectB, a.ID); len(list) != 0 {
		t.Errorf("Deliveries of another project: got %d, want 0", len(list))
	}
}

// testAlertOutboxClaimed checks items enqueued claimed: returned when new, kept from
// every claim until the lease ends, then due like any other.
func testAlertOutboxClaimed(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := sampleAlert(projectA, 2, store.RuleCostSpike, store.SeverityWarning, "svc", 0)
	mk := func(id string) store.Delivery {
		return store.Delivery{ID: id, ProjectID: projectA, AlertID: a.ID, ChannelID: "c1", Event: store.EventTrigger,
			Alert: a, Status: store.DeliveryPending, NextAttempt: at(0), CreatedAt: at(0), UpdatedAt: at(0)}
	}
	old, e1, e2 := mk("e0"), mk("e1"), mk("e2")
	if err := s.EnqueueDeliveries(ctx, []store.Delivery{old}); err != nil {
		t.Fatalf("EnqueueDeliveries: %v", err)
	}
	added, err := s.EnqueueClaimed(ctx, []store.Delivery{e2, old, e1}, at(time.Minute))
	if err != nil {
		t.Fatalf("EnqueueClaimed: %v", err)
	}
	diff(t, "EnqueueClaimed (the new items)", added, []store.Delivery{e2, e1})
	if again, err := s.EnqueueClaimed(ctx, []store.Delivery{e1}, at(time.Minute)); err != nil || len(again) != 0 {
		t.Errorf("EnqueueClaimed again: got %+v, %v; want none", again, err)
	}
	claimed, err := s.ClaimDeliveries(ctx, at(time.Second), time.Hour, 10)
	if err != nil {
		t.Fatalf("ClaimDeliveries: %v", err)
	}
	diff(t, "ClaimDeliveries within the lease", claimed, []store.Delivery{old})
	claimed, _ = s.ClaimDeliveries(ctx, at(time.Minute), time.Hour, 10)
	diff(t, "ClaimDeliveries after the lease", claimed, []store.Delivery{e1, e2})
	list, _ := s.Deliveries(ctx, projectA, a.ID)
	diff(t, "Deliveries of the alert", list, []store.Delivery{old, e1, e2})
}
