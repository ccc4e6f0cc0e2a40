package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/alert"
	"github.com/use-lumina/lumina/internal/store"
)

// validatingServer is a seeded dashboard that validates rules and channels as cmd/lumina
// wires it: with the alert package's validators, which the REST API uses too.
func validatingServer(t *testing.T) *testServer {
	t.Helper()
	srv := newTestServer(t, func() time.Time { return testNow }, func(c *Config) {
		c.ValidateRule, c.ValidateChannel = alert.ValidateRule, alert.ValidateChannel
	})
	seedAlerts(t, srv.store)
	return srv
}

func storedRules(t *testing.T, st store.AlertStore, project string) map[string]store.AlertRule {
	t.Helper()
	rules, err := st.AlertRules(context.Background(), project)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.AlertRule{}
	for _, r := range rules {
		out[r.ID] = r
	}
	return out
}

func TestAlertRuleFormPagesGolden(t *testing.T) {
	srv := validatingServer(t)
	for _, tt := range []struct {
		name, path string
		status     int
	}{
		{"alert-rule-new", "/alerts/rules/new", 200},
		{"alert-rule-edit", "/alerts/rules/rule-budget/edit", 200},
		{"alert-rule-other-project", "/alerts/rules/rule-other/edit", 404},
		{"alert-channel", "/alerts/channels/ch-ops", 200},
		{"alert-channel-not-found", "/alerts/channels/ch-nope", 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, srv, tt.path)
			if res.StatusCode != tt.status {
				t.Fatalf("GET %s: got status %d, want %d", tt.path, res.StatusCode, tt.status)
			}
			golden(t, tt.name, body)
		})
	}
}

// ruleFormValues is a complete valid cost-spike form; tests change what they test.
func ruleFormValues(kv ...string) url.Values {
	v := url.Values{"type": {"cost_spike"}, "name": {"Checkout cost"}, "severity": {"critical"}, "threshold": {"30"},
		"stat": {"p95"}, "window_requests": {"25"}, "window_minutes": {"10"}, "min_samples": {"40"},
		"service": {"checkout"}, "model": {"gpt-4o"}, "cooldown_minutes": {"45"}, "enabled": {"on"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
			continue
		}
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestAlertRuleCreate(t *testing.T) {
	srv := validatingServer(t)
	before := len(storedRules(t, srv.store, "default"))

	res, _ := post(t, srv, "/alerts/rules", ruleFormValues())
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/alerts/rules?saved=rule-") {
		t.Fatalf("create: got %d to %q, want 303 to the rules page", res.StatusCode, loc)
	}
	id := strings.TrimPrefix(strings.Split(loc, "#")[0], "/alerts/rules?saved=")
	rules := storedRules(t, srv.store, "default")
	if len(rules) != before+1 {
		t.Fatalf("rules: got %d, want %d", len(rules), before+1)
	}
	got := rules[id]
	want := store.AlertRule{ID: id, ProjectID: "default", Type: store.RuleCostSpike, Name: "Checkout cost", Enabled: true,
		Severity: store.SeverityCritical, Threshold: 0.3, Stat: "p95", WindowRequests: 25, WindowDuration: 10 * time.Minute,
		MinSamples: 40, Scope: store.AlertScope{Service: "checkout", Model: "gpt-4o"}, Cooldown: 45 * time.Minute}
	if !got.CreatedAt.Equal(testNow) || !got.UpdatedAt.Equal(testNow) {
		t.Errorf("times: got created %v updated %v, want both %v", got.CreatedAt, got.UpdatedAt, testNow)
	}
	got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("stored rule:\n got %+v\nwant %+v", got, want)
	}
	_, body := get(t, srv, loc)
	if !strings.Contains(body, `data-rule-id="`+id+`"`) || !strings.Contains(body, "Saved rule "+id) {
		t.Error("the rules page does not list the new rule with the saved flash")
	}

	// Defaults are filled by alert.ValidateRule, exactly as over the API: a budget with no
	// period is daily, a no_data rule without threshold waits 10 requests, an empty name is the type.
	for _, tc := range []struct {
		form  url.Values
		check func(store.AlertRule) bool
	}{
		{ruleFormValues("type", "budget", "threshold", "75", "stat", "", "user", "u-42", "name", ""),
			func(r store.AlertRule) bool {
				return r.Threshold == 75 && r.Period == "day" && r.Stat == "" && r.Scope.User == "u-42" && r.Name == "budget"
			}},
		{ruleFormValues("type", "no_data", "threshold", "", "min_samples", "", "enabled", ""),
			func(r store.AlertRule) bool { return r.Threshold == 0 && r.MinSamples == 10 && !r.Enabled }},
		{ruleFormValues("type", "cost_and_quality", "quality_threshold", "0.6"),
			func(r store.AlertRule) bool {
				return r.Threshold == 0.3 && r.QualityThreshold == 0.6 && r.Stat == "p95"
			}},
	} {
		res, _ := post(t, srv, "/alerts/rules", tc.form)
		loc := res.Header.Get("Location")
		id := strings.TrimPrefix(strings.Split(loc, "#")[0], "/alerts/rules?saved=")
		if r, ok := storedRules(t, srv.store, "default")[id]; res.StatusCode != 303 || !ok || !tc.check(r) {
			t.Errorf("create %s: got %d, stored %+v", tc.form.Get("type"), res.StatusCode, r)
		}
	}
}

