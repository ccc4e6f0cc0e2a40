package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// Alert vocabularies, in the order the filters offer them.
var (
	alertTypes = []string{store.RuleCostSpike, store.RuleQualityDrop, store.RuleLatencySpike, store.RuleErrorRate,
		store.RuleBudget, store.RuleCostAndQuality}
	alertSeverities = []string{store.SeverityCritical, store.SeverityWarning, store.SeverityInfo}
	alertStatuses   = []string{store.AlertFiring, store.AlertAcknowledged, store.AlertResolved}
)

// alertWindows are the alert list's time presets; the stat cards count the same window.
var alertWindows = []struct{ Key, Label string }{
	{"1h", "Last hour"}, {"24h", "Last 24 hours"}, {"7d", "Last 7 days"}, {"30d", "Last 30 days"}, {"all", "Any time"},
}

func alertWindow(key string) (time.Duration, bool) {
	if key == "30d" {
		return 30 * 24 * time.Hour, true
	}
	if key == "all" {
		return 0, true
	}
	return rangeDuration(key)
}

// alertFilter is the alert list's query string: the values as typed and the store query.
type alertFilter struct {
	Type, Severity, Status, Service, Window string
	Query                                   store.AlertQuery
}

func parseAlertFilter(r *request) (alertFilter, error) {
	v := r.URL.Query()
	f := alertFilter{Type: v.Get("type"), Severity: v.Get("severity"), Status: v.Get("status"),
		Service: strings.TrimSpace(v.Get("service")), Window: v.Get("window")}
	q := store.AlertQuery{ProjectID: r.Project, Type: f.Type, Severity: f.Severity, Status: f.Status, Service: f.Service,
		Limit: 50, Cursor: v.Get("cursor")}
	for _, c := range []struct {
		name, v string
		allowed []string
	}{{"type", f.Type, alertTypes}, {"severity", f.Severity, alertSeverities}, {"status", f.Status, alertStatuses}} {
		if c.v != "" && !slices.Contains(c.allowed, c.v) {
			return f, badRequestf("%s must be one of %s, got %q", c.name, strings.Join(c.allowed, ", "), c.v)
		}
	}
	if f.Window == "" {
		f.Window = "7d"
	}
	d, ok := alertWindow(f.Window)
	if !ok {
		return f, badRequestf("window must be 1h, 24h, 7d, 30d or all, got %q", f.Window)
	}
	if d > 0 {
		q.Since = r.Now.Add(-d)
	}
	f.Query = q
	return f, nil
}

func (f alertFilter) values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"type", f.Type}, {"severity", f.Severity}, {"status", f.Status}, {"service", f.Service}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	if f.Window != "" && f.Window != "7d" {
		v.Set("window", f.Window)
	}
	return v
}

func (f alertFilter) url(mut func(url.Values)) string {
	v := f.values()
	if mut != nil {
		mut(v)
	}
	if len(v) == 0 {
		return "/alerts"
	}
	return "/alerts?" + v.Encode()
}

// alertRow is one line of the alert list.
type alertRow struct {
	store.Alert
	URL      string
	Target   string // service · endpoint · model
	Observed string
	Baseline string // empty for rules with an absolute threshold
	// ThresholdText is the absolute threshold in the metric's unit.
	ThresholdText string
	Open          bool
	CanAck        bool
}

func newAlertRow(a store.Alert) alertRow {
	parts := []string{}
	for _, p := range []string{a.Service, a.Endpoint, a.Model} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	row := alertRow{Alert: a, URL: "/alerts/" + url.PathEscape(a.ID), Target: strings.Join(parts, " · "),
		Observed: fmtMetric(a.Metric, a.Observed), Open: a.Status != store.AlertResolved, CanAck: a.Status == store.AlertFiring}
	if a.Baseline != 0 { // absolute rules compare with a threshold, not a baseline
		row.Baseline = fmtMetric(a.Metric, a.Baseline)
	}
	row.ThresholdText = fmtMetric(a.Metric, a.Threshold)
	return row
}

// fmtMetric shows an alert value in its metric's unit.
func fmtMetric(metric string, v float64) string {
	switch {
	case metric == "cost_usd" || strings.HasPrefix(metric, "spend_"):
		return fmtUSD(v)
	case metric == "latency_ms":
		return fmtDuration(time.Duration(v * float64(time.Millisecond)))
	case metric == "error_rate":
		return fmtPercent(v)
	case metric == "tokens":
		return fmtInt(int64(v + 0.5))
	}
	return trimFloat(v, 3)
}

// statCard is one of the alert page's counters; URL filters the list to what it counts.
type statCard struct {
	Label, Value, URL, Class string
}

// alertsData is the alert list page.
type alertsData struct {
	Filter     alertFilter
	Types      []string
	Severities []string
	Statuses   []string
	Windows    []struct{ Key, Label string }
	Cards      []statCard
	Rows       []alertRow
	NextURL    string
	FirstURL   string
	Filtered   bool
	Return     string // this page's URL, for the action forms
	Error      string
	Flash      string
}

