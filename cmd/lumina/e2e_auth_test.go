package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// authApp is a Lumina with AUTH_REQUIRED=true and two projects, each with a key.
type authApp struct {
	*testApp
	keyA, keyB string
	keyBID     string
}

const (
	adminEmail    = "admin@example.com"
	adminPassword = "admin password 1"
)

func startAuthApp(t *testing.T, flags ...string) *authApp {
	t.Helper()
	a := startTestApp(t, append([]string{"--auth-required", "--web-addr", "127.0.0.1:0", "--replay-addr", "127.0.0.1:0",
		"--admin-email", adminEmail, "--admin-password", adminPassword}, flags...)...)
	ctx := context.Background()
	out := &authApp{testApp: a}
	for _, p := range []string{"proj-a", "proj-b"} {
		if _, err := a.auth.CreateProject(ctx, p, strings.ToUpper(p)); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if _, out.keyA, err = a.auth.CreateKey(ctx, "proj-a", "a"); err != nil {
		t.Fatal(err)
	}
	k, secret, err := a.auth.CreateKey(ctx, "proj-b", "b")
	if err != nil {
		t.Fatal(err)
	}
	out.keyB, out.keyBID = secret, k.ID
	return out
}

// do sends a request with the given headers and returns the status and body.
func do(t *testing.T, client *http.Client, method, url string, body []byte, header http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func bearer(key string) http.Header {
	return http.Header{"Authorization": {"Bearer " + key}, "Content-Type": {"application/json"}}
}

// ingestWith sends one trace with key over OTLP/HTTP protobuf and waits until the API
// (read with the same key) has it.
func (a *authApp) ingestWith(key, service string) string {
	a.t.Helper()
	td, traceID := buildTraces(service, 2)
	h := http.Header{"Content-Type": {"application/x-protobuf"}, "X-Api-Key": {key}}
	if st, body := do(a.t, nil, "POST", a.url("otlp-http", "/v1/traces"), protoBody(a.t, td), h); st != http.StatusOK {
		a.t.Fatalf("ingest with a valid key: %d %s", st, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if st, _ := do(a.t, nil, "GET", a.url("api", "/api/v1/traces/"+traceID), nil, bearer(key)); st == http.StatusOK {
			return traceID
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.t.Fatalf("trace %s never became readable with its project's key", traceID)
	return ""
}

func TestAuthIngestion(t *testing.T) {
	a := startAuthApp(t)
	td, _ := buildTraces("svc", 1)
	body := protoBody(t, td)
	revoked, revokedKey, err := a.auth.CreateKey(context.Background(), "proj-a", "old")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.auth.RevokeKey(context.Background(), "proj-a", revoked.ID); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		header http.Header
		want   string
	}{
		{"no key", http.Header{}, "send a project API key"},
		{"invalid key", http.Header{"Authorization": {"Bearer lum_not-a-real-key"}}, "invalid API key"},
		{"revoked key", http.Header{"X-Api-Key": {revokedKey}}, "revoked"},
		{"session cookie only", http.Header{"Cookie": {"lumina_session=whatever"}}, "send a project API key"},
	} {
		t.Run("http "+tt.name, func(t *testing.T) {
			for _, ct := range []string{"application/x-protobuf", "application/json"} {
				tt.header.Set("Content-Type", ct)
				st, out := do(t, nil, "POST", a.url("otlp-http", "/v1/traces"), body, tt.header)
				if st != http.StatusUnauthorized || !strings.Contains(string(out), tt.want) {
					t.Fatalf("%s: got %d %q, want 401 naming %q", ct, st, out, tt.want)
				}
			}
		})
	}

	conn, err := grpc.NewClient(a.addr("otlp-grpc"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	req := ptraceotlp.NewExportRequestFromTraces(td)
	for _, md := range []metadata.MD{{}, {"authorization": {"Bearer nope"}}, {"x-api-key": {revokedKey}}} {
		ctx := metadata.NewOutgoingContext(context.Background(), md)
		if _, err := client.Export(ctx, req); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("gRPC export with %v: got %v, want UNAUTHENTICATED", md, err)
		}
	}
	ctx := metadata.NewOutgoingContext(context.Background(), metadata.MD{"authorization": {"Bearer " + a.keyB}})
	if _, err := client.Export(ctx, req); err != nil {
		t.Fatalf("gRPC export with a valid key: %v", err)
	}

	// Every accepted span lands in its key's project.
	a.ingestWith(a.keyA, "svc-a")
	var page struct {
		Traces []struct {
			ServiceName string `json:"service_name"`
		} `json:"traces"`
	}
	st, out := do(t, nil, "GET", a.url("api", "/api/v1/traces?limit=100"), nil, bearer(a.keyA))
	if err := json.Unmarshal(out, &page); st != 200 || err != nil || len(page.Traces) == 0 {
		t.Fatalf("list traces: %d %s", st, out)
	}
	for _, tr := range page.Traces {
		if tr.ServiceName != "svc-a" {
			t.Fatalf("project A lists a trace of %q: %s", tr.ServiceName, out)
		}
	}
}

// apiRoute is one API route, with a path whose ids are project B's objects.
type apiRoute struct {
	listener, method, pattern, path string
	body                            string
}

// TestAuthProjectIsolation drives every API route with project A's key against project
// B's objects: nothing of B is read, changed or deleted. It also checks that the table
// names every route the api package registers, so a new route cannot skip the check.
func TestAuthProjectIsolation(t *testing.T) {
	a := startAuthApp(t)
	ctx := context.Background()
	traceB := a.ingestWith(a.keyB, "svc-b-secret")
	now := time.Now().UTC()
	rule := store.AlertRule{ID: "rule-b", ProjectID: "proj-b", Type: store.RuleCostSpike, Name: "b rule", Enabled: true, Severity: "warning", Threshold: 0.2}
	channel := store.Channel{ID: "ch-b", ProjectID: "proj-b", Type: "webhook", Name: "b hook", URL: "http://127.0.0.1:1/b", Enabled: true, CreatedAt: now}
	alert := store.Alert{ID: strings.Repeat("b", 32), ProjectID: "proj-b", RuleID: rule.ID, Type: store.RuleCostSpike, Severity: "warning",
		Status: store.AlertFiring, DedupKey: "b", Metric: "cost", Explanation: "b alert", Count: 1, FiredAt: now, LastSeenAt: now}
	price := genai.Price{ID: "price-b", ProjectID: "proj-b", Provider: "openai", Model: "b-model", MatchType: "exact", InputPerMTok: 1, OutputPerMTok: 2, CreatedAt: now}
	set := store.ReplaySet{ProjectID: "proj-b", ID: "set-b", CreatedAt: now, Doc: []byte(`{"id":"set-b","project_id":"proj-b","name":"b set"}`)}
	run := store.ReplayRun{ProjectID: "proj-b", ID: "run-b", SetID: "set-b", Status: "completed", CreatedAt: now, Doc: []byte(`{"id":"run-b","set_id":"set-b"}`)}
	for name, err := range map[string]error{
		"rule":    a.store.PutAlertRule(ctx, rule),
		"channel": a.store.PutChannel(ctx, channel),
		"alert":   a.store.PutAlert(ctx, alert),
		"price":   a.store.PutPrice(ctx, price),
		"set":     a.store.PutReplaySet(ctx, set, nil),
	} {
		if err != nil {
			t.Fatalf("store project B's %s: %v", name, err)
		}
	}
	if err := a.store.PutReplayRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	job := store.JudgeJob{ID: "job-b", ProjectID: "proj-b", TraceID: traceB, SpanID: "00000000000000b1", Endpoint: "svc-b-secret/chat",
		Service: "svc-b-secret", Trigger: "band", Prompt: "b prompt", Response: "b response", Status: "pending", CreatedAt: now, UpdatedAt: now, NextAttempt: now.Add(time.Hour)}
	if _, err := a.store.EnqueueJudgeJobs(ctx, []store.JudgeJob{job}); err != nil {
		t.Fatal(err)
	}

	routes := []apiRoute{
		{"api", "GET", "/api/v1/traces", "/api/v1/traces?limit=1000", ""},
		{"api", "GET", "/api/v1/traces/{trace_id}", "/api/v1/traces/" + traceB, ""},
		{"api", "GET", "/api/v1/logs", "/api/v1/logs?trace_id=" + traceB, ""},
		{"api", "GET", "/api/v1/models/unpriced", "/api/v1/models/unpriced", ""},
		{"api", "GET", "/api/v1/prices", "/api/v1/prices", ""},
		{"api", "POST", "/api/v1/prices", "/api/v1/prices", `{"provider":"openai","model":"a-model","input_per_mtok":1,"output_per_mtok":1}`},
		{"api", "DELETE", "/api/v1/prices/{id}", "/api/v1/prices/" + price.ID, ""},
		{"api", "GET", "/api/v1/prices/resolve", "/api/v1/prices/resolve?provider=openai&model=b-model", ""},
		{"api", "GET", "/api/v1/usage", "/api/v1/usage", ""},
		{"api", "GET", "/api/v1/alert-rules", "/api/v1/alert-rules", ""},
		{"api", "POST", "/api/v1/alert-rules", "/api/v1/alert-rules", `{"type":"cost_spike","name":"a rule"}`},
		{"api", "PATCH", "/api/v1/alert-rules/{id}", "/api/v1/alert-rules/" + rule.ID, `{"enabled":false}`},
		{"api", "DELETE", "/api/v1/alert-rules/{id}", "/api/v1/alert-rules/" + rule.ID, ""},
		{"api", "GET", "/api/v1/alerts", "/api/v1/alerts", ""},
		{"api", "GET", "/api/v1/alerts/stats", "/api/v1/alerts/stats", ""},
		{"api", "GET", "/api/v1/alerts/{id}", "/api/v1/alerts/" + alert.ID, ""},
		{"api", "POST", "/api/v1/alerts/{id}/acknowledge", "/api/v1/alerts/" + alert.ID + "/acknowledge", ""},
		{"api", "POST", "/api/v1/alerts/{id}/resolve", "/api/v1/alerts/" + alert.ID + "/resolve", ""},
		{"api", "GET", "/api/v1/baselines", "/api/v1/baselines", ""},
		{"api", "GET", "/api/v1/channels", "/api/v1/channels", ""},
		{"api", "POST", "/api/v1/channels", "/api/v1/channels", `{"type":"webhook","name":"a hook","url":"http://127.0.0.1:1/a"}`},
		{"api", "PATCH", "/api/v1/channels/{id}", "/api/v1/channels/" + channel.ID, `{"name":"renamed by a"}`},
		{"api", "GET", "/api/v1/channels/{id}/deliveries", "/api/v1/channels/" + channel.ID + "/deliveries", ""},
		{"api", "DELETE", "/api/v1/channels/{id}", "/api/v1/channels/" + channel.ID, ""},
		{"api", "POST", "/api/v1/channels/{id}/test", "/api/v1/channels/" + channel.ID + "/test", ""},
		{"api", "GET", "/api/v1/quality/judge", "/api/v1/quality/judge", ""},
		{"api", "GET", "/api/v1/quality/jobs", "/api/v1/quality/jobs", ""},
		{"api", "GET", "/api/v1/quality/summary", "/api/v1/quality/summary", ""},
		{"api", "GET", "/api/v1/me", "/api/v1/me", ""},
		{"api", "GET", "/api/v1/projects", "/api/v1/projects", ""},
		{"api", "GET", "/api/v1/keys", "/api/v1/keys", ""},
		{"api", "POST", "/api/v1/keys", "/api/v1/keys", `{"name":"made by a"}`},
		{"api", "DELETE", "/api/v1/keys/{id}", "/api/v1/keys/" + a.keyBID, ""},
		{"replay", "GET", "/api/v1/replay/sets", "/api/v1/replay/sets", ""},
		{"replay", "POST", "/api/v1/replay/sets", "/api/v1/replay/sets", `{"name":"a set","trace_ids":["` + traceB + `"]}`},
		{"replay", "GET", "/api/v1/replay/sets/{id}", "/api/v1/replay/sets/" + set.ID, ""},
		{"replay", "DELETE", "/api/v1/replay/sets/{id}", "/api/v1/replay/sets/" + set.ID, ""},
		{"replay", "GET", "/api/v1/replay/sets/{id}/runs", "/api/v1/replay/sets/" + set.ID + "/runs", ""},
		{"replay", "POST", "/api/v1/replay/sets/{id}/runs", "/api/v1/replay/sets/" + set.ID + "/runs", `{"mode":"simulation"}`},
		{"replay", "POST", "/api/v1/replay/estimate", "/api/v1/replay/estimate", `{"set_id":"` + set.ID + `"}`},
		{"replay", "GET", "/api/v1/replay/runs/{id}", "/api/v1/replay/runs/" + run.ID, ""},
		{"replay", "GET", "/api/v1/replay/runs/{id}/results", "/api/v1/replay/runs/" + run.ID + "/results", ""},
		{"replay", "POST", "/api/v1/replay/runs/{id}/cancel", "/api/v1/replay/runs/" + run.ID + "/cancel", ""},
	}
	checkRoutesCovered(t, routes)

	// Project B's markers: none may appear in an answer to project A, beyond the ids the
	// request itself sent.
	markers := []string{traceB, "svc-b-secret", rule.ID, channel.ID, alert.ID, price.ID, "b-model", set.ID, run.ID, a.keyBID, "proj-b", job.ID, "b prompt"}
	for _, r := range routes {
		t.Run(r.method+" "+r.pattern, func(t *testing.T) {
			u := a.url(r.listener, r.path)
			if st, out := do(t, nil, r.method, u, []byte(r.body), http.Header{"Content-Type": {"application/json"}}); st != http.StatusUnauthorized {
				t.Fatalf("without a key: got %d %s, want 401", st, out)
			}
			st, out := do(t, nil, r.method, u, []byte(r.body), bearer(a.keyA))
			if strings.Contains(r.pattern, "{") && st != http.StatusNotFound {
				t.Fatalf("project A's key on project B's object: got %d %s, want 404", st, out)
			}
			if st == http.StatusUnauthorized || st >= 500 {
				t.Fatalf("project A's key: got %d %s", st, out)
			}
			for _, m := range markers {
				// An id the request itself names may be echoed in its error.
				if strings.Contains(r.path+r.body, m) {
					continue
				}
				if strings.Contains(string(out), m) {
					t.Fatalf("project A's answer (%d) shows project B's %q: %s", st, m, out)
				}
			}
		})
	}

	// Everything of B is still there and unchanged.
	if _, err := a.store.Trace(ctx, "proj-b", traceB); err != nil {
		t.Errorf("B's trace: %v", err)
	}
	rules, _ := a.store.AlertRules(ctx, "proj-b")
	if i := slices.IndexFunc(rules, func(r store.AlertRule) bool { return r.ID == rule.ID }); i < 0 || !rules[i].Enabled {
		t.Errorf("B's rule was changed or deleted: %+v", rules)
	}
	if chs, _ := a.store.Channels(ctx, "proj-b"); len(chs) != 1 {
		t.Errorf("B's channels: %+v", chs)
	}
	if al, err := a.store.Alert(ctx, "proj-b", alert.ID); err != nil || al.Status != store.AlertFiring {
		t.Errorf("B's alert: %+v, %v; want still firing", al, err)
	}
	if ps, _ := a.store.Prices(ctx, "proj-b"); len(ps) != 1 {
		t.Errorf("B's prices: %+v", ps)
	}
	if _, err := a.store.ReplaySet(ctx, "proj-b", set.ID); err != nil {
		t.Errorf("B's replay set: %v", err)
	}
	if r, err := a.store.ReplayRun(ctx, "proj-b", run.ID); err != nil || r.Status != "completed" {
		t.Errorf("B's replay run: %+v, %v", r, err)
	}
	if jobs, err := a.store.JudgeJobs(ctx, store.JudgeJobQuery{ProjectID: "proj-b"}); err != nil || len(jobs) != 1 {
		t.Errorf("B's judge jobs: %+v, %v", jobs, err)
	}
	if st, out := do(t, nil, "GET", a.url("api", "/api/v1/traces/"+traceB), nil, bearer(a.keyB)); st != http.StatusOK {
		t.Errorf("B's key after A's attempts: %d %s (was B's key revoked?)", st, out)
	}
}

// checkRoutesCovered fails when the api package registers a route the table lacks.
func checkRoutesCovered(t *testing.T, routes []apiRoute) {
	t.Helper()
	files, err := os.ReadDir("../../internal/api")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`HandleFunc\("([A-Z]+) (/api/v1/[^"]*)"`)
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		src, err := os.ReadFile("../../internal/api/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			if !slices.ContainsFunc(routes, func(r apiRoute) bool { return r.method == m[1] && r.pattern == m[2] }) {
				t.Errorf("route %s %s (internal/api/%s) is not in the isolation table", m[1], m[2], f.Name())
			}
		}
	}
}

// TestAuthDashboard signs in and out of the dashboard and checks that a user of project A
// sees nothing of project B there.
func TestAuthDashboard(t *testing.T) {
	a := startAuthApp(t)
	ctx := context.Background()
	traceA := a.ingestWith(a.keyA, "svc-a")
	traceB := a.ingestWith(a.keyB, "svc-b-secret")
	if _, err := a.auth.CreateUser(ctx, "dev@example.com", "dev password", false, []string{"proj-a"}); err != nil {
		t.Fatal(err)
	}
	if err := a.store.PutPrice(ctx, genai.Price{ID: "price-b", ProjectID: "proj-b", Model: "b-model", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	noRedirect := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	web := func(path string) string { return a.url("web", path) }

	// Signed out: pages send the browser to the sign-in page and come back after it.
	resp, err := noRedirect.Get(web("/traces?service=svc-a"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/login?next="+url.QueryEscape("/traces?service=svc-a") {
		t.Fatalf("signed-out page: got %d to %q, want 303 to the sign-in page", resp.StatusCode, loc)
	}
	if st, body := do(t, noRedirect, "GET", web("/traces/"+traceA+"/spans/x"), nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("signed-out fragment: got %d %s, want 401", st, body)
	}
	csrf := func() string {
		st, body := do(t, noRedirect, "GET", web("/login"), nil, nil)
		m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(body)
		if st != 200 || m == nil {
			t.Fatalf("sign-in page: %d %s", st, body)
		}
		return string(m[1])
	}
	form := func(v url.Values) ([]byte, http.Header) {
		return []byte(v.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	}
	body, h := form(url.Values{"csrf_token": {csrf()}, "email": {"dev@example.com"}, "password": {"wrong password"}, "next": {"/traces"}})
	if st, out := do(t, noRedirect, "POST", web("/login"), body, h); st != http.StatusUnauthorized || !strings.Contains(string(out), "Wrong email or password") {
		t.Fatalf("wrong password: got %d, want 401 with a message", st)
	}
	body, h = form(url.Values{"email": {"dev@example.com"}, "password": {"dev password"}})
	if st, _ := do(t, noRedirect, "POST", web("/login"), body, h); st != http.StatusForbidden {
		t.Fatalf("sign-in without the CSRF token: got %d, want 403", st)
	}
	body, h = form(url.Values{"csrf_token": {csrf()}, "email": {"dev@example.com"}, "password": {"dev password"}, "next": {"//evil.example/x"}})
	req, _ := http.NewRequest("POST", web("/login"), bytes.NewReader(body))
	req.Header = h
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: got %d to %q, want 303 to / (an off-site next is dropped)", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "lumina_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie: %+v, want HttpOnly and SameSite=Lax", session)
	}

	// Signed in as a user of A: A's data shows, B's never.
	st, page := do(t, noRedirect, "GET", web("/traces"), nil, nil)
	if st != 200 || !strings.Contains(string(page), traceA[:8]) || strings.Contains(string(page), "svc-b-secret") {
		t.Fatalf("traces page: %d; want A's trace and none of B's", st)
	}
	if !strings.Contains(string(page), "dev@example.com") || !strings.Contains(string(page), "Sign out") {
		t.Fatal("the signed-in page does not show who is signed in and a sign-out button")
	}
	for _, path := range []string{"/traces/" + traceB, "/traces/" + traceB + "/spans/0000000000000001"} {
		if st, _ := do(t, noRedirect, "GET", web(path), nil, nil); st != http.StatusNotFound {
			t.Errorf("%s as a user of A: got %d, want 404", path, st)
		}
	}
	st, page = do(t, noRedirect, "GET", web("/cost"), nil, nil)
	if st != 200 || strings.Contains(string(page), "b-model") {
		t.Errorf("cost page as a user of A: %d, shows B's price: %v", st, strings.Contains(string(page), "b-model"))
	}
	token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
	if token == nil {
		t.Fatal("no CSRF token on the cost page")
	}
	body, h = form(url.Values{"csrf_token": {string(token[1])}})
	if st, _ := do(t, noRedirect, "POST", web("/cost/prices/price-b/delete"), body, h); st != http.StatusNotFound {
		t.Errorf("deleting B's price as a user of A: got %d, want 404", st)
	}
	if len(mustPrices(t, a, "proj-b")) != 1 {
		t.Error("B's price was deleted by a user of A")
	}
	if st, _ := do(t, noRedirect, "POST", web("/settings/keys/"+a.keyBID+"/revoke"), body, h); st != http.StatusNotFound {
		t.Errorf("revoking B's key as a user of A: got %d, want 404", st)
	}
	body2, h2 := form(url.Values{"csrf_token": {string(token[1])}, "project": {"proj-b"}})
	if st, _ := do(t, noRedirect, "POST", web("/settings/project"), body2, h2); st != http.StatusNotFound {
		t.Errorf("switching to project B as a user of A: got %d, want 404", st)
	}

	// The API accepts the dashboard session too, and refuses it from another site.
	if st, out := do(t, noRedirect, "GET", a.url("api", "/api/v1/me"), nil, nil); st != 200 || !strings.Contains(string(out), `"project_id":"proj-a"`) {
		t.Errorf("API with the session cookie: %d %s", st, out)
	}
	if st, out := do(t, noRedirect, "POST", a.url("api", "/api/v1/keys"), []byte(`{"name":"x"}`), http.Header{"Sec-Fetch-Site": {"cross-site"}, "Content-Type": {"application/json"}}); st != http.StatusForbidden {
		t.Errorf("cross-site POST with the session cookie: %d %s, want 403", st, out)
	}

	// Settings: create a key (shown once), see it listed by prefix, revoke it.
	body, h = form(url.Values{"csrf_token": {string(token[1])}, "name": {"from the dashboard"}})
	st, page = do(t, noRedirect, "POST", web("/settings/keys"), body, h)
	secret := regexp.MustCompile(`id="new-secret">(lum_[A-Za-z0-9_-]+)<`).FindSubmatch(page)
	if st != 200 || secret == nil {
		t.Fatalf("create a key on the settings page: %d, secret shown: %v", st, secret != nil)
	}
	if st, _ := do(t, nil, "GET", a.url("api", "/api/v1/me"), nil, bearer(string(secret[1]))); st != 200 {
		t.Fatalf("the dashboard's new key does not work: %d", st)
	}
	_, page = do(t, noRedirect, "GET", web("/settings"), nil, nil)
	if strings.Contains(string(page), string(secret[1])) {
		t.Fatal("the settings page shows a key's secret again")
	}
	// Project A sent one trace today; the quota and retention of A are shown.
	for _, want := range []string{"<td>1 of 50000 (0.0%)</td>", "7 days; deleted daily at 02:00 UTC", "from the dashboard"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("settings page lacks %q", want)
		}
	}

	// Sign out: the session is gone on the server, not just in the browser.
	body, h = form(url.Values{"csrf_token": {string(token[1])}})
	if st, _ := do(t, noRedirect, "POST", web("/logout"), body, h); st != http.StatusSeeOther {
		t.Fatalf("sign out: got %d, want 303", st)
	}
	reuse := http.Header{"Cookie": {"lumina_session=" + session.Value}}
	if st, _ := do(t, nil, "GET", a.url("api", "/api/v1/me"), nil, reuse); st != http.StatusUnauthorized {
		t.Fatalf("the old session cookie after sign-out: got %d, want 401", st)
	}
}

func mustPrices(t *testing.T, a *authApp, project string) []genai.Price {
	t.Helper()
	ps, err := a.store.Prices(context.Background(), project)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestAuthCORS(t *testing.T) {
	a := startAuthApp(t, "--cors-origins", "https://app.example.com")
	preflight := http.Header{"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"POST"},
		"Access-Control-Request-Headers": {"authorization,content-type"}}
	for _, listener := range []string{"api", "otlp-http"} {
		req, _ := http.NewRequest("OPTIONS", a.url(listener, "/v1/traces"), nil)
		req.Header = preflight.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Fatalf("%s preflight from an allowed origin: %d %v", listener, resp.StatusCode, resp.Header)
		}
		req.Header.Set("Origin", "https://evil.example")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("%s preflight from another origin got CORS headers: %v", listener, resp.Header)
		}
	}
	h := bearer(a.keyA)
	h.Set("Origin", "https://app.example.com")
	req, _ := http.NewRequest("GET", a.url("api", "/api/v1/me"), nil)
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || resp.Header.Get("Vary") != "Origin" {
		t.Fatalf("API call from an allowed origin: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestAdminCommands runs lumina projects/keys/users against a data directory, then uses
// the key they made with a server on the same directory.
func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	runCmd := func(input string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		stdin = strings.NewReader(input)
		defer func() { stdin = os.Stdin }()
		err := run(context.Background(), append(args, "--data-dir", dir), env, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	if out, err := runCmd("", "projects", "create", "shop", "--name", "Shop"); err != nil || !strings.Contains(out, "created project shop") {
		t.Fatalf("projects create: %v %s", err, out)
	}
	if _, err := runCmd("", "projects", "create", "Bad Id"); err == nil {
		t.Fatal("projects create with a bad id: got nil error")
	}
	out, err := runCmd("", "projects", "list")
	if err != nil || !strings.Contains(out, "default") || !strings.Contains(out, "shop") {
		t.Fatalf("projects list: %v %s", err, out)
	}
	if _, err := runCmd("", "keys", "create", "--project", "shop"); err == nil {
		t.Fatal("keys create without --name: got nil error")
	}
	out, err = runCmd("", "keys", "create", "--project", "shop", "--name", "ci")
	secret := regexp.MustCompile(`lum_[A-Za-z0-9_-]{43}`).FindString(out)
	if err != nil || secret == "" {
		t.Fatalf("keys create: %v %s", err, out)
	}
	out, err = runCmd("", "keys", "list", "--project", "shop")
	if err != nil || !strings.Contains(out, secret[:12]+"…") || strings.Contains(out, secret) || !strings.Contains(out, "active") {
		t.Fatalf("keys list: %v %s; want the prefix, never the secret", err, out)
	}
	keyID := regexp.MustCompile(`key_[0-9a-f]{32}`).FindString(out)
	if out, err := runCmd("", "users", "create", "--email", "ops@example.com", "--admin"); err == nil {
		t.Fatalf("users create without --password-stdin: got nil error, %s", out)
	}
	if out, err := runCmd("ops password\n", "users", "create", "--email", "ops@example.com", "--projects", "shop", "--password-stdin"); err != nil || !strings.Contains(out, "user of shop") {
		t.Fatalf("users create: %v %s", err, out)
	}
	if out, err := runCmd("", "users", "list"); err != nil || !strings.Contains(out, "ops@example.com") || strings.Contains(out, "ops password") {
		t.Fatalf("users list: %v %s", err, out)
	}

	app := startTestApp(t, "--data-dir", dir, "--auth-required", "--auth-cache-ttl", "100ms")
	td, _ := buildTraces("svc", 1)
	h := http.Header{"Content-Type": {"application/x-protobuf"}, "Authorization": {"Bearer " + secret}}
	if st, out := do(t, nil, "POST", app.url("otlp-http", "/v1/traces"), protoBody(t, td), h); st != 200 {
		t.Fatalf("ingest with the CLI's key: %d %s", st, out)
	}
	if out, err := runCmd("", "keys", "revoke", keyID, "--project", "shop"); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("keys revoke: %v %s", err, out)
	}
	if out, err := runCmd("", "keys", "revoke", keyID, "--project", "default"); err == nil {
		t.Fatalf("keys revoke in the wrong project: got nil error, %s", out)
	}
	// Another process revoked it: the server refuses it once its cache entry expires.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, out := do(t, nil, "POST", app.url("otlp-http", "/v1/traces"), protoBody(t, td), h)
		if st == http.StatusUnauthorized && strings.Contains(string(out), "revoked") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ingest with the revoked key: still %d %s", st, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