func TestAlertRuleCreateInvalid(t *testing.T) {
	srv := validatingServer(t)
	before := len(storedRules(t, srv.store, "default"))
	tests := []struct {
		name string
		form url.Values
		msg  string
	}{
		{"unknown type", ruleFormValues("type", "vibes"), "type &#34;vibes&#34;: want one of"},
		{"threshold text", ruleFormValues("threshold", "lots<b>"), "threshold must be a number (% over baseline), got &#34;lots&lt;b&gt;&#34;"},
		{"quality above 1", ruleFormValues("type", "quality_drop", "threshold", "1.2"), "threshold for quality_drop must be at most 1"},
		{"stat", ruleFormValues("stat", "p42"), "stat &#34;p42&#34;: want mean, p50, p95 or p99"},
		{"window requests", ruleFormValues("window_requests", "500"), "window_requests 500: want 0..100"},
		{"negative cooldown", ruleFormValues("cooldown_minutes", "-5"), "must not be negative"},
		{"window text", ruleFormValues("window_minutes", "soon"), "window (minutes) must be a number, got &#34;soon&#34;"},
		{"user scope", ruleFormValues("user", "u-1"), "scope.user applies to budget rules only"},
		{"dual without quality", ruleFormValues("type", "cost_and_quality"), "quality threshold is required"},
		{"no_data threshold", ruleFormValues("type", "no_data", "threshold", "3"), "a no_data rule takes no threshold"},
		{"severity", ruleFormValues("severity", "apocalyptic"), "severity &#34;apocalyptic&#34;: want info, warning or critical"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := post(t, srv, "/alerts/rules", tt.form)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("got status %d, want 400", res.StatusCode)
			}
			if !strings.Contains(body, tt.msg) {
				t.Errorf("body lacks %q", tt.msg)
			}
			// The form comes back as typed, with the error tied to it.
			if !strings.Contains(body, `id="rule-form" aria-describedby="rule-error"`) || !strings.Contains(body, `value="Checkout cost"`) {
				t.Error("the form is not re-rendered as typed with its error")
			}
		})
	}
	if got := len(storedRules(t, srv.store, "default")); got != before {
		t.Errorf("rejected forms stored rules: got %d, want %d", got, before)
	}
	res, body := post(t, srv, "/alerts/rules", ruleFormValues("threshold", "nope"))
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("invalid threshold: got %d, want 400", res.StatusCode)
	}
	golden(t, "alert-rule-invalid", body)
}

