package web

import (
	"bufio"
	"context"
	"flag"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixedToken is the CSRF cookie the golden requests send, so forms render the same bytes.
const fixedToken = "golden-token-0123456789abcdefghijklmnopqrst"

func get(t *testing.T, srv *testServer, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: csrfCookie, Value: fixedToken})
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return res, string(b)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s (run go test -update to create it): %v", path, err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from %s at line %d:\n got: %s\nwant: %s\n(run go test -update if the change is intended)", name, path, i+1, g, w)
			}
		}
	}
}

func seededServer(t *testing.T) *testServer {
	t.Helper()
	srv := newTestServer(t, func() time.Time { return testNow }, nil)
	seed(t, srv.store)
	price := genai.Price{ID: "custom-fixed-1", ProjectID: "default", Provider: "acme", Model: "acme-llm-7b", MatchType: "exact",
		InputPerMTok: 0.5, OutputPerMTok: 1.5, Source: "custom", CreatedAt: testNow.Add(-time.Hour)}
	if err := srv.store.PutPrice(context.Background(), price); err != nil {
		t.Fatal(err)
	}
	seedAlerts(t, srv.store)
	return srv
}

func TestPagesGolden(t *testing.T) {
	srv := seededServer(t)
	empty := newTestServer(t, func() time.Time { return testNow }, nil)
	tests := []struct {
		name   string
		srv    *testServer
		path   string
		status int
	}{
		{"home", srv, "/", 200},
		{"home-1h", srv, "/?window=1h", 200},
		{"home-empty", empty, "/", 200},
		{"traces", srv, "/traces", 200},
		{"traces-filtered", srv, "/traces?service=rag-api&status=error&range=24h", 200},
		{"traces-by-duration", srv, "/traces?sort=duration&order=asc&min_ms=100", 200},
		{"traces-empty", empty, "/traces", 200},
		{"trace", srv, "/traces/" + tid(4), 200},
		{"trace-tool-span", srv, "/traces/" + tid(4) + "?span=" + sid(44), 200},
		{"trace-xss", srv, "/traces/" + tid(21), 200},
		{"span-fragment", srv, "/traces/" + tid(4) + "/spans/" + sid(45), 200},
		{"cost", srv, "/cost", 200},
		{"cost-7d", srv, "/cost?window=7d", 200},
		{"settings", srv, "/settings", 200},
		{"sessions", srv, "/sessions", 200},
		{"alerts", srv, "/alerts", 200},
		{"alerts-filtered", srv, "/alerts?status=firing&window=all", 200},
		{"alert", srv, "/alerts/" + aid(1), 200},
		{"alert-rules", srv, "/alerts/rules", 200},
		{"sessions-7d", srv, "/sessions?window=7d", 200},
		{"replay-unavailable", srv, "/replay", 503},
		{"not-found", srv, "/nope", 404},
		{"trace-not-found", srv, "/traces/" + tid(999), 404},
		{"trace-bad-id", srv, "/traces/xyz", 400},
		{"trace-other-project", srv, "/traces/" + tid(40), 404},
		{"bad-filter", srv, "/traces?status=maybe", 400},
		{"bad-window", srv, "/?window=2y", 400},
		{"traces-from-to", srv, "/traces?from=2026-12-03T06:00&to=2026-12-03T11:00", 200},
		{"bad-time-range", srv, "/traces?from=2026-12-03T11:00&to=2026-12-03T10:00", 400},
		{"traces-search", srv, "/traces?q=%22Nightly+report%22&range=24h&limit=1", 200},
		{"traces-search-xss", srv, "/traces?q=" + url.QueryEscape(xssPayload), 200},
		{"bad-search", srv, "/traces?q=" + strings.Repeat("x", 257), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, tt.srv, tt.path)
			if res.StatusCode != tt.status {
				t.Fatalf("GET %s: got status %d, want %d; body:\n%s", tt.path, res.StatusCode, tt.status, body)
			}
			golden(t, tt.name, body)
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	srv := seededServer(t)
	for _, path := range []string{"/", "/traces", "/traces/" + tid(1), "/static/app.js", "/nope"} {
		res, _ := get(t, srv, path)
		h := res.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: Content-Security-Policy %q allows inline or eval", path, csp)
		}
		if got := h.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("GET %s: X-Frame-Options: got %q, want DENY", path, got)
		}
		if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options: got %q, want nosniff", path, got)
		}
	}
}

