package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// ChannelTester sends one test delivery to a channel right away and reports the HTTP status
// the channel answered (alert.Sender.Send, adapted in cmd/lumina).
type ChannelTester func(ctx context.Context, ch store.Channel, d store.Delivery) (status int, err error)

// ruleRow is one rule of the editor, with its threshold shown in the unit users type.
type ruleRow struct {
	store.AlertRule
	Threshold string // as typed or as stored, in ThresholdUnit
	Unit      string
	Meaning   string
	Error     string // this rule's form error
}

// thresholdUnit says how a rule type's threshold reads in the form. Relative thresholds are
// edited as percentages (20 means baseline + 20 %), absolute ones as they are stored.
func thresholdUnit(typ string) (unit string, percent bool) {
	switch typ {
	case store.RuleCostSpike, store.RuleLatencySpike, store.RuleCostAndQuality:
		return "% over baseline", true
	case store.RuleErrorRate:
		return "% of requests", true
	case store.RuleQualityDrop:
		return "score (0–1)", false
	case store.RuleBudget:
		return "USD", false
	}
	return "", false
}

func newRuleRow(r store.AlertRule) ruleRow {
	unit, pct := thresholdUnit(r.Type)
	v := r.Threshold
	if pct {
		v *= 100
	}
	row := ruleRow{AlertRule: r, Threshold: trimFloat(v, 4), Unit: unit}
	switch r.Type {
	case store.RuleCostSpike:
		row.Meaning = "cost per request above the baseline by the threshold"
	case store.RuleLatencySpike:
		row.Meaning = "latency above the baseline by the threshold"
	case store.RuleQualityDrop:
		row.Meaning = "rolling quality score below the threshold"
	case store.RuleErrorRate:
		row.Meaning = "share of failed requests above the threshold"
	case store.RuleBudget:
		row.Meaning = "spend per " + cmpOr(r.Period, "day") + " above the threshold"
	case store.RuleCostAndQuality:
		row.Meaning = "a cost spike and a quality drop on the same key"
	}
	return row
}

func cmpOr(v, dflt string) string {
	if v == "" {
		return dflt
	}
	return v
}

// channelRow is one channel of the editor: never its secret or routing key.
type channelRow struct {
	ID, Type, Name, URL, MinSeverity string
	Enabled, SecretSet, KeySet       bool
	Result                           string // the last "send test" answer, on this page load
	ResultOK                         bool
}

// alertRulesData is the rules and channels page.
type alertRulesData struct {
	Rules        []ruleRow
	Channels     []channelRow
	CanTest      bool
	Flash        string
	Error        string
	APIPrefix    string
	ChannelForm  channelForm
	ChannelError string // the new-channel form's error
	ChannelTypes []string
	Severities   []string
}

// formError is what a POST got wrong, shown next to the rule or channel it was for.
type formError struct {
	ID, Msg, Value string
}

func (s *Server) alertRules(ctx context.Context, r *request) (view, error) {
	return s.alertRulesView(ctx, r, nil, "")
}

func (s *Server) alertRulesView(ctx context.Context, r *request, fe *formError, testResult string) (view, error) {
	return s.alertRulesPage(ctx, r, fe, testResult, channelForm{Type: store.ChannelWebhook, Enabled: true}, "")
}

// alertRulesPage renders the rules and channels page; fe is a rule's or channel's form
// error (or a channel's test result when testResult is set), cf and chErr the new-channel
// form as typed and what was wrong with it.
func (s *Server) alertRulesPage(ctx context.Context, r *request, fe *formError, testResult string, cf channelForm, chErr string) (view, error) {
	rules, err := s.store.AlertRules(ctx, r.Project)
	if err != nil {
		return view{}, err
	}
	chans, err := s.store.Channels(ctx, r.Project)
	if err != nil {
		return view{}, err
	}
	d := alertRulesData{CanTest: s.cfg.TestChannel != nil, APIPrefix: s.cfg.APIEndpoint, ChannelForm: cf, ChannelError: chErr,
		ChannelTypes: []string{store.ChannelWebhook, store.ChannelSlack, store.ChannelPagerDuty, store.ChannelDiscord},
		Severities:   []string{store.SeverityInfo, store.SeverityWarning, store.SeverityCritical}}
	for _, rule := range rules {
		row := newRuleRow(rule)
		if fe != nil && fe.ID == rule.ID {
			row.Error, row.Threshold = fe.Msg, fe.Value
		}
		d.Rules = append(d.Rules, row)
	}
	for _, c := range chans {
		row := channelRow{ID: c.ID, Type: c.Type, Name: c.Name, URL: redactURL(c.URL), MinSeverity: c.MinSeverity,
			Enabled: c.Enabled, SecretSet: c.Secret != "", KeySet: c.RoutingKey != ""}
		if fe != nil && fe.ID == c.ID {
			row.Result, row.ResultOK = fe.Msg, fe.Value == "ok"
		}
		d.Channels = append(d.Channels, row)
	}
	q := r.URL.Query()
	switch {
	case q.Get("saved") != "":
		d.Flash = "Saved rule " + q.Get("saved") + ". The worker's engine applies it at its next tick."
	case q.Get("deleted") != "":
		d.Flash = "Deleted rule " + q.Get("deleted") + "."
	case q.Get("channel_created") != "":
		d.Flash = "Created channel " + q.Get("channel_created") + "."
	case q.Get("channel_deleted") != "":
		d.Flash = "Deleted channel " + q.Get("channel_deleted") + "."
	}
	v := view{Page: "alert_rules", Title: "Alert rules and channels", Nav: "alerts", Data: d}
	if (fe != nil && testResult == "") || chErr != "" {
		v.Status = http.StatusBadRequest
	}
	return v, nil
}

