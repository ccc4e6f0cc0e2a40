package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/use-lumina/lumina/internal/alert"
	"github.com/use-lumina/lumina/internal/store"
)

// ChannelTester sends one test delivery to a channel right away and reports the HTTP
// status the channel answered (alert.Sender.Send, adapted).
type ChannelTester func(ctx context.Context, ch store.Channel, d store.Delivery) (status int, err error)

// RegisterAlerts adds the alert routes: rules, alerts (list, detail, acknowledge, resolve,
// stats), baselines and channels. Rule edits reach the worker's engine at its next tick.
func (s *Server) RegisterAlerts(mux *http.ServeMux, st store.AlertStore, test ChannelTester, now func() time.Time) {
	a := &alertRoutes{store: st, test: test, now: now}
	mux.HandleFunc("GET /api/v1/alert-rules", s.handle(a.listRules))
	mux.HandleFunc("POST /api/v1/alert-rules", s.handle(a.createRule))
	mux.HandleFunc("PATCH /api/v1/alert-rules/{id}", s.handle(a.patchRule))
	mux.HandleFunc("DELETE /api/v1/alert-rules/{id}", s.handle(a.deleteRule))
	mux.HandleFunc("GET /api/v1/alerts", s.handle(a.listAlerts))
	mux.HandleFunc("GET /api/v1/alerts/stats", s.handle(a.stats))
	mux.HandleFunc("GET /api/v1/alerts/{id}", s.handle(a.getAlert))
	mux.HandleFunc("POST /api/v1/alerts/{id}/acknowledge", s.handle(a.acknowledge))
	mux.HandleFunc("POST /api/v1/alerts/{id}/resolve", s.handle(a.resolve))
	mux.HandleFunc("GET /api/v1/baselines", s.handle(a.baselines))
	mux.HandleFunc("GET /api/v1/channels", s.handle(a.listChannels))
	mux.HandleFunc("POST /api/v1/channels", s.handle(a.createChannel))
	mux.HandleFunc("PATCH /api/v1/channels/{id}", s.handle(a.patchChannel))
	mux.HandleFunc("GET /api/v1/channels/{id}/deliveries", s.handle(a.channelDeliveries))
	mux.HandleFunc("DELETE /api/v1/channels/{id}", s.handle(a.deleteChannel))
	mux.HandleFunc("POST /api/v1/channels/{id}/test", s.handle(a.testChannel))
}

type alertRoutes struct {
	store store.AlertStore
	test  ChannelTester
	now   func() time.Time
}

// maxAlertBody bounds rule and channel bodies.
const maxAlertBody = 64 << 10

// ruleJSON is a rule as the API shows it: durations in seconds.
type ruleJSON struct {
	ID               string           `json:"id"`
	Type             string           `json:"type"`
	Name             string           `json:"name"`
	Enabled          bool             `json:"enabled"`
	Severity         string           `json:"severity"`
	Threshold        float64          `json:"threshold"`
	QualityThreshold float64          `json:"quality_threshold,omitempty"`
	Stat             string           `json:"stat,omitempty"`
	WindowRequests   int              `json:"window_requests"`
	WindowSeconds    float64          `json:"window_seconds"`
	MinSamples       int              `json:"min_samples"`
	Period           string           `json:"period,omitempty"`
	Scope            store.AlertScope `json:"scope"`
	CooldownSeconds  float64          `json:"cooldown_seconds"`
	CreatedAt        time.Time        `json:"created_at"`
	UpdatedAt        time.Time        `json:"updated_at"`
}

func newRuleJSON(r store.AlertRule) ruleJSON {
	return ruleJSON{
		ID: r.ID, Type: r.Type, Name: r.Name, Enabled: r.Enabled, Severity: r.Severity, Threshold: r.Threshold,
		QualityThreshold: r.QualityThreshold, Stat: r.Stat, WindowRequests: r.WindowRequests,
		WindowSeconds: r.WindowDuration.Seconds(), MinSamples: r.MinSamples, Period: r.Period, Scope: r.Scope,
		CooldownSeconds: r.Cooldown.Seconds(), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// rulePatch is a rule body: every field optional, so PATCH changes only what it names.
type rulePatch struct {
	Type             *string           `json:"type"`
	Name             *string           `json:"name"`
	Enabled          *bool             `json:"enabled"`
	Severity         *string           `json:"severity"`
	Threshold        *float64          `json:"threshold"`
	QualityThreshold *float64          `json:"quality_threshold"`
	Stat             *string           `json:"stat"`
	WindowRequests   *int              `json:"window_requests"`
	WindowSeconds    *float64          `json:"window_seconds"`
	MinSamples       *int              `json:"min_samples"`
	Period           *string           `json:"period"`
	Scope            *store.AlertScope `json:"scope"`
	CooldownSeconds  *float64          `json:"cooldown_seconds"`
}

func (p *rulePatch) apply(r *store.AlertRule) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&r.Type, p.Type)
	set(&r.Name, p.Name)
	set(&r.Severity, p.Severity)
	set(&r.Stat, p.Stat)
	set(&r.Period, p.Period)
	if p.Enabled != nil {
		r.Enabled = *p.Enabled
	}
	if p.Threshold != nil {
		r.Threshold = *p.Threshold
	}
	if p.QualityThreshold != nil {
		r.QualityThreshold = *p.QualityThreshold
	}
	if p.WindowRequests != nil {
		r.WindowRequests = *p.WindowRequests
	}
	if p.WindowSeconds != nil {
		r.WindowDuration = time.Duration(*p.WindowSeconds * float64(time.Second))
	}
	if p.MinSamples != nil {
		r.MinSamples = *p.MinSamples
	}
	if p.Scope != nil {
		r.Scope = *p.Scope
	}
	if p.CooldownSeconds != nil {
		r.Cooldown = time.Duration(*p.CooldownSeconds * float64(time.Second))
	}
}