func TestNoInlineScript(t *testing.T) {
	srv := seededServer(t)
	for _, path := range []string{"/", "/traces", "/traces/" + tid(21), "/traces/" + tid(22), "/cost", "/settings"} {
		_, body := get(t, srv, path)
		rest := body
		for {
			i := strings.Index(rest, "<script")
			if i < 0 {
				break
			}
			end := strings.Index(rest[i:], ">")
			tag := rest[i : i+end+1]
			if !strings.Contains(tag, ` src="/static/`) {
				t.Errorf("GET %s: inline or foreign script tag %q", path, tag)
			}
			if !strings.HasPrefix(rest[i+end+1:], "</script>") {
				t.Errorf("GET %s: script tag %q has a body", path, tag)
			}
			rest = rest[i+end+1:]
		}
		if m := inlineHandler.FindString(body); m != "" {
			t.Errorf("GET %s: page has an inline event handler in %q", path, m)
		}
	}
}

// inlineHandler finds an on…= attribute of a tag: attribute by attribute, skipping quoted
// values, so escaped text inside a value (or outside any tag, where there is no "<") does
// not count.
var inlineHandler = regexp.MustCompile(`(?i)<[a-z][a-z0-9-]*(?:\s+[^\s=>"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*?\s+on[a-z]+\s*=`)

func TestXSSPayloadEscaped(t *testing.T) {
	srv := seededServer(t)
	for _, path := range []string{"/traces/" + tid(21), "/traces/" + tid(21) + "/spans/" + sid(213),
		"/traces/" + tid(21) + "?span=" + sid(212), "/traces/" + tid(22), "/traces", "/", "/cost"} {
		_, body := get(t, srv, path)
		if strings.Contains(body, `<script>alert("xss")</script>`) || strings.Contains(body, "<img src=x") {
			t.Errorf("GET %s: the payload reached the page unescaped", path)
		}
		if !strings.Contains(body, `&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;`) {
			t.Errorf("GET %s: the escaped payload is not shown as text", path)
		}
	}
}

func TestTraceListPagination(t *testing.T) {
	srv := seededServer(t)
	seen := map[string]bool{}
	path := "/traces?range=7d&limit=7"
	pages := 0
	for path != "" && pages < 10 {
		pages++
		_, body := get(t, srv, path)
		for _, id := range traceIDsIn(body) {
			if seen[id] {
				t.Errorf("trace %s on two pages", id)
			}
			seen[id] = true
		}
		path = ""
		if i := strings.Index(body, `rel="next"`); i >= 0 {
			j := strings.LastIndex(body[:i], `href="`)
			path = strings.ReplaceAll(body[j+6:strings.Index(body[j+6:], `"`)+j+6], "&amp;", "&")
		}
	}
	if pages != 3 {
		t.Errorf("21 traces at 7 a page took %d pages, want 3", pages)
	}
	if len(seen) != 21 {
		t.Errorf("listed %d traces, want the project's 21 (and not the other project's)", len(seen))
	}
	if seen[tid(40)] {
		t.Errorf("the other project's trace is listed")
	}
}

// traceIDsIn extracts the data-trace-id values of a page.
func traceIDsIn(body string) []string {
	var ids []string
	for _, part := range strings.Split(body, `data-trace-id="`)[1:] {
		ids = append(ids, part[:strings.Index(part, `"`)])
	}
	return ids
}

func TestTraceFilters(t *testing.T) {
	srv := seededServer(t)
	tests := []struct {
		query string
		want  []string
	}{
		{"status=error", []string{tid(4)}},
		{"service=support-bot&range=24h", []string{tid(3), tid(6), tid(9), tid(12)}},
		{"model=acme-llm-7b", []string{tid(20), tid(22)}},
		{"name=chat+acme-llm-7b", []string{tid(20)}},
		{"min_ms=2000", []string{tid(20), tid(22)}},
		{"range=15m", []string{tid(21)}},
		// From and to: the window of trace 20 (40 minutes ago) only; to is exclusive.
		{"from=2026-12-03T11:15&to=2026-12-03T11:30", []string{tid(20)}},
		{"from=2026-12-03T11:20&to=2026-12-03T11:20:01", []string{tid(20)}},
		{"from=2026-12-03T11:20:01&to=2026-12-03T11:30", nil},
	}
	for _, tt := range tests {
		_, body := get(t, srv, "/traces?"+tt.query)
		if got := traceIDsIn(body); strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("/traces?%s: got %v, want %v", tt.query, got, tt.want)
		}
	}
}