// redactURL shows a channel URL without its path and query, which carry the secret of
// Slack, Discord and most webhook URLs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if raw == "" {
			return ""
		}
		return "(unreadable URL)"
	}
	out := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" {
		out += "/…"
	}
	return out
}

func (s *Server) rule(ctx context.Context, project, id string) (store.AlertRule, error) {
	rules, err := s.store.AlertRules(ctx, project)
	if err != nil {
		return store.AlertRule{}, err
	}
	i := slices.IndexFunc(rules, func(x store.AlertRule) bool { return x.ID == id })
	if i < 0 {
		return store.AlertRule{}, fmt.Errorf("alert rule %q: %w", id, store.ErrNotFound)
	}
	return rules[i], nil
}

// putRule validates and stores an edited rule.
func (s *Server) putRule(ctx context.Context, r *request, rule store.AlertRule) error {
	if s.cfg.ValidateRule != nil {
		if err := s.cfg.ValidateRule(&rule); err != nil {
			return badRequestf("%v", err)
		}
	}
	rule.UpdatedAt = r.Now
	return s.store.PutAlertRule(ctx, rule)
}

func (s *Server) setRuleEnabled(ctx context.Context, r *request) (string, *view, error) {
	rule, err := s.rule(ctx, r.Project, r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	switch v := r.PostFormValue("enabled"); v {
	case "true", "false":
		rule.Enabled = v == "true"
	default:
		return "", nil, badRequestf("enabled must be true or false, got %q", v)
	}
	if err := s.putRule(ctx, r, rule); err != nil {
		return "", nil, err
	}
	return "/alerts/rules?saved=" + url.QueryEscape(rule.ID) + "#rule-" + url.PathEscape(rule.ID), nil, nil
}

// parseThreshold reads the threshold form field in the unit the rule type shows.
func parseThreshold(typ, raw string) (float64, error) {
	unit, pct := thresholdUnit(typ)
	raw = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(raw), "%"))
	if raw == "" {
		return 0, badRequestf("threshold is required (%s)", unit)
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, badRequestf("threshold must be a number (%s), got %q", unit, raw)
	}
	if v <= 0 {
		return 0, badRequestf("threshold must be above 0 (%s), got %s", unit, raw)
	}
	if pct {
		v /= 100
	}
	if (typ == store.RuleQualityDrop || typ == store.RuleErrorRate) && v > 1 {
		return 0, badRequestf("threshold for %s must be at most %s, got %s", typ, map[bool]string{true: "100", false: "1"}[pct], raw)
	}
	return v, nil
}

func (s *Server) setRuleThreshold(ctx context.Context, r *request) (string, *view, error) {
	rule, err := s.rule(ctx, r.Project, r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	raw := r.PostFormValue("threshold")
	v, err := parseThreshold(rule.Type, raw)
	if err == nil {
		rule.Threshold = v
		err = s.putRule(ctx, r, rule)
	}
	if msg, ok := isBadRequest(err); ok {
		vw, verr := s.alertRulesView(ctx, r, &formError{ID: rule.ID, Msg: msg, Value: raw}, "")
		if verr != nil {
			return "", nil, verr
		}
		return "", &vw, nil
	}
	if err != nil {
		return "", nil, err
	}
	return "/alerts/rules?saved=" + url.QueryEscape(rule.ID) + "#rule-" + url.PathEscape(rule.ID), nil, nil
}

// testChannel sends a sample alert to the channel now (as POST /api/v1/channels/{id}/test)
// and shows what it answered next to the channel.
func (s *Server) testChannel(ctx context.Context, r *request) (string, *view, error) {
	ch, err := s.channel(ctx, r)
	if err != nil {
		return "", nil, err
	}
	if s.cfg.TestChannel == nil {
		return "", nil, badRequestf("channel tests are not available in this process")
	}
	sample := store.Alert{
		ID: "00000000000000000000000000000000", ProjectID: r.Project, RuleID: "test", Type: store.RuleCostSpike,
		Severity: store.SeverityInfo, Status: store.AlertFiring, DedupKey: "test", Service: "lumina", Endpoint: "channel test",
		Metric: "cost_usd", Explanation: "This is a test alert from Lumina: the channel is reachable.",
		Count: 1, FiredAt: r.Now, LastSeenAt: r.Now,
	}
	d := store.Delivery{ID: "test:" + ch.ID + ":" + strconv.FormatInt(r.Now.UnixNano(), 10), ProjectID: r.Project,
		AlertID: sample.ID, ChannelID: ch.ID, Event: store.EventTest, Alert: sample}
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	status, err := s.cfg.TestChannel(tctx, ch, d)
	fe := &formError{ID: ch.ID, Value: "ok", Msg: fmt.Sprintf("Delivered: the channel answered HTTP %d.", status)}
	if err != nil {
		fe.Value, fe.Msg = "", "Not delivered: "+err.Error()
		if status != 0 {
			fe.Msg = fmt.Sprintf("Not delivered (HTTP %d): %v", status, err)
		}
	}
	vw, verr := s.alertRulesView(ctx, r, fe, "sent")
	if verr != nil {
		return "", nil, verr
	}
	return "", &vw, nil
}