// decodeBody decodes a bounded JSON body into v, rejecting unknown fields.
func decodeBody(r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxAlertBody))
	if err != nil {
		return errorf(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body over %d bytes", maxAlertBody))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "invalid_body", "JSON body: "+err.Error())
	}
	return nil
}

func (a *alertRoutes) rule(ctx context.Context, project, id string) (store.AlertRule, error) {
	rules, err := a.store.AlertRules(ctx, project)
	if err != nil {
		return store.AlertRule{}, err
	}
	for _, r := range rules {
		if r.ID == id {
			return r, nil
		}
	}
	return store.AlertRule{}, fmt.Errorf("alert rule %q: %w", id, store.ErrNotFound)
}

func (a *alertRoutes) listRules(ctx context.Context, project string, _ *http.Request) (any, error) {
	rules, err := a.store.AlertRules(ctx, project)
	if err != nil {
		return nil, err
	}
	out := []ruleJSON{}
	for _, r := range rules {
		out = append(out, newRuleJSON(r))
	}
	return map[string]any{"rules": out}, nil
}

func (a *alertRoutes) createRule(ctx context.Context, project string, r *http.Request) (any, error) {
	var p rulePatch
	if err := decodeBody(r, &p); err != nil {
		return nil, err
	}
	now := a.now().UTC()
	rule := store.AlertRule{ID: "rule-" + uuid.Must(uuid.NewV7()).String(), ProjectID: project, Enabled: true,
		Cooldown: 30 * time.Minute, CreatedAt: now, UpdatedAt: now}
	p.apply(&rule)
	if err := alert.ValidateRule(&rule); err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid_rule", err.Error())
	}
	if rule.Name == "" {
		rule.Name = rule.Type
	}
	if err := a.store.PutAlertRule(ctx, rule); err != nil {
		return nil, err
	}
	return newRuleJSON(rule), nil
}

func (a *alertRoutes) patchRule(ctx context.Context, project string, r *http.Request) (any, error) {
	rule, err := a.rule(ctx, project, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	var p rulePatch
	if err := decodeBody(r, &p); err != nil {
		return nil, err
	}
	p.apply(&rule)
	if err := alert.ValidateRule(&rule); err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid_rule", err.Error())
	}
	rule.UpdatedAt = a.now().UTC()
	if err := a.store.PutAlertRule(ctx, rule); err != nil {
		return nil, err
	}
	return newRuleJSON(rule), nil
}

func (a *alertRoutes) deleteRule(ctx context.Context, project string, r *http.Request) (any, error) {
	id := r.PathValue("id")
	if err := a.store.DeleteAlertRule(ctx, project, id); err != nil {
		return nil, err
	}
	return map[string]string{"deleted": id}, nil
}

// alertJSON is an alert as the API shows it: times that did not happen are null.
type alertJSON struct {
	store.Alert
	AcknowledgedAt *time.Time     `json:"acknowledged_at"`
	ResolvedAt     *time.Time     `json:"resolved_at"`
	Deliveries     []deliveryJSON `json:"deliveries,omitempty"`
}

