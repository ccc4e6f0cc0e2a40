package alert

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// WebhookPayload is the JSON body of a generic webhook delivery.
type WebhookPayload struct {
	Event      string       `json:"event"` // trigger, resolve or test
	DeliveryID string       `json:"delivery_id"`
	SentAt     time.Time    `json:"sent_at"`
	Alert      WebhookAlert `json:"alert"`
	// URL links to the triggering trace in the dashboard, when a base URL is configured.
	URL string `json:"url,omitempty"`
}

// WebhookAlert is the alert in a webhook body: times that did not happen are null.
type WebhookAlert struct {
	store.Alert
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
}

func newWebhookAlert(a store.Alert) WebhookAlert {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return WebhookAlert{Alert: a, AcknowledgedAt: opt(a.AcknowledgedAt), ResolvedAt: opt(a.ResolvedAt)}
}

// Payloads renders deliveries in each channel's wire format.
type Payloads struct {
	// DashboardURL is the dashboard's base URL ("http://lumina:3000"); empty omits links.
	DashboardURL string
}

// title is the one-line headline of an alert event.
func title(event string, a *store.Alert) string {
	what := strings.ReplaceAll(a.Type, "_", " ")
	where := a.Service
	if a.Endpoint != "" {
		where += " / " + a.Endpoint
	}
	if a.Model != "" {
		where += " / " + a.Model
	}
	prefix := "[" + strings.ToUpper(a.Severity) + "] "
	switch event {
	case store.EventResolve:
		prefix = "[RESOLVED] "
	case store.EventTest:
		prefix = "[TEST] "
	}
	return prefix + what + " on " + strings.TrimSpace(where)
}

func (p Payloads) traceURL(a *store.Alert) string {
	if p.DashboardURL == "" || a.TraceID == "" {
		return ""
	}
	return strings.TrimSuffix(p.DashboardURL, "/") + "/traces/" + a.TraceID
}

// Webhook renders the generic webhook body.
func (p Payloads) Webhook(d *store.Delivery, sentAt time.Time) ([]byte, error) {
	return json.Marshal(WebhookPayload{Event: d.Event, DeliveryID: d.ID, SentAt: sentAt.UTC(), Alert: newWebhookAlert(d.Alert), URL: p.traceURL(&d.Alert)})
}

// Slack renders an incoming-webhook message with Block Kit blocks and a text fallback.
func (p Payloads) Slack(d *store.Delivery) ([]byte, error) {
	a := &d.Alert
	t := title(d.Event, a)
	fields := []map[string]any{
		{"type": "mrkdwn", "text": "*Observed*\n" + formatValue(a.Metric, a.Observed)},
		{"type": "mrkdwn", "text": "*Baseline*\n" + formatValue(a.Metric, a.Baseline)},
		{"type": "mrkdwn", "text": "*Status*\n" + a.Status},
		{"type": "mrkdwn", "text": fmt.Sprintf("*Repeats*\n%d", a.Count)},
	}
	blocks := []map[string]any{
		{"type": "header", "text": map[string]any{"type": "plain_text", "text": truncate(t, 150)}},
		{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": slackEscape(a.Explanation)}},
		{"type": "section", "fields": fields},
	}
	ctx := "trace `" + a.TraceID + "` span `" + a.SpanID + "` · alert `" + a.ID + "`"
	if u := p.traceURL(a); u != "" {
		ctx += " · <" + u + "|open trace>"
	}
	blocks = append(blocks, map[string]any{"type": "context", "elements": []map[string]any{{"type": "mrkdwn", "text": ctx}}})
	return json.Marshal(map[string]any{"text": t + ": " + a.Explanation, "blocks": blocks})
}

// PagerDutyEventsURL is the Events API v2 endpoint, used when a PagerDuty channel names no URL.
const PagerDutyEventsURL = "https://events.pagerduty.com/v2/enqueue"

// PagerDuty renders an Events API v2 event: trigger for a firing alert (and a test),
// resolve for a resolved one, with the alert id as dedup_key so both meet one incident.
func (p Payloads) PagerDuty(d *store.Delivery, routingKey string) ([]byte, error) {
	a := &d.Alert
	dedup := "lumina-" + a.ID
	if d.Event == store.EventResolve {
		return json.Marshal(map[string]any{"routing_key": routingKey, "event_action": "resolve", "dedup_key": dedup})
	}
	sev := map[string]string{store.SeverityCritical: "critical", store.SeverityWarning: "warning"}[a.Severity]
	if sev == "" {
		sev = "info"
	}
	ev := map[string]any{
		"routing_key": routingKey, "event_action": "trigger", "dedup_key": dedup,
		"payload": map[string]any{
			"summary": truncate(title(d.Event, a)+": "+a.Explanation, 1024), "source": "lumina/" + a.ProjectID,
			"severity": sev, "timestamp": a.FiredAt.UTC().Format(time.RFC3339Nano),
			"component": a.Service, "group": a.Endpoint, "class": a.Type,
			"custom_details": map[string]any{
				"metric": a.Metric, "observed": a.Observed, "baseline": a.Baseline, "threshold": a.Threshold,
				"model": a.Model, "trace_id": a.TraceID, "span_id": a.SpanID, "count": a.Count, "rule_id": a.RuleID,
			},
		},
		"client": "Lumina",
	}
	if u := p.traceURL(a); u != "" {
		ev["links"] = []map[string]string{{"href": u, "text": "Triggering trace"}}
	}
	return json.Marshal(ev)
}

// Discord renders a Discord webhook message with one embed.
func (p Payloads) Discord(d *store.Delivery) ([]byte, error) {
	a := &d.Alert
	color := map[string]int{store.SeverityCritical: 0xd92d20, store.SeverityWarning: 0xf79009}[a.Severity]
	if d.Event == store.EventResolve {
		color = 0x12b76a
	} else if color == 0 {
		color = 0x2e90fa
	}
	embed := map[string]any{
		"title": truncate(title(d.Event, a), 256), "description": truncate(a.Explanation, 4096), "color": color,
		"timestamp": a.LastSeenAt.UTC().Format(time.RFC3339),
		"fields": []map[string]any{
			{"name": "Observed", "value": formatValue(a.Metric, a.Observed), "inline": true},
			{"name": "Baseline", "value": formatValue(a.Metric, a.Baseline), "inline": true},
			{"name": "Trace", "value": "`" + a.TraceID + "`", "inline": false},
		},
	}
	if u := p.traceURL(a); u != "" {
		embed["url"] = u
	}
	return json.Marshal(map[string]any{"content": truncate(title(d.Event, a), 2000), "embeds": []any{embed},
		"allowed_mentions": map[string]any{"parse": []string{}}})
}

func formatValue(metric string, v float64) string {
	switch {
	case metric == MetricCost || strings.HasPrefix(metric, "spend_"):
		return fmt.Sprintf("$%.6g", v)
	case metric == MetricLatency:
		return fmt.Sprintf("%.0f ms", v)
	case metric == MetricErrors:
		return fmt.Sprintf("%.1f%%", 100*v)
	}
	return fmt.Sprintf("%.3g", v)
}

func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