func postForm(t *testing.T, srv *testServer, path string, form url.Values, cookie bool, origin string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie {
		req.AddCookie(&http.Cookie{Name: csrfCookie, Value: fixedToken})
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func TestPriceEditorCSRF(t *testing.T) {
	srv := seededServer(t)
	valid := url.Values{"csrf_token": {fixedToken}, "provider": {"openai"}, "model": {"gpt-4o-ft-acme"}, "match_type": {"exact"},
		"input_per_mtok": {"3.75"}, "output_per_mtok": {"15"}}
	noToken := url.Values{"provider": {"openai"}, "model": {"x"}, "input_per_mtok": {"1"}, "output_per_mtok": {"1"}}
	wrongToken := url.Values{"csrf_token": {"not-the-cookie"}, "model": {"x"}, "input_per_mtok": {"1"}, "output_per_mtok": {"1"}}
	tests := []struct {
		name   string
		form   url.Values
		cookie bool
		origin string
		status int
	}{
		{"no token", noToken, true, "", http.StatusForbidden},
		{"no cookie", valid, false, "", http.StatusForbidden},
		{"wrong token", wrongToken, true, "", http.StatusForbidden},
		{"cross-origin", valid, true, "https://evil.example", http.StatusForbidden},
		{"valid", valid, true, "", http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := postForm(t, srv, "/cost/prices", tt.form, tt.cookie, tt.origin)
			if res.StatusCode != tt.status {
				t.Fatalf("POST /cost/prices: got %d, want %d", res.StatusCode, tt.status)
			}
		})
	}
	prices, err := srv.store.Prices(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	if len(prices) != 2 || prices[0].Model != "gpt-4o-ft-acme" || prices[0].InputPerMTok != 3.75 || prices[0].Source != "custom" {
		t.Fatalf("prices after the editor: got %+v, want the new gpt-4o-ft-acme price first", prices)
	}
	// The calculator sees the new price at once: its cache was invalidated.
	calc := srv.web.pricing.(interface {
		Apply(ctx context.Context, projectID string, call *genai.Call) error
	})
	call := &genai.Call{Type: genai.TypeLLM, Provider: "openai", RequestModel: "gpt-4o-ft-acme", Usage: genai.Usage{InputTokens: 1e6, Reported: true}}
	if err := calc.Apply(context.Background(), "default", call); err != nil || call.Cost.TotalUSD == nil || *call.Cost.TotalUSD != 3.75 {
		t.Errorf("cost with the new price: got %+v (err %v), want $3.75", call.Cost, err)
	}
	// Delete it again.
	res := postForm(t, srv, "/cost/prices/"+prices[0].ID+"/delete", url.Values{"csrf_token": {fixedToken}}, true, "")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: got %d, want 303", res.StatusCode)
	}
	if after, _ := srv.store.Prices(context.Background(), "default"); len(after) != 1 {
		t.Errorf("prices after delete: got %d, want 1", len(after))
	}
}

func TestPriceEditorValidation(t *testing.T) {
	srv := seededServer(t)
	for _, tt := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"model": {"m"}, "input_per_mtok": {"abc"}, "output_per_mtok": {"1"}}, "input price must be a number"},
		{url.Values{"model": {"m"}, "input_per_mtok": {"1"}}, "output price is required"},
		{url.Values{"model": {"(bad"}, "match_type": {"regex"}, "input_per_mtok": {"1"}, "output_per_mtok": {"1"}}, "regex"},
	} {
		tt.form.Set("csrf_token", fixedToken)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/cost/prices", strings.NewReader(tt.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: csrfCookie, Value: fixedToken})
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), tt.want) {
			t.Errorf("POST %v: got %d, want 400 with %q", tt.form, res.StatusCode, tt.want)
		}
	}
	if prices, _ := srv.store.Prices(context.Background(), "default"); len(prices) != 1 {
		t.Errorf("invalid prices were stored: %+v", prices)
	}
}

