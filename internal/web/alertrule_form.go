package web

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/use-lumina/lumina/internal/store"
)

// ruleType is one choice of the rule form's type select, with the unit its threshold reads in.
type ruleType struct {
	Type, Label, Unit string
}

// ruleTypes are the rule types the engine evaluates (alert.ValidateRule), in form order.
var ruleTypes = func() []ruleType {
	out := []ruleType{
		{Type: store.RuleCostSpike, Label: "Cost spike"},
		{Type: store.RuleQualityDrop, Label: "Quality drop"},
		{Type: store.RuleLatencySpike, Label: "Latency spike"},
		{Type: store.RuleErrorRate, Label: "Error rate"},
		{Type: store.RuleBudget, Label: "Budget"},
		{Type: store.RuleCostAndQuality, Label: "Cost and quality together"},
		{Type: store.RuleNoData, Label: "No data"},
	}
	for i := range out {
		out[i].Unit, _ = thresholdUnit(out[i].Type)
		if out[i].Type == store.RuleNoData {
			out[i].Unit = "none: the silence is the window"
		}
	}
	return out
}()

// ruleForm is the create-or-edit rule form as typed: durations in minutes, the threshold
// in its type's unit (thresholdUnit).
type ruleForm struct {
	Type, Name, Severity, Threshold, QualityThreshold, Stat, WindowRequests, WindowMinutes,
	MinSamples, Period, Service, Endpoint, Model, User, CooldownMinutes string
	Enabled bool
}

// newRuleForm is a stored rule as the form shows it.
func newRuleForm(r store.AlertRule) ruleForm {
	f := ruleForm{Type: r.Type, Name: r.Name, Severity: r.Severity, Stat: r.Stat, Period: r.Period,
		Service: r.Scope.Service, Endpoint: r.Scope.Endpoint, Model: r.Scope.Model, User: r.Scope.User, Enabled: r.Enabled,
		WindowMinutes: trimFloat(r.WindowDuration.Minutes(), 2), CooldownMinutes: trimFloat(r.Cooldown.Minutes(), 2)}
	if r.Type != store.RuleNoData || r.Threshold != 0 {
		f.Threshold = newRuleRow(r).Threshold
	}
	if r.QualityThreshold != 0 {
		f.QualityThreshold = trimFloat(r.QualityThreshold, 4)
	}
	if r.WindowRequests != 0 {
		f.WindowRequests = strconv.Itoa(r.WindowRequests)
	}
	if r.MinSamples != 0 {
		f.MinSamples = strconv.Itoa(r.MinSamples)
	}
	return f
}

// ruleFormOf reads the posted form.
func ruleFormOf(r *request) ruleForm {
	p := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return ruleForm{Type: p("type"), Name: p("name"), Severity: p("severity"), Threshold: p("threshold"),
		QualityThreshold: p("quality_threshold"), Stat: p("stat"), WindowRequests: p("window_requests"),
		WindowMinutes: p("window_minutes"), MinSamples: p("min_samples"), Period: p("period"), Service: p("service"),
		Endpoint: p("endpoint"), Model: p("model"), User: p("user"), CooldownMinutes: p("cooldown_minutes"),
		Enabled: r.PostFormValue("enabled") == "on"}
}

// apply parses the form onto rule; alert.ValidateRule (Config.ValidateRule) checks the rest.
func (f ruleForm) apply(rule *store.AlertRule) error {
	if _, ok := typeLabel(f.Type); !ok {
		return badRequestf("type %q: want one of cost_spike, quality_drop, latency_spike, error_rate, budget, cost_and_quality, no_data", f.Type)
	}
	rule.Type, rule.Name, rule.Severity, rule.Enabled, rule.Period = f.Type, f.Name, f.Severity, f.Enabled, f.Period
	rule.Scope = store.AlertScope{Service: f.Service, Endpoint: f.Endpoint, Model: f.Model, User: f.User}
	rule.Stat, rule.QualityThreshold = "", 0
	switch f.Type {
	case store.RuleCostSpike, store.RuleLatencySpike, store.RuleCostAndQuality:
		rule.Stat = f.Stat
	}
	if f.Type != store.RuleBudget {
		rule.Period = ""
	}
	var err error
	if f.Type == store.RuleNoData {
		rule.Threshold = 0
		if f.Threshold != "" {
			return badRequestf("a no_data rule takes no threshold: the silence it waits for is the window")
		}
	} else if rule.Threshold, err = parseThreshold(f.Type, f.Threshold); err != nil {
		return err
	}
	if f.Type == store.RuleCostAndQuality {
		if rule.QualityThreshold, err = parseNumber("quality threshold", f.QualityThreshold, true); err != nil {
			return err
		}
	}
	ints := []struct {
		name, raw string
		dst       *int
	}{{"window requests", f.WindowRequests, &rule.WindowRequests}, {"minimum samples", f.MinSamples, &rule.MinSamples}}
	for _, n := range ints {
		*n.dst = 0
		if n.raw == "" {
			continue
		}
		v, err := strconv.Atoi(n.raw)
		if err != nil {
			return badRequestf("%s must be a whole number, got %q", n.name, n.raw)
		}
		*n.dst = v
	}
	durs := []struct {
		name, raw string
		dst       *time.Duration
	}{{"window", f.WindowMinutes, &rule.WindowDuration}, {"cooldown", f.CooldownMinutes, &rule.Cooldown}}
	for _, d := range durs {
		*d.dst = 0
		if d.raw == "" {
			continue
		}
		v, err := parseNumber(d.name+" (minutes)", d.raw, false)
		if err != nil {
			return err
		}
		*d.dst = time.Duration(v * float64(time.Minute)).Round(time.Second)
	}
	return nil
}