func (s *Server) alerts(ctx context.Context, r *request) (view, error) {
	d := alertsData{Types: alertTypes, Severities: alertSeverities, Statuses: alertStatuses, Windows: alertWindows}
	f, err := parseAlertFilter(r)
	d.Filter = f
	if msg, ok := isBadRequest(err); ok {
		d.Error, d.Filtered = msg, true
		return view{Page: "alerts", Title: "Alerts", Nav: "alerts", Status: http.StatusBadRequest, Data: d}, nil
	}
	if err != nil {
		return view{}, err
	}
	page, err := s.store.Alerts(ctx, f.Query)
	if err != nil {
		return view{}, err
	}
	counts, err := s.store.AlertCounts(ctx, r.Project, f.Query.Since)
	if err != nil {
		return view{}, err
	}
	d.Cards = alertCards(f, counts)
	d.Filtered = len(f.values()) > 0
	d.Return = f.url(nil)
	if f.Query.Cursor != "" {
		d.Return = f.url(func(v url.Values) { v.Set("cursor", f.Query.Cursor) })
		d.FirstURL = f.url(nil)
	}
	for _, a := range page.Alerts {
		d.Rows = append(d.Rows, newAlertRow(a))
	}
	if page.NextCursor != "" {
		d.NextURL = f.url(func(v url.Values) { v.Set("cursor", page.NextCursor) })
	}
	switch r.URL.Query().Get("done") {
	case "acknowledged":
		d.Flash = "Alert acknowledged: it keeps counting repeats but notifies no one again."
	case "resolved":
		d.Flash = "Alert resolved."
	}
	return view{Page: "alerts", Title: "Alerts", Nav: "alerts", Data: d}, nil
}

// alertCards counts the window's alerts: open, by status, and open critical ones.
func alertCards(f alertFilter, counts []store.AlertCount) []statCard {
	var open, firing, acked, resolved, critical int64
	for _, c := range counts {
		switch c.Status {
		case store.AlertFiring:
			firing += c.Count
		case store.AlertAcknowledged:
			acked += c.Count
		case store.AlertResolved:
			resolved += c.Count
		}
		if c.Status != store.AlertResolved {
			open += c.Count
			if c.Severity == store.SeverityCritical {
				critical += c.Count
			}
		}
	}
	base := alertFilter{Window: f.Window}
	with := func(k, v string) string { return base.url(func(q url.Values) { q.Set(k, v) }) }
	critClass := ""
	if critical > 0 {
		critClass = "bad"
	}
	return []statCard{
		{Label: "Open", Value: fmtInt(open), URL: base.url(nil)},
		{Label: "Firing", Value: fmtInt(firing), URL: with("status", store.AlertFiring), Class: map[bool]string{true: "bad"}[firing > 0]},
		{Label: "Acknowledged", Value: fmtInt(acked), URL: with("status", store.AlertAcknowledged)},
		{Label: "Resolved", Value: fmtInt(resolved), URL: with("status", store.AlertResolved)},
		{Label: "Critical, open", Value: fmtInt(critical), URL: with("severity", store.SeverityCritical), Class: critClass},
	}
}

// acknowledgeAlert moves a firing alert to acknowledged (as POST /api/v1/alerts/{id}/acknowledge).
func (s *Server) acknowledgeAlert(ctx context.Context, r *request) (string, *view, error) {
	a, err := s.store.Alert(ctx, r.Project, r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	if a.Status == store.AlertResolved {
		return "", nil, badRequestf("the alert is resolved; it cannot be acknowledged")
	}
	if a.Status == store.AlertFiring {
		a.Status, a.AcknowledgedAt = store.AlertAcknowledged, r.Now
		if err := s.store.PutAlert(ctx, a); err != nil {
			return "", nil, err
		}
	}
	return withDone(localReturn(r.Request, "/alerts/"+url.PathEscape(a.ID)), "acknowledged"), nil, nil
}

// resolveAlert closes an alert by hand; the engine sends the resolve event at its next tick.
func (s *Server) resolveAlert(ctx context.Context, r *request) (string, *view, error) {
	a, err := s.store.Alert(ctx, r.Project, r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	if a.Status != store.AlertResolved {
		a.Status, a.ResolvedAt, a.ResolvedBy = store.AlertResolved, r.Now, "user"
		if err := s.store.PutAlert(ctx, a); err != nil {
			return "", nil, err
		}
	}
	return withDone(localReturn(r.Request, "/alerts/"+url.PathEscape(a.ID)), "resolved"), nil, nil
}

// withDone adds done=what to a local URL, for the flash the next page shows.
func withDone(path, what string) string {
	u, err := url.Parse(path)
	if err != nil {
		return path
	}
	q := u.Query()
	q.Set("done", what)
	u.RawQuery = q.Encode()
	return u.String()
}
