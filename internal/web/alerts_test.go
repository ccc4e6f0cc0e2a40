package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// post sends a same-origin form POST with the CSRF cookie and token and returns the
// response (redirects not followed) and its body.
func post(t *testing.T, srv *testServer, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set(csrfField, fixedToken)
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: csrfCookie, Value: fixedToken})
	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// alertIDsIn extracts the data-alert-id values of a page, in order.
func alertIDsIn(body string) []string {
	var ids []string
	for _, part := range strings.Split(body, `data-alert-id="`)[1:] {
		ids = append(ids, part[:strings.Index(part, `"`)])
	}
	return ids
}

func TestAlertFilters(t *testing.T) {
	srv := seededServer(t)
	tests := []struct {
		query  string
		status int
		want   []string
		text   string // must appear in the body
	}{
		{"", 200, []string{aid(1), aid(4), aid(2), aid(3)}, "4 alerts on this page"},
		{"window=all", 200, []string{aid(1), aid(4), aid(2), aid(3), aid(5)}, ""},
		{"window=1h", 200, []string{aid(1), aid(4)}, ""},
		{"status=firing", 200, []string{aid(1), aid(4)}, ""},
		{"status=acknowledged", 200, []string{aid(2)}, ""},
		{"type=quality_drop", 200, []string{aid(4), aid(2)}, ""},
		{"severity=critical", 200, []string{aid(1)}, ""},
		{"service=support-bot", 200, []string{aid(2)}, ""},
		{"service=other-project-svc&window=all", 200, nil, "No alerts match these filters."},
		{"status=maybe", 400, nil, "status must be one of firing, acknowledged, resolved, got &#34;maybe&#34;"},
		{"type=cost", 400, nil, "type must be one of"},
		{"window=2y", 400, nil, "window must be 1h, 24h, 7d, 30d or all"},
		{"cursor=bogus", 400, nil, "The pagination cursor is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res, body := get(t, srv, "/alerts?"+tt.query)
			if res.StatusCode != tt.status {
				t.Fatalf("status: got %d, want %d", res.StatusCode, tt.status)
			}
			if got := alertIDsIn(body); !slices.Equal(got, tt.want) {
				t.Errorf("alerts: got %v, want %v", got, tt.want)
			}
			if !strings.Contains(body, tt.text) {
				t.Errorf("body lacks %q", tt.text)
			}
		})
	}
}

func TestAlertStatCards(t *testing.T) {
	srv := seededServer(t)
	_, body := get(t, srv, "/alerts")
	for _, want := range []string{
		`href="/alerts"><div class="kpi-label">Open</div><div class="kpi-value">3</div>`,
		`href="/alerts?status=firing"><div class="kpi-label">Firing</div><div class="kpi-value">2</div>`,
		`<div class="kpi-label">Acknowledged</div><div class="kpi-value">1</div>`,
		`<div class="kpi-label">Resolved</div><div class="kpi-value">1</div>`,
		`href="/alerts?severity=critical"><div class="kpi-label">Critical, open</div><div class="kpi-value">1</div>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("stat cards lack %s", want)
		}
	}
	// The window counts too: over 30 days the error-rate alert of 10 days ago is firing.
	_, body = get(t, srv, "/alerts?window=30d")
	if !strings.Contains(body, `href="/alerts?status=firing&amp;window=30d"><div class="kpi-label">Firing</div><div class="kpi-value">3</div>`) {
		t.Errorf("30-day firing card: not 3 with a deep link keeping the window")
	}
}

func TestAlertPagination(t *testing.T) {
	srv := newTestServer(t, func() time.Time { return testNow }, nil)
	for i := range 57 {
		a := store.Alert{ID: aid(100 + i), ProjectID: "default", RuleID: "r", Type: store.RuleCostSpike, Severity: store.SeverityWarning,
			Status: store.AlertFiring, DedupKey: fmt.Sprint(i), Metric: "cost_usd", Observed: 1, Baseline: 0.5,
			FiredAt: testNow.Add(-time.Duration(i%5) * time.Minute), LastSeenAt: testNow}
		if err := srv.store.PutAlert(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	path, pages := "/alerts?status=firing", 0
	for path != "" && pages < 5 {
		pages++
		_, body := get(t, srv, path)
		for _, id := range alertIDsIn(body) {
			if seen[id] {
				t.Errorf("alert %s on two pages", id)
			}
			seen[id] = true
		}
		path = ""
		if i := strings.Index(body, `rel="next"`); i >= 0 {
			j := strings.LastIndex(body[:i], `href="`)
			path = strings.ReplaceAll(body[j+6:strings.Index(body[j+6:], `"`)+j+6], "&amp;", "&")
			if !strings.Contains(path, "status=firing") || !strings.Contains(path, "cursor=") {
				t.Errorf("next page link %q drops the filter or the cursor", path)
			}
		}
	}
	if pages != 2 || len(seen) != 57 {
		t.Errorf("57 alerts at 50 a page: got %d pages and %d alerts, want 2 and 57", pages, len(seen))
	}
}