func TestLiveStream(t *testing.T) {
	srv := seededServer(t)
	_, body := get(t, srv, "/traces")
	i := strings.Index(body, `data-live-url="`)
	if i < 0 {
		t.Fatal("the trace list has no live stream URL")
	}
	live := strings.ReplaceAll(body[i+15:i+15+strings.Index(body[i+15:], `"`)], "&amp;", "&")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+live, nil)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type: got %q, want text/event-stream", ct)
	}
	sc := bufio.NewScanner(res.Body)
	next := func() (event, data string) {
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = line[7:]
			case strings.HasPrefix(line, "data: "):
				data += line[6:]
			case line == "" && event != "":
				return event, data
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return "", ""
	}
	if ev, _ := next(); ev != "tick" {
		t.Fatalf("first event: got %q, want tick (nothing new yet)", ev)
	}
	fresh := ragTrace(50, testNow.Add(-time.Second), "rag-api", "a brand new question", false)
	if err := srv.store.Write(context.Background(), store.Batch{Spans: fresh}); err != nil {
		t.Fatal(err)
	}
	for {
		ev, data := next()
		if ev != "trace" {
			continue
		}
		if !strings.Contains(data, `data-trace-id="`+tid(50)+`"`) || !strings.Contains(data, "answer_question") {
			t.Fatalf("trace event: got %q, want the row of trace %s", data, tid(50))
		}
		return
	}
}

// TestLiveStreamSearch: the live stream of a search sends only the new traces that match.
func TestLiveStreamSearch(t *testing.T) {
	srv := seededServer(t)
	_, body := get(t, srv, "/traces?q=brand+new")
	i := strings.Index(body, `data-live-url="`)
	if i < 0 {
		t.Fatal("the searched trace list has no live stream URL")
	}
	live := html.UnescapeString(body[i+15 : i+15+strings.Index(body[i+15:], `"`)])
	if !strings.Contains(live, "q=brand+new") {
		t.Fatalf("live URL %q does not carry the search", live)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+live, nil)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	// An older non-matching trace is written in the same batch as the matching one, so
	// both are new to the stream's poll.
	spans := append(ragTrace(51, testNow.Add(-2*time.Second), "rag-api", "an unrelated question", false),
		ragTrace(52, testNow.Add(-time.Second), "rag-api", "a brand new question", false)...)
	if err := srv.store.Write(context.Background(), store.Batch{Spans: spans}); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(res.Body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = line[7:]
		case strings.HasPrefix(line, "data: ") && event == "trace":
			if strings.Contains(line, tid(51)) {
				t.Fatalf("the stream sent trace %s, which does not match the search", tid(51))
			}
			if strings.Contains(line, tid(52)) {
				return
			}
		}
	}
	t.Fatalf("stream ended before trace %s: %v", tid(52), sc.Err())
}

func TestLiveStreamBounded(t *testing.T) {
	srv := newTestServer(t, func() time.Time { return testNow }, func(c *Config) { c.LiveMaxClients = 1 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/live/traces", nil)
	first, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Body.Close()
	res, err := srv.Client().Get(srv.URL + "/live/traces")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("second stream with LiveMaxClients 1: got %d, want 503", res.StatusCode)
	}
}

func TestInspectorCustomPriceProvenance(t *testing.T) {
	srv := seededServer(t)
	spans := unpricedTrace(80, testNow.Add(-time.Minute))
	spans[0].GenAI.Cost = genai.Cost{TotalUSD: f64(0.00035), InputUSD: 0.0002, OutputUSD: 0.00015, Source: genai.CostComputed,
		PriceID: "custom-fixed-1", PriceSource: "custom"}
	if err := srv.store.Write(context.Background(), store.Batch{Spans: spans}); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, srv, "/traces/"+tid(80)+"/spans/"+spans[0].SpanID)
	for _, want := range []string{"custom-fixed-1", "in $0.5 · out $1.5", "$0.000350"} {
		if !strings.Contains(body, want) {
			t.Errorf("inspector of a span priced by a custom price lacks %q", want)
		}
	}
}

func TestInlineHandlerPattern(t *testing.T) {
	for _, tt := range []struct {
		html string
		want bool
	}{
		{`<img src="x" onerror="alert(1)">`, true},
		{`<body onload=go()>`, true},
		{`<a href="/x" class="y" onclick='z()'>`, true},
		{`<option value="&lt;img src=x onerror=alert(1)&gt;">`, false},
		{`<td>&lt;img src=x onerror=alert(1)&gt;</td>`, false},
		{`<a href="/traces?q=1" data-on="x">`, false},
	} {
		if got := inlineHandler.MatchString(tt.html); got != tt.want {
			t.Errorf("inlineHandler on %s: got %v, want %v", tt.html, got, tt.want)
		}
	}
}