// parseNumber reads a finite number; required says whether empty is an error.
func parseNumber(name, raw string, required bool) (float64, error) {
	if raw == "" {
		if required {
			return 0, badRequestf("%s is required", name)
		}
		return 0, nil
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, badRequestf("%s must be a number, got %q", name, raw)
	}
	return v, nil
}

func typeLabel(typ string) (string, bool) {
	for _, t := range ruleTypes {
		if t.Type == typ {
			return t.Label, true
		}
	}
	return "", false
}

// ruleFormData is the create-or-edit rule page.
type ruleFormData struct {
	ID         string // empty for a new rule
	Name       string // the stored name, for the heading
	Form       ruleForm
	Types      []ruleType
	Severities []string
	Stats      []string
	Error      string
}

func (s *Server) ruleFormView(id, name string, f ruleForm, problem string) view {
	title := "New alert rule"
	if id != "" {
		title = "Edit alert rule · " + name
	}
	v := view{Page: "alert_rule", Title: title, Nav: "alerts", Data: ruleFormData{ID: id, Name: name, Form: f, Types: ruleTypes,
		Severities: []string{store.SeverityInfo, store.SeverityWarning, store.SeverityCritical},
		Stats:      []string{"mean", "p50", "p95", "p99"}, Error: problem}}
	if problem != "" {
		v.Status = http.StatusBadRequest
	}
	return v
}

func (s *Server) newRule(_ context.Context, r *request) (view, error) {
	f := ruleForm{Type: store.RuleCostSpike, Severity: store.SeverityWarning, Threshold: "20", Stat: "mean",
		WindowRequests: "10", WindowMinutes: "15", MinSamples: "20", CooldownMinutes: "30", Enabled: true}
	if t := r.URL.Query().Get("type"); t != "" {
		if _, ok := typeLabel(t); ok {
			f.Type = t
		}
	}
	return s.ruleFormView("", "", f, ""), nil
}

func (s *Server) editRule(ctx context.Context, r *request) (view, error) {
	rule, err := s.rule(ctx, r.Project, r.PathValue("id"))
	if err != nil {
		return view{}, err
	}
	return s.ruleFormView(rule.ID, rule.Name, newRuleForm(rule), ""), nil
}

// saveRule validates the form onto rule and stores it, or re-renders the form with what was
// wrong (400).
func (s *Server) saveRule(ctx context.Context, r *request, rule store.AlertRule, name string) (string, *view, error) {
	f := ruleFormOf(r)
	err := f.apply(&rule)
	if err == nil {
		if rule.Name == "" {
			rule.Name = rule.Type
		}
		err = s.putRule(ctx, r, rule)
	}
	if msg, ok := isBadRequest(err); ok {
		v := s.ruleFormView(r.PathValue("id"), name, f, msg)
		return "", &v, nil
	}
	if err != nil {
		return "", nil, err
	}
	return "/alerts/rules?saved=" + url.QueryEscape(rule.ID) + "#rule-" + url.PathEscape(rule.ID), nil, nil
}

// createRule stores a new rule from the form, as POST /api/v1/alert-rules does.
func (s *Server) createRule(ctx context.Context, r *request) (string, *view, error) {
	rule := store.AlertRule{ID: "rule-" + uuid.Must(uuid.NewV7()).String(), ProjectID: r.Project, CreatedAt: r.Now}
	return s.saveRule(ctx, r, rule, "")
}

// updateRule replaces the editable fields of a stored rule from the form.
func (s *Server) updateRule(ctx context.Context, r *request) (string, *view, error) {
	rule, err := s.rule(ctx, r.Project, r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	return s.saveRule(ctx, r, rule, rule.Name)
}

// deleteRule removes a rule (its alerts stay, with their history).
func (s *Server) deleteRule(ctx context.Context, r *request) (string, *view, error) {
	rule, err := s.rule(ctx, r.Project, r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	if err := s.store.DeleteAlertRule(ctx, r.Project, rule.ID); err != nil {
		return "", nil, err
	}
	return "/alerts/rules?deleted=" + url.QueryEscape(rule.Name) + "#rules", nil, nil
}