func TestAlertDetail(t *testing.T) {
	srv := seededServer(t)
	tests := []struct {
		path   string
		status int
		want   []string
	}{
		{"/alerts/" + aid(1), 200, []string{"Observed vs baseline", `width="300"`, "threshold $0.004800 (baseline &#43;20%)",
			`href="/traces/` + tid(4) + `?span=` + sid(43) + `"`, "Ops webhook", "503 Service Unavailable", `id="ack"`, `id="resolve"`}},
		{"/alerts/" + aid(2), 200, []string{"this rule compares with an absolute threshold", "Acknowledged</dt>", `id="resolve"`}},
		{"/alerts/" + aid(3), 200, []string{"by auto", "No deliveries"}},
		{"/alerts/" + aid(9), 404, []string{"Not found"}},
		{"/alerts/" + aid(77), 404, []string{"Not found"}},
	}
	for _, tt := range tests {
		res, body := get(t, srv, tt.path)
		if res.StatusCode != tt.status {
			t.Errorf("GET %s: got status %d, want %d", tt.path, res.StatusCode, tt.status)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s: body lacks %q", tt.path, w)
			}
		}
	}
	// An acknowledged alert offers no acknowledge button; a resolved one no button at all.
	if _, body := get(t, srv, "/alerts/"+aid(2)); strings.Contains(body, `id="ack"`) {
		t.Error("acknowledged alert offers acknowledge")
	}
	if _, body := get(t, srv, "/alerts/"+aid(3)); strings.Contains(body, `id="resolve"`) || strings.Contains(body, `id="ack"`) {
		t.Error("resolved alert offers an action")
	}
}