type deliveryJSON struct {
	ID          string    `json:"id"`
	AlertID     string    `json:"alert_id"`
	ChannelID   string    `json:"channel_id"`
	Event       string    `json:"event"`
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastStatus  int       `json:"last_status,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func newDeliveryJSON(d store.Delivery) deliveryJSON {
	return deliveryJSON{ID: d.ID, AlertID: d.AlertID, ChannelID: d.ChannelID, Event: d.Event, Status: d.Status,
		Attempts: d.Attempts, NextAttempt: d.NextAttempt, LastStatus: d.LastStatus, LastError: d.LastError,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

func newAlertJSON(al store.Alert) alertJSON {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return alertJSON{Alert: al, AcknowledgedAt: opt(al.AcknowledgedAt), ResolvedAt: opt(al.ResolvedAt)}
}

func oneOf(q url.Values, name string, allowed ...string) (string, error) {
	v := q.Get(name)
	if v != "" && !slices.Contains(allowed, v) {
		return "", errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("%s %q: want one of %v", name, v, allowed))
	}
	return v, nil
}

func (a *alertRoutes) listAlerts(ctx context.Context, project string, r *http.Request) (any, error) {
	q := r.URL.Query()
	aq := store.AlertQuery{ProjectID: project, Service: q.Get("service"), Cursor: q.Get("cursor")}
	var err error
	if aq.Type, err = oneOf(q, "type", store.RuleCostSpike, store.RuleQualityDrop, store.RuleLatencySpike,
		store.RuleErrorRate, store.RuleBudget, store.RuleCostAndQuality, store.RuleNoData); err != nil {
		return nil, err
	}
	if aq.Severity, err = oneOf(q, "severity", store.SeverityInfo, store.SeverityWarning, store.SeverityCritical); err != nil {
		return nil, err
	}
	if aq.Status, err = oneOf(q, "status", store.AlertFiring, store.AlertAcknowledged, store.AlertResolved); err != nil {
		return nil, err
	}
	if aq.Since, err = timeParam(q, "since"); err != nil {
		return nil, err
	}
	if aq.Until, err = timeParam(q, "until"); err != nil {
		return nil, err
	}
	if v := q.Get("limit"); v != "" {
		if aq.Limit, err = strconv.Atoi(v); err != nil || aq.Limit < 1 || aq.Limit > 1000 {
			return nil, errorf(http.StatusBadRequest, "invalid_parameter", "limit must be 1..1000")
		}
	}
	page, err := a.store.Alerts(ctx, aq)
	if err != nil {
		return nil, err
	}
	out := []alertJSON{}
	for _, al := range page.Alerts {
		out = append(out, newAlertJSON(al))
	}
	return map[string]any{"alerts": out, "next_cursor": page.NextCursor}, nil
}

func (a *alertRoutes) getAlert(ctx context.Context, project string, r *http.Request) (any, error) {
	al, err := a.store.Alert(ctx, project, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	ds, err := a.store.Deliveries(ctx, project, al.ID)
	if err != nil {
		return nil, err
	}
	out := newAlertJSON(al)
	out.Deliveries = []deliveryJSON{}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, newDeliveryJSON(d))
	}
	return out, nil
}

// acknowledge moves a firing alert to acknowledged; the engine keeps counting its repeats
// but notifies no one again.
func (a *alertRoutes) acknowledge(ctx context.Context, project string, r *http.Request) (any, error) {
	al, err := a.store.Alert(ctx, project, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if al.Status == store.AlertResolved {
		return nil, errorf(http.StatusConflict, "alert_resolved", "the alert is resolved; it cannot be acknowledged")
	}
	if al.Status == store.AlertFiring {
		al.Status, al.AcknowledgedAt = store.AlertAcknowledged, a.now().UTC()
		if err := a.store.PutAlert(ctx, al); err != nil {
			return nil, err
		}
	}
	return a.reread(ctx, project, al.ID)
}

// resolve closes an alert by hand; the engine sends the resolve event to the channels at its
// next tick.
func (a *alertRoutes) resolve(ctx context.Context, project string, r *http.Request) (any, error) {
	al, err := a.store.Alert(ctx, project, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if al.Status != store.AlertResolved {
		al.Status, al.ResolvedAt, al.ResolvedBy = store.AlertResolved, a.now().UTC(), "user"
		if err := a.store.PutAlert(ctx, al); err != nil {
			return nil, err
		}
	}
	return a.reread(ctx, project, al.ID)
}

func (a *alertRoutes) reread(ctx context.Context, project, id string) (any, error) {
	al, err := a.store.Alert(ctx, project, id)
	if err != nil {
		return nil, err
	}
	return newAlertJSON(al), nil
}

func (a *alertRoutes) stats(ctx context.Context, project string, r *http.Request) (any, error) {
	since, err := timeParam(r.URL.Query(), "since")
	if err != nil {
		return nil, err
	}
	if since.IsZero() {
		since = a.now().Add(-7 * 24 * time.Hour)
	}
	counts, err := a.store.AlertCounts(ctx, project, since)
	if err != nil {
		return nil, err
	}
	out := struct {
		Since      time.Time        `json:"since"`
		Total      int64            `json:"total"`
		Open       int64            `json:"open"`
		ByStatus   map[string]int64 `json:"by_status"`
		ByType     map[string]int64 `json:"by_type"`
		BySeverity map[string]int64 `json:"by_severity"`
	}{Since: since.UTC(), ByStatus: map[string]int64{}, ByType: map[string]int64{}, BySeverity: map[string]int64{}}
	for _, c := range counts {
		out.Total += c.Count
		out.ByStatus[c.Status] += c.Count
		out.ByType[c.Type] += c.Count
		out.BySeverity[c.Severity] += c.Count
		if c.Status != store.AlertResolved {
			out.Open += c.Count
		}
	}
	return out, nil
}

func (a *alertRoutes) baselines(ctx context.Context, project string, r *http.Request) (any, error) {
	bs, err := a.store.Baselines(ctx, project)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	out := []store.Baseline{}
	for _, b := range bs {
		if (q.Get("service") == "" || q.Get("service") == b.Service) && (q.Get("endpoint") == "" || q.Get("endpoint") == b.Endpoint) &&
			(q.Get("model") == "" || q.Get("model") == b.Model) && (q.Get("metric") == "" || q.Get("metric") == b.Metric) {
			out = append(out, b)
		}
	}
	return map[string]any{"baselines": out}, nil
}

// channelJSON is a channel as the API shows it: the secret and routing key never leave.
type channelJSON struct {
	ID            string    `json:"id"`
	Type          string    `json:"type"`
	Name          string    `json:"name"`
	URL           string    `json:"url"`
	SecretSet     bool      `json:"secret_set"`
	RoutingKeySet bool      `json:"routing_key_set"`
	MinSeverity   string    `json:"min_severity,omitempty"`
	Enabled       bool      `json:"enabled"`
	CreatedAt     time.Time `json:"created_at"`
}

func newChannelJSON(c store.Channel) channelJSON {
	return channelJSON{ID: c.ID, Type: c.Type, Name: c.Name, URL: c.URL, SecretSet: c.Secret != "",
		RoutingKeySet: c.RoutingKey != "", MinSeverity: c.MinSeverity, Enabled: c.Enabled, CreatedAt: c.CreatedAt}
}

func (a *alertRoutes) listChannels(ctx context.Context, project string, _ *http.Request) (any, error) {
	cs, err := a.store.Channels(ctx, project)
	if err != nil {
		return nil, err
	}
	out := []channelJSON{}
	for _, c := range cs {
		out = append(out, newChannelJSON(c))
	}
	return map[string]any{"channels": out}, nil
}

func (a *alertRoutes) createChannel(ctx context.Context, project string, r *http.Request) (any, error) {
	var body struct {
		Type        string `json:"type"`
		Name        string `json:"name"`
		URL         string `json:"url"`
		Secret      string `json:"secret"`
		RoutingKey  string `json:"routing_key"`
		MinSeverity string `json:"min_severity"`
		Enabled     *bool  `json:"enabled"`
	}
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	c := store.Channel{ID: "ch-" + uuid.Must(uuid.NewV7()).String(), ProjectID: project, Type: body.Type, Name: body.Name,
		URL: body.URL, Secret: body.Secret, RoutingKey: body.RoutingKey, MinSeverity: body.MinSeverity,
		Enabled: body.Enabled == nil || *body.Enabled, CreatedAt: a.now().UTC()}
	if err := alert.ValidateChannel(&c); err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid_channel", err.Error())
	}
	if err := a.store.PutChannel(ctx, c); err != nil {
		return nil, err
	}
	return newChannelJSON(c), nil
}

func (a *alertRoutes) deleteChannel(ctx context.Context, project string, r *http.Request) (any, error) {
	id := r.PathValue("id")
	if err := a.store.DeleteChannel(ctx, project, id); err != nil {
		return nil, err
	}
	return map[string]string{"deleted": id}, nil
}

// testChannel sends a sample alert to the channel now and reports what it answered.
func (a *alertRoutes) testChannel(ctx context.Context, project string, r *http.Request) (any, error) {
	ch, err := a.channel(ctx, project, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if a.test == nil {
		return nil, errorf(http.StatusNotImplemented, "not_configured", "channel tests are not available in this process")
	}
	now := a.now().UTC()
	sample := store.Alert{
		ID: "00000000000000000000000000000000", ProjectID: project, RuleID: "test", Type: store.RuleCostSpike,
		Severity: store.SeverityInfo, Status: store.AlertFiring, DedupKey: "test", Service: "lumina", Endpoint: "channel test",
		Metric: alert.MetricCost, Explanation: "This is a test alert from Lumina: the channel is reachable.",
		Count: 1, FiredAt: now, LastSeenAt: now,
	}
	d := store.Delivery{ID: "test:" + ch.ID + ":" + strconv.FormatInt(now.UnixNano(), 10), ProjectID: project,
		AlertID: sample.ID, ChannelID: ch.ID, Event: store.EventTest, Alert: sample}
	status, err := a.test(ctx, ch, d)
	out := map[string]any{"delivered": err == nil, "status": status}
	if err != nil {
		out["error"] = err.Error()
	}
	return out, nil
}