func TestAlertRuleUpdateAndDelete(t *testing.T) {
	srv := validatingServer(t)
	res, _ := post(t, srv, "/alerts/rules/rule-budget/edit", url.Values{"type": {"budget"}, "name": {"Monthly budget"},
		"severity": {"warning"}, "threshold": {"900"}, "period": {"month"}, "user": {"u-42"}, "cooldown_minutes": {"120"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/alerts/rules?saved=rule-budget#rule-rule-budget" {
		t.Fatalf("edit: got %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	r := storedRules(t, srv.store, "default")["rule-budget"]
	if r.Name != "Monthly budget" || r.Threshold != 900 || r.Period != "month" || r.Scope.User != "u-42" || r.Cooldown != 2*time.Hour ||
		r.Enabled || !r.UpdatedAt.Equal(testNow) || !r.CreatedAt.Equal(testNow.Add(-48*time.Hour)) {
		t.Errorf("edited rule: got %+v", r)
	}
	// The edit form shows the stored rule back in its units.
	_, body := get(t, srv, "/alerts/rules/rule-cost/edit")
	for _, want := range []string{`name="threshold" value="20"`, `name="window_minutes" value="15"`, `name="cooldown_minutes" value="30"`,
		`<option value="mean" selected>`, `action="/alerts/rules/rule-cost/edit"`} {
		if !strings.Contains(body, want) {
			t.Errorf("edit form lacks %s", want)
		}
	}
	res, body = post(t, srv, "/alerts/rules/rule-cost/edit", ruleFormValues("threshold", "-1"))
	if res.StatusCode != 400 || !strings.Contains(body, "threshold must be above 0") || !strings.Contains(body, "Edit rule Cost spike") {
		t.Errorf("invalid edit: got %d, want 400 on the edit form", res.StatusCode)
	}
	if res, _ := post(t, srv, "/alerts/rules/rule-other/edit", ruleFormValues()); res.StatusCode != 404 {
		t.Errorf("edit another project's rule: got %d, want 404", res.StatusCode)
	}

	// Delete: refused without the token, 404 for another project's rule, then gone.
	if res := postForm(t, srv, "/alerts/rules/rule-cost/delete", url.Values{}, true, ""); res.StatusCode != http.StatusForbidden {
		t.Errorf("delete without a token: got %d, want 403", res.StatusCode)
	}
	if res := postForm(t, srv, "/alerts/rules/rule-cost/delete", url.Values{"csrf_token": {fixedToken}}, true, "https://evil.example"); res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin delete: got %d, want 403", res.StatusCode)
	}
	if _, ok := storedRules(t, srv.store, "default")["rule-cost"]; !ok {
		t.Fatal("a refused delete removed the rule")
	}
	if res, _ := post(t, srv, "/alerts/rules/rule-other/delete", nil); res.StatusCode != 404 {
		t.Errorf("delete another project's rule: got %d, want 404", res.StatusCode)
	}
	if _, ok := storedRules(t, srv.store, "someone-else")["rule-other"]; !ok {
		t.Error("the other project's rule was deleted")
	}
	res, _ = post(t, srv, "/alerts/rules/rule-cost/delete", nil)
	if res.StatusCode != 303 || res.Header.Get("Location") != "/alerts/rules?deleted=Cost+spike#rules" {
		t.Errorf("delete: got %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, ok := storedRules(t, srv.store, "default")["rule-cost"]; ok {
		t.Error("the deleted rule is still stored")
	}
	if _, body := get(t, srv, "/alerts/rules?deleted=Cost+spike"); strings.Contains(body, `data-rule-id="rule-cost"`) || !strings.Contains(body, "Deleted rule Cost spike.") {
		t.Error("the rules page still lists the deleted rule or lacks the flash")
	}
	if res, _ := post(t, srv, "/alerts/rules/rule-cost/delete", nil); res.StatusCode != 404 {
		t.Errorf("delete twice: got %d, want 404", res.StatusCode)
	}
}

func TestChannelCreateAndDelete(t *testing.T) {
	srv := validatingServer(t)
	chans := func(project string) map[string]store.Channel {
		cs, err := srv.store.Channels(context.Background(), project)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]store.Channel{}
		for _, c := range cs {
			out[c.ID] = c
		}
		return out
	}
	form := url.Values{"type": {"webhook"}, "name": {"Pager bridge"}, "url": {"https://bridge.example.net/hook/tok-123?key=abc"},
		"secret": {"sign-me"}, "min_severity": {"warning"}, "enabled": {"on"}}
	res, _ := post(t, srv, "/alerts/channels", form)
	loc := res.Header.Get("Location")
	if res.StatusCode != 303 || !strings.HasPrefix(loc, "/alerts/rules?channel_created=Pager+bridge#channel-ch-") {
		t.Fatalf("create: got %d to %q", res.StatusCode, loc)
	}
	id := strings.TrimPrefix(loc, "/alerts/rules?channel_created=Pager+bridge#channel-")
	c, ok := chans("default")[id]
	if !ok || c.Type != "webhook" || c.URL != form.Get("url") || c.Secret != "sign-me" || c.MinSeverity != "warning" || !c.Enabled || !c.CreatedAt.Equal(testNow) {
		t.Fatalf("stored channel: got %+v", c)
	}
	_, body := get(t, srv, loc)
	if !strings.Contains(body, `data-channel-id="`+id+`"`) || !strings.Contains(body, "https://bridge.example.net/…") {
		t.Error("the new channel is not listed with its masked destination")
	}
	for _, leak := range []string{"tok-123", "key=abc", "sign-me"} {
		if strings.Contains(body, leak) {
			t.Errorf("the page shows %q of the channel's URL or secret", leak)
		}
	}

	tests := []struct {
		name string
		form url.Values
		msg  string
	}{
		{"no url", url.Values{"type": {"slack"}, "name": {"typed name"}}, "slack channels need a url"},
		{"bad url", url.Values{"type": {"discord"}, "url": {"ftp://x/y"}, "name": {"typed name"}}, "url must be an absolute http or https URL"},
		{"pagerduty key", url.Values{"type": {"pagerduty"}, "name": {"typed name"}}, "pagerduty channels need a routing_key"},
		{"type", url.Values{"type": {"carrier-pigeon"}, "name": {"typed name"}}, "type &#34;carrier-pigeon&#34;: want webhook, slack, pagerduty or discord"},
		{"severity", url.Values{"type": {"webhook"}, "url": {"https://x.example"}, "min_severity": {"loud"}, "secret": {"keep-me-secret"}, "name": {"typed name"}}, "min_severity: want info, warning or critical"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := post(t, srv, "/alerts/channels", tt.form)
			if res.StatusCode != 400 || !strings.Contains(body, tt.msg) {
				t.Errorf("got %d, want 400 with %q", res.StatusCode, tt.msg)
			}
			if !strings.Contains(body, `id="channel-error"`) || !strings.Contains(body, `value="typed name"`) {
				t.Error("the channel form is not re-rendered as typed with its error")
			}
			if strings.Contains(body, "keep-me-secret") {
				t.Error("the re-rendered form shows the secret")
			}
		})
	}
	if got := len(chans("default")); got != 3 {
		t.Errorf("channels after rejected forms: got %d, want 3", got)
	}

	if res := postForm(t, srv, "/alerts/channels/"+id+"/delete", url.Values{}, true, ""); res.StatusCode != http.StatusForbidden {
		t.Errorf("delete without a token: got %d, want 403", res.StatusCode)
	}
	if res := postForm(t, srv, "/alerts/channels", form, false, ""); res.StatusCode != http.StatusForbidden {
		t.Errorf("create without the cookie: got %d, want 403", res.StatusCode)
	}
	res, _ = post(t, srv, "/alerts/channels/"+id+"/delete", nil)
	if res.StatusCode != 303 || res.Header.Get("Location") != "/alerts/rules?channel_deleted=Pager+bridge#channels" {
		t.Errorf("delete: got %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, ok := chans("default")[id]; ok {
		t.Error("the deleted channel is still stored")
	}
	if res, _ := post(t, srv, "/alerts/channels/"+id+"/delete", nil); res.StatusCode != 404 {
		t.Errorf("delete twice: got %d, want 404", res.StatusCode)
	}
}