func TestAlertActions(t *testing.T) {
	srv := seededServer(t)
	ctx := context.Background()
	status := func(id string) store.Alert {
		a, err := srv.store.Alert(ctx, "default", id)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	// Refused without the token, with a wrong one, and cross-origin: the alert stays firing.
	for _, tc := range []struct {
		name   string
		form   url.Values
		cookie bool
		origin string
	}{
		{"no token", url.Values{}, true, ""},
		{"wrong token", url.Values{"csrf_token": {"nope"}}, true, ""},
		{"no cookie", url.Values{"csrf_token": {fixedToken}}, false, ""},
		{"cross origin", url.Values{"csrf_token": {fixedToken}}, true, "https://evil.example"},
	} {
		res := postForm(t, srv, "/alerts/"+aid(1)+"/acknowledge", tc.form, tc.cookie, tc.origin)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: got status %d, want 403", tc.name, res.StatusCode)
		}
	}
	if got := status(aid(1)).Status; got != store.AlertFiring {
		t.Fatalf("after refused POSTs: status %q, want firing", got)
	}

	res, _ := post(t, srv, "/alerts/"+aid(1)+"/acknowledge", url.Values{"return": {"/alerts?status=firing"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/alerts?done=acknowledged&status=firing" {
		t.Errorf("acknowledge: got %d to %q, want 303 to the list with done=acknowledged", res.StatusCode, res.Header.Get("Location"))
	}
	a := status(aid(1))
	if a.Status != store.AlertAcknowledged || !a.AcknowledgedAt.Equal(testNow) {
		t.Errorf("after acknowledge: got %s at %v, want acknowledged at %v", a.Status, a.AcknowledgedAt, testNow)
	}
	if _, body := get(t, srv, "/alerts?done=acknowledged"); !strings.Contains(body, "Alert acknowledged") {
		t.Error("the list shows no acknowledged flash")
	}

	// An open redirect is refused: the return path falls back to the alert.
	res, _ = post(t, srv, "/alerts/"+aid(2)+"/resolve", url.Values{"return": {"//evil.example/x"}})
	if loc := res.Header.Get("Location"); loc != "/alerts/"+aid(2)+"?done=resolved" {
		t.Errorf("resolve with a foreign return: redirected to %q", loc)
	}
	if a := status(aid(2)); a.Status != store.AlertResolved || a.ResolvedBy != "user" {
		t.Errorf("after resolve: got %s by %q, want resolved by user", a.Status, a.ResolvedBy)
	}
	res, body := post(t, srv, "/alerts/"+aid(3)+"/acknowledge", nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "it cannot be acknowledged") {
		t.Errorf("acknowledge a resolved alert: got %d, want 400 saying why", res.StatusCode)
	}
	for _, path := range []string{"/alerts/" + aid(9) + "/acknowledge", "/alerts/" + aid(9) + "/resolve", "/alerts/" + aid(77) + "/resolve"} {
		if res, _ := post(t, srv, path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: got %d, want 404", path, res.StatusCode)
		}
	}
	if other, err := srv.store.Alert(ctx, "someone-else", aid(9)); err != nil || other.Status != store.AlertFiring {
		t.Errorf("the other project's alert: got %v (err %v), want it untouched", other.Status, err)
	}
}

func TestAlertRuleEdits(t *testing.T) {
	var validated []string
	srv := newTestServer(t, func() time.Time { return testNow }, func(c *Config) {
		c.ValidateRule = func(r *store.AlertRule) error {
			validated = append(validated, r.ID)
			if r.Type == store.RuleCostSpike && r.Threshold > 5 {
				return errors.New("cost_spike: threshold over 500% is a typo")
			}
			return nil
		}
	})
	seedAlerts(t, srv.store)
	rule := func(id string) store.AlertRule {
		rules, err := srv.store.AlertRules(context.Background(), "default")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			if r.ID == id {
				return r
			}
		}
		t.Fatalf("rule %s not stored", id)
		return store.AlertRule{}
	}
	tests := []struct {
		name, path, field, value string
		status                   int
		body                     string
		check                    func(r store.AlertRule) bool
	}{
		{"percent", "/alerts/rules/rule-cost/threshold", "threshold", "35", 303, "",
			func(r store.AlertRule) bool { return r.Threshold == 0.35 && r.UpdatedAt.Equal(testNow) }},
		{"percent sign", "/alerts/rules/rule-cost/threshold", "threshold", " 40 % ", 303, "", func(r store.AlertRule) bool { return r.Threshold == 0.4 }},
		{"absolute", "/alerts/rules/rule-quality/threshold", "threshold", "0.65", 303, "", func(r store.AlertRule) bool { return r.Threshold == 0.65 }},
		{"usd", "/alerts/rules/rule-budget/threshold", "threshold", "120", 303, "", func(r store.AlertRule) bool { return r.Threshold == 120 }},
		{"not a number", "/alerts/rules/rule-cost/threshold", "threshold", "lots<b>", 400, "threshold must be a number (% over baseline), got &#34;lots&lt;b&gt;&#34;", nil},
		{"kept as typed", "/alerts/rules/rule-cost/threshold", "threshold", "lots", 400, `value="lots"`, nil},
		{"negative", "/alerts/rules/rule-cost/threshold", "threshold", "-5", 400, "threshold must be above 0", nil},
		{"empty", "/alerts/rules/rule-cost/threshold", "threshold", "", 400, "threshold is required", nil},
		{"quality above 1", "/alerts/rules/rule-quality/threshold", "threshold", "1.5", 400, "threshold for quality_drop must be at most 1", nil},
		{"validator", "/alerts/rules/rule-cost/threshold", "threshold", "900", 400, "threshold over 500% is a typo", nil},
		{"disable", "/alerts/rules/rule-cost/enabled", "enabled", "false", 303, "", func(r store.AlertRule) bool { return !r.Enabled }},
		{"enable", "/alerts/rules/rule-budget/enabled", "enabled", "true", 303, "", func(r store.AlertRule) bool { return r.Enabled }},
		{"enabled garbage", "/alerts/rules/rule-budget/enabled", "enabled", "yes", 400, "enabled must be true or false", nil},
		{"other project", "/alerts/rules/rule-other/enabled", "enabled", "false", 404, "Not found", nil},
		{"unknown", "/alerts/rules/nope/threshold", "threshold", "1", 404, "Not found", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := post(t, srv, tt.path, url.Values{tt.field: {tt.value}})
			if res.StatusCode != tt.status {
				t.Fatalf("got status %d, want %d; body:\n%s", res.StatusCode, tt.status, body)
			}
			if !strings.Contains(body, tt.body) {
				t.Errorf("body lacks %q", tt.body)
			}
			if tt.check != nil {
				id := strings.Split(tt.path, "/")[3]
				if r := rule(id); !tt.check(r) {
					t.Errorf("stored rule: got %+v", r)
				}
				if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/alerts/rules?saved="+id) {
					t.Errorf("redirect: got %q", loc)
				}
			}
		})
	}
	if r := rule("rule-cost"); r.Threshold != 0.4 {
		t.Errorf("rejected edits changed the threshold: got %v, want 0.4", r.Threshold)
	}
	if !slices.Contains(validated, "rule-cost") {
		t.Error("Config.ValidateRule was not consulted")
	}
	if res := postForm(t, srv, "/alerts/rules/rule-cost/threshold", url.Values{"threshold": {"1"}}, true, ""); res.StatusCode != http.StatusForbidden {
		t.Errorf("threshold edit without a token: got %d, want 403", res.StatusCode)
	}
}

func TestChannelTest(t *testing.T) {
	type call struct {
		ch store.Channel
		d  store.Delivery
	}
	var calls []call
	answer := func(int) (int, error) { return 200, nil }
	srv := newTestServer(t, func() time.Time { return testNow }, func(c *Config) {
		c.TestChannel = func(_ context.Context, ch store.Channel, d store.Delivery) (int, error) {
			calls = append(calls, call{ch, d})
			return answer(len(calls))
		}
	})
	seedAlerts(t, srv.store)

	_, body := get(t, srv, "/alerts/rules")
	if strings.Contains(body, "secret-path") || strings.Contains(body, "s3cret") || strings.Contains(body, "XYZ") {
		t.Error("the channel list shows a webhook path or secret")
	}
	if !strings.Contains(body, "https://hooks.example.com/…") || !strings.Contains(body, ">signed<") {
		t.Error("the channel list does not show the redacted destination and the signed badge")
	}

	res, body := post(t, srv, "/alerts/channels/ch-ops/test", nil)
	if res.StatusCode != 200 || !strings.Contains(body, "Delivered: the channel answered HTTP 200.") {
		t.Errorf("test send: got %d, want 200 with the delivered message", res.StatusCode)
	}
	if len(calls) != 1 || calls[0].ch.ID != "ch-ops" || calls[0].d.Event != store.EventTest || calls[0].d.Alert.ProjectID != "default" ||
		!strings.Contains(calls[0].d.Alert.Explanation, "test alert") {
		t.Fatalf("tester calls: got %+v", calls)
	}
	answer = func(int) (int, error) { return 500, errors.New("server said <no>") }
	_, body = post(t, srv, "/alerts/channels/ch-slack/test", nil)
	if !strings.Contains(body, "Not delivered (HTTP 500): server said &lt;no&gt;") {
		t.Error("failed test send: the page does not say what the channel answered")
	}
	if res, _ := post(t, srv, "/alerts/channels/nope/test", nil); res.StatusCode != 404 {
		t.Errorf("unknown channel: got %d, want 404", res.StatusCode)
	}
	if res := postForm(t, srv, "/alerts/channels/ch-ops/test", url.Values{}, true, ""); res.StatusCode != http.StatusForbidden {
		t.Errorf("test send without a token: got %d, want 403", res.StatusCode)
	}
	if len(calls) != 2 {
		t.Errorf("tester calls: got %d, want 2 (refused and unknown sends call nothing)", len(calls))
	}

	// Without a tester the button is disabled and a POST says why.
	plain := seededServer(t)
	if _, body := get(t, plain, "/alerts/rules"); !strings.Contains(body, "disabled title=\"Channel tests are not available in this process\"") {
		t.Error("without a tester the send-test button is not disabled")
	}
	if res, body := post(t, plain, "/alerts/channels/ch-ops/test", nil); res.StatusCode != 400 || !strings.Contains(body, "not available in this process") {
		t.Errorf("send test without a tester: got %d", res.StatusCode)
	}
}

func TestAlertPagesEscapeHostileText(t *testing.T) {
	srv := seededServer(t)
	for _, path := range []string{"/alerts", "/alerts/" + aid(4), "/alerts?service=" + url.QueryEscape(xssPayload)} {
		_, body := get(t, srv, path)
		if strings.Contains(body, `<script>alert("xss")</script>`) || strings.Contains(body, "<img src=x") {
			t.Errorf("GET %s: the payload reached the page unescaped", path)
		}
		if !strings.Contains(body, `&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;`) {
			t.Errorf("GET %s: the escaped payload is not shown", path)
		}
		if inlineHandler.MatchString(body) {
			t.Errorf("GET %s: an inline event handler", path)
		}
	}
}
