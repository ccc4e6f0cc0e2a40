package web

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/use-lumina/lumina/internal/alert"
	"github.com/use-lumina/lumina/internal/replay"
	"github.com/use-lumina/lumina/internal/store"
)

// Real-browser tests: Debian's Chromium, headless, driven by chromedp. They skip when no
// Chromium is installed, unless LUMINA_TEST_REQUIRE_SERVICES=1 makes that a failure.

// screenshotDir is where the tests leave screenshots of the main pages (gitignored).
var screenshotDir = filepath.Join("..", "..", "artifacts", "screenshots")

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("LUMINA_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal("chromium is not installed and LUMINA_TEST_REQUIRE_SERVICES=1 requires it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed; skipping browser tests")
	return ""
}

// browser is one headless Chromium tab with a record of the dialogs and script errors it saw.
type browser struct {
	ctx    context.Context
	mu     sync.Mutex
	events []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	b := &browser{ctx: ctx}
	if err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			b.events = append(b.events, fmt.Sprintf("dialog %s: %q", e.Type, e.Message))
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.events = append(b.events, fmt.Sprintf("script error at %s:%d: %s", d.URL, d.LineNumber, msg))
		}
	}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// clean fails the test if the page opened a dialog or threw.
func (b *browser) clean(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.events) > 0 {
		t.Fatalf("the page opened dialogs or threw: %v", b.events)
	}
}

func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func run[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// screenshot saves the page as artifacts/screenshots/<name>.png, after checking that it
// fits the 1280 px window without scrolling sideways.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	if w := run(t, b, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`)); w > 0 {
		wide := run(t, b, "wide elements", chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map(e => e.tagName + "." + e.className + "#" + e.id)`))
		t.Errorf("%s: the page is %d px wider than the 1280 px window (widest: %v)", name, w, wide)
	}
	png := run(t, b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls a JavaScript condition until it holds in a completely loaded document: a
// new location alone may still show a document being parsed (an alert page's bars were
// counted as 0 in CI).
func (b *browser) waitFor(t *testing.T, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	loaded := `document.readyState === "complete" && (` + cond + `)`
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](loaded)); err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s (%s)", what, cond)
}

func count(t *testing.T, b *browser, selector string) int {
	t.Helper()
	return run(t, b, "count "+selector, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", selector)))
}

func TestBrowser(t *testing.T) {
	srv, _ := replayServer(t)
	// As cmd/lumina wires it; set before the first request, as the replay service is.
	srv.web.cfg.ValidateChannel = alert.ValidateChannel
	b := newBrowser(t)

	t.Run("home", func(t *testing.T) {
		b.do(t, "open home", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".kpi")))
		if n := count(t, b, ".kpi"); n != 6 {
			t.Errorf("KPI cards: got %d, want 6", n)
		}
		if n := count(t, b, ".chart svg rect"); n == 0 {
			t.Error("the cost and request charts drew no bars")
		}
		b.waitFor(t, "the live indicator", `document.querySelector("#live-status .live-text").textContent.startsWith("Live")`)
		b.screenshot(t, "home")
		b.clean(t)
	})

	t.Run("filter traces", func(t *testing.T) {
		b.do(t, "open traces", chromedp.Navigate(srv.URL+"/traces"), chromedp.WaitVisible(chromedp.ID("trace-table")))
		if n := count(t, b, "#trace-table tbody tr[data-trace-id]"); n != 21 {
			t.Errorf("unfiltered rows: got %d, want 21", n)
		}
		b.screenshot(t, "traces")
		b.do(t, "filter by service",
			chromedp.SendKeys(chromedp.CSS(`input[name="service"]`), "support-bot"),
			chromedp.Submit(chromedp.CSS(`input[name="service"]`)))
		b.waitFor(t, "the filtered URL", `location.search.includes("service=support-bot")`)
		b.do(t, "wait for rows", chromedp.WaitVisible(chromedp.ID("trace-table")))
		if n := count(t, b, "#trace-table tbody tr[data-trace-id]"); n != 4 {
			t.Errorf("rows for service support-bot: got %d, want 4", n)
		}
		services := run(t, b, "row services", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("#trace-table tbody tr[data-trace-id] td:nth-child(4)")].map(td => td.textContent.trim())`))
		for _, s := range services {
			if s != "support-bot" {
				t.Errorf("filtered list shows service %q", s)
			}
		}
		// The quality column: the mean score of each trace's scored calls (the fixture's chat
		// call, 0.62, red as it is below 0.7), a dash for traces without one.
		if h := run(t, b, "the quality header", chromedp.Evaluate[string](`document.querySelector("#trace-table thead th:nth-child(9)").textContent.trim()`)); h != "Quality" {
			t.Errorf("column 9 header: got %q, want Quality", h)
		}
		scores := run(t, b, "row quality", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("#trace-table tbody tr[data-trace-id] td:nth-child(9)")].map(td => (td.querySelector(".errtext") ? "low " : "") + td.textContent.trim())`))
		if len(scores) != 4 || slices.ContainsFunc(scores, func(s string) bool { return s != "low 0.62" && s != "—" }) || !slices.Contains(scores, "low 0.62") {
			t.Errorf("quality cells: got %q, want 0.62 marked low, or a dash", scores)
		}
		b.do(t, "sort by duration", chromedp.Click(chromedp.CSS(`th[aria-sort] a[href*="sort=duration"]`)))
		b.waitFor(t, "the sorted URL", `location.search.includes("sort=duration") && location.search.includes("service=support-bot")`)
		b.clean(t)
	})

	t.Run("search traces", func(t *testing.T) {
		b.do(t, "open traces", chromedp.Navigate(srv.URL+"/traces?range=24h"), chromedp.WaitVisible(chromedp.ID("trace-table")))
		b.do(t, "press /", chromedp.KeyEvent("/"))
		b.waitFor(t, "the search box focused", `document.activeElement && document.activeElement.name === "q"`)
		// chromedp sends the key's character as its own event, which the keydown handler
		// cannot cancel, so the box may hold the "/": clear it first.
		run(t, b, "clear the search box", chromedp.Evaluate[string](`document.querySelector('input[name="q"]').value = ""`))
		b.do(t, "search",
			chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), `Nightly REPORT`),
			chromedp.Submit(chromedp.CSS(`input[name="q"]`)))
		b.waitFor(t, "the search URL", `location.search.includes("q=Nightly+REPORT") && location.search.includes("range=24h")`)
		b.do(t, "wait for rows", chromedp.WaitVisible(chromedp.ID("trace-table")))
		ids := run(t, b, "row trace ids", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("#trace-table tbody tr[data-trace-id]")].map(tr => tr.dataset.traceId)`))
		if want := []string{tid(20), tid(22)}; !slices.Equal(ids, want) {
			t.Errorf("rows for the search: got %v, want %v (the two traces whose prompt says it)", ids, want)
		}
		if v := run(t, b, "search box value", chromedp.Evaluate[string](`document.querySelector('input[name="q"]').value`)); v != "Nightly REPORT" {
			t.Errorf("search box after the search: got %q, want it kept", v)
		}
		b.clean(t)
	})

	t.Run("trace and inspector", func(t *testing.T) {
		b.do(t, "open traces", chromedp.Navigate(srv.URL+"/traces?status=error"), chromedp.WaitVisible(chromedp.ID("trace-table")))
		b.do(t, "open the failed trace", chromedp.Click(chromedp.CSS(`#trace-table tbody tr[data-trace-id] .name-cell a`)))
		b.waitFor(t, "the trace page", `location.pathname === "/traces/`+tid(4)+`"`)
		b.do(t, "wait for the waterfall", chromedp.WaitVisible(chromedp.CSS(".wf-row")))
		if n := count(t, b, ".wf-row"); n != 5 {
			t.Errorf("waterfall rows: got %d, want 5", n)
		}
		// The default selection is the first model call, with its system prompt.
		sys := run(t, b, "system prompt", chromedp.Text(chromedp.CSS("#inspector .msg.role-system .msg-body")))
		if !strings.Contains(sys, "concise assistant") {
			t.Errorf("system prompt: got %q", sys)
		}
		b.do(t, "open the tool span", chromedp.Click(chromedp.CSS(`.wf-row[data-span-id="`+sid(44)+`"] a.wf-link`)))
		b.waitFor(t, "the tool inspector", `document.querySelector("#inspector .insp[data-span-id='`+sid(44)+`']") !== null`)
		if got := run(t, b, "location", chromedp.Location()); !strings.Contains(got, "span="+sid(44)) {
			t.Errorf("location after selecting a span: got %q, want span=%s", got, sid(44))
		}
		tool := run(t, b, "tool panel", chromedp.Text(chromedp.CSS("#pan-msg")))
		if !strings.Contains(tool, "lookup_docs") || !strings.Contains(tool, "3 documents") {
			t.Errorf("tool call panel: got %q", tool)
		}
		// Collapsing the root hides its four children; expanding shows them again.
		b.do(t, "collapse the root", chromedp.Click(chromedp.CSS(`.wf-row[data-span-id="`+sid(41)+`"] .wf-toggle`)))
		if n := count(t, b, ".wf-row:not([hidden])"); n != 1 {
			t.Errorf("visible spans with the root collapsed: got %d, want 1", n)
		}
		b.do(t, "expand the root", chromedp.Click(chromedp.CSS(`.wf-row[data-span-id="`+sid(41)+`"] .wf-toggle`)))
		if n := count(t, b, ".wf-row:not([hidden])"); n != 5 {
			t.Errorf("visible spans with the root expanded: got %d, want 5", n)
		}
		// Keyboard: j moves to the next span (the failing final call).
		b.do(t, "press j", chromedp.KeyEvent("j"))
		b.waitFor(t, "the next span", `document.querySelector("#inspector .insp[data-span-id='`+sid(45)+`']") !== null`)
		b.do(t, "open tokens and cost", chromedp.Click(chromedp.ID("tab-cost")))
		costText := run(t, b, "cost panel", chromedp.Text(chromedp.ID("pan-cost")))
		if !strings.Contains(costText, "computed") || !strings.Contains(costText, "890") {
			t.Errorf("cost panel: got %q", costText)
		}
		b.do(t, "back to the chat call", chromedp.Navigate(srv.URL+"/traces/"+tid(4)), chromedp.WaitVisible(chromedp.CSS("#inspector .insp")))
		b.screenshot(t, "trace")
		b.do(t, "open tokens and cost", chromedp.Click(chromedp.ID("tab-cost")))
		b.screenshot(t, "trace-cost")
		b.clean(t)
	})

	t.Run("live trace", func(t *testing.T) {
		b.do(t, "open traces", chromedp.Navigate(srv.URL+"/traces"), chromedp.WaitVisible(chromedp.ID("trace-table")))
		b.waitFor(t, "the stream", `document.querySelector("#live-status .live-text").textContent.startsWith("Live")`)
		spans := ragTrace(60, testNow.Add(-time.Second), "live-svc", "arrived while you watched", false)
		spans[0].Name = xssPayload // a hostile name, through the live path
		if err := srv.store.Write(context.Background(), store.Batch{Spans: spans}); err != nil {
			t.Fatal(err)
		}
		b.waitFor(t, "the new row", `document.querySelector("#trace-table tbody tr:first-child[data-trace-id='`+tid(60)+`']") !== null`)
		if n := count(t, b, "#trace-table tbody tr[data-trace-id]"); n != 22 {
			t.Errorf("rows after one live trace: got %d, want 22", n)
		}
		name := run(t, b, "live row name", chromedp.TextContent(chromedp.CSS(`#trace-table tbody tr[data-trace-id="`+tid(60)+`"] .name-cell a`)))
		if name != xssPayload {
			t.Errorf("live row name: got %q, want the literal payload", name)
		}
		if n := count(t, b, `img[src="x"], tbody script`); n != 0 {
			t.Errorf("the live row created %d elements from the payload", n)
		}
		status := run(t, b, "live status", chromedp.Text(chromedp.ID("live-status")))
		if !strings.Contains(status, "updated") {
			t.Errorf("live status: got %q, want \"updated Ns ago\"", status)
		}
		b.clean(t)
	})

	t.Run("xss inert", func(t *testing.T) {
		b.do(t, "open the hostile trace", chromedp.Navigate(srv.URL+"/traces/"+tid(21)), chromedp.WaitVisible(chromedp.CSS("#inspector .msg.role-user")))
		got := run(t, b, "prompt text", chromedp.TextContent(chromedp.CSS("#inspector .msg.role-user .msg-body")))
		if got != xssPayload {
			t.Errorf("prompt shown as %q, want the literal %q", got, xssPayload)
		}
		if n := count(t, b, `img[src="x"], #inspector script`); n != 0 {
			t.Errorf("the payload created %d elements", n)
		}
		// Through the fragment path too, and in the trace list's name-free rows.
		b.do(t, "open the final span", chromedp.Click(chromedp.CSS(`.wf-row[data-span-id="`+sid(215)+`"] a.wf-link`)))
		b.waitFor(t, "the final span", `document.querySelector("#inspector .insp[data-span-id='`+sid(215)+`']") !== null`)
		if n := count(t, b, `img[src="x"], #inspector script`); n != 0 {
			t.Errorf("the payload created %d elements through the fragment", n)
		}
		time.Sleep(300 * time.Millisecond) // give an onerror handler time to fire, if one existed
		b.clean(t)
	})

	t.Run("cost and price editor", func(t *testing.T) {
		b.do(t, "open cost", chromedp.Navigate(srv.URL+"/cost"), chromedp.WaitVisible(chromedp.ID("prices")))
		b.screenshot(t, "cost")
		b.do(t, "fill the price form",
			chromedp.SendKeys(chromedp.CSS(`.price-form input[name="provider"]`), "openai"),
			chromedp.SendKeys(chromedp.CSS(`.price-form input[name="model"]`), "gpt-4o-ft-browser"),
			chromedp.SendKeys(chromedp.CSS(`.price-form input[name="input_per_mtok"]`), "2.5"),
			chromedp.SendKeys(chromedp.CSS(`.price-form input[name="output_per_mtok"]`), "10"),
			chromedp.Submit(chromedp.CSS(`.price-form input[name="model"]`)))
		b.waitFor(t, "the saved flash", `document.querySelector(".flash.ok") !== null`)
		prices, err := srv.store.Prices(context.Background(), "default")
		if err != nil || len(prices) != 2 || prices[0].Model != "gpt-4o-ft-browser" {
			t.Errorf("prices after the browser form: got %+v (err %v)", prices, err)
		}
		b.clean(t)
	})

	t.Run("acknowledge an alert", func(t *testing.T) {
		b.do(t, "open alerts", chromedp.Navigate(srv.URL+"/alerts"), chromedp.WaitVisible(chromedp.ID("alert-table")))
		if n := count(t, b, "#alert-table tbody tr[data-alert-id]"); n != 4 {
			t.Errorf("alert rows: got %d, want 4", n)
		}
		if n := count(t, b, ".stat-cards .kpi"); n != 5 {
			t.Errorf("stat cards: got %d, want 5", n)
		}
		b.screenshot(t, "alerts")
		row := `#alert-table tr[data-alert-id="` + aid(1) + `"]`
		b.do(t, "acknowledge", chromedp.Click(chromedp.CSS(row+` form[action$="/acknowledge"] button`)))
		b.waitFor(t, "the acknowledged flash", `location.search.includes("done=acknowledged") && document.querySelector(".flash.ok") !== null`)
		status := run(t, b, "row status", chromedp.Text(chromedp.CSS(row+" td:nth-child(6)")))
		if status != "acknowledged" {
			t.Errorf("row status after acknowledge: got %q, want acknowledged", status)
		}
		if n := count(t, b, row+` form[action$="/acknowledge"]`); n != 0 {
			t.Errorf("the acknowledged alert still offers acknowledge")
		}
		a, err := srv.store.Alert(context.Background(), "default", aid(1))
		if err != nil || a.Status != store.AlertAcknowledged {
			t.Errorf("stored alert after the click: got %q (err %v), want acknowledged", a.Status, err)
		}
		b.do(t, "open the alert", chromedp.Click(chromedp.CSS(row+` td:nth-child(2) a`)))
		b.waitFor(t, "the alert page", `location.pathname === "/alerts/`+aid(1)+`"`)
		if n := count(t, b, ".compare rect.cmp"); n != 2 {
			t.Errorf("observed and baseline bars: got %d, want 2", n)
		}
		b.screenshot(t, "alert")
		b.do(t, "open the triggering trace", chromedp.Click(chromedp.ID("trigger-trace")))
		b.waitFor(t, "the trace with its span", `location.pathname === "/traces/`+tid(4)+`" && location.search.includes("span=`+sid(43)+`")`)

		b.do(t, "open rules", chromedp.Navigate(srv.URL+"/alerts/rules"), chromedp.WaitVisible(chromedp.ID("rules")))
		input := `#rule-rule-cost input[name="threshold"]`
		b.do(t, "type a bad threshold", chromedp.SetValue(chromedp.CSS(input), "twenty"), chromedp.Submit(chromedp.CSS(input)))
		b.waitFor(t, "the threshold error", `document.querySelector("#rule-rule-cost .flash.err") !== null`)
		b.screenshot(t, "alert-rules-error")
		b.do(t, "type a good threshold", chromedp.SetValue(chromedp.CSS(input), "25"), chromedp.Submit(chromedp.CSS(input)))
		b.waitFor(t, "the saved flash", `location.search.includes("saved=rule-cost") && document.querySelector(".flash.ok") !== null`)
		if got := run(t, b, "threshold", chromedp.Evaluate[string](`document.querySelector('`+input+`').value`)); got != "25" {
			t.Errorf("threshold after saving: got %q, want 25", got)
		}
		b.screenshot(t, "alert-rules")

		// Create a rule in the editor, see it listed, then delete it through its confirmation.
		b.do(t, "open the rule form", chromedp.Click(chromedp.ID("new-rule")))
		b.waitFor(t, "the rule form", `location.pathname === "/alerts/rules/new" && document.querySelector("#rule-form") !== null`)
		form := func(name string) string { return `#rule-form [name="` + name + `"]` }
		b.do(t, "fill the rule form",
			chromedp.SetValue(chromedp.CSS(form("type")), "budget"),
			chromedp.SendKeys(chromedp.CSS(form("name")), "Browser budget"),
			chromedp.SetValue(chromedp.CSS(form("threshold")), "lots"),
			chromedp.Click(chromedp.ID("save-rule")))
		b.waitFor(t, "the rule form's error", `document.querySelector("#rule-error") !== null && document.querySelector("#rule-error").textContent.includes("threshold must be a number (USD)")`)
		if got := run(t, b, "name kept", chromedp.Evaluate[string](`document.querySelector('`+form("name")+`').value`)); got != "Browser budget" {
			t.Errorf("the re-rendered form's name: got %q, want it as typed", got)
		}
		b.screenshot(t, "alert-rule-form-error")
		b.do(t, "fix the threshold", chromedp.SetValue(chromedp.CSS(form("threshold")), "75"), chromedp.Click(chromedp.ID("save-rule")))
		b.waitFor(t, "the new rule listed", `location.pathname === "/alerts/rules" && [...document.querySelectorAll("#rules tr[data-rule-id]")].some(tr => tr.textContent.includes("Browser budget"))`)
		id := run(t, b, "the new rule's id", chromedp.Evaluate[string](`[...document.querySelectorAll("#rules tr[data-rule-id]")].find(tr => tr.textContent.includes("Browser budget")).dataset.ruleId`))
		stored := storedRules(t, srv.store, "default")[id]
		if stored.Type != "budget" || stored.Threshold != 75 || stored.Name != "Browser budget" || !stored.Enabled {
			t.Errorf("the stored rule: got %+v, want an enabled budget of 75 USD", stored)
		}
		row = `#rules tr[data-rule-id="` + id + `"]`
		b.do(t, "open the delete confirmation", chromedp.Click(chromedp.CSS(row+` details.confirm summary`)))
		b.waitFor(t, "the confirmation", `document.querySelector('`+row+` details.confirm').open`)
		b.screenshot(t, "alert-rule-delete-confirm")
		b.do(t, "confirm the delete", chromedp.Click(chromedp.CSS(row+` details.confirm button[type="submit"]`)))
		b.waitFor(t, "the rule gone", `location.search.includes("deleted=") && document.querySelector('`+row+`') === null && document.querySelector(".flash.ok").textContent.includes("Deleted rule Browser budget.")`)
		if _, ok := storedRules(t, srv.store, "default")[id]; ok {
			t.Error("the deleted rule is still stored")
		}
		b.clean(t)
	})

	t.Run("edit a channel", func(t *testing.T) {
		b.do(t, "open rules", chromedp.Navigate(srv.URL+"/alerts/rules"), chromedp.WaitVisible(chromedp.ID("channels")))
		b.do(t, "open the channel", chromedp.Click(chromedp.CSS(`#channel-ch-ops a.btn`)))
		b.waitFor(t, "the channel page", `location.pathname === "/alerts/channels/ch-ops" && document.querySelector("#channel-edit-form") !== null`)
		if n := count(t, b, "#channel-deliveries tbody tr"); n != 1 {
			t.Errorf("delivery rows: got %d, want the seeded one", n)
		}
		if got := run(t, b, "the delivery's error", chromedp.Evaluate[string](`document.querySelector("#channel-deliveries tbody td.clip").textContent`)); got != "503 Service Unavailable" {
			t.Errorf("the delivery's last error: got %q", got)
		}
		form := func(name string) string { return `#channel-edit-form [name="` + name + `"]` }
		if got := run(t, b, "the prefilled name", chromedp.Evaluate[string](`document.querySelector('`+form("name")+`').value + "|" + document.querySelector('`+form("url")+`').value`)); got != "Ops webhook|" {
			t.Errorf("prefilled name|url: got %q, want the name and an empty (write-only) URL", got)
		}
		b.do(t, "type a bad URL", chromedp.SetValue(chromedp.CSS(form("url")), "ftp://files.example/x"), chromedp.Click(chromedp.ID("save-channel")))
		b.waitFor(t, "the channel error", `document.querySelector("#channel-error") !== null && document.querySelector("#channel-error").textContent.includes("url must be an absolute http or https URL")`)
		b.screenshot(t, "channel-error")
		b.do(t, "save a new name and URL",
			chromedp.SetValue(chromedp.CSS(form("name")), "Ops paging"),
			chromedp.SetValue(chromedp.CSS(form("url")), "https://hooks.example.com/T1/new-path"),
			chromedp.SetValue(chromedp.CSS(form("min_severity")), "critical"),
			chromedp.Click(chromedp.ID("save-channel")))
		b.waitFor(t, "the saved flash", `location.search.includes("saved=1") && document.querySelector(".flash.ok") !== null && document.querySelector("h1").textContent === "Channel Ops paging"`)
		b.screenshot(t, "channel")
		c, ok := storedChannel(t, srv.store, "default", "ch-ops")
		if !ok || c.Name != "Ops paging" || c.URL != "https://hooks.example.com/T1/new-path" || c.MinSeverity != "critical" || c.Secret != "s3cret" || !c.Enabled {
			t.Errorf("the stored channel: got %+v, want the new name, URL and severity with the secret kept", c)
		}
		if html := run(t, b, "the page", chromedp.Evaluate[string](`document.documentElement.outerHTML`)); strings.Contains(html, "new-path") || strings.Contains(html, "s3cret") {
			t.Error("the channel page shows the URL's path or the secret")
		}
		b.clean(t)
	})

	t.Run("replay a set", func(t *testing.T) {
		b.do(t, "open traces", chromedp.Navigate(srv.URL+"/traces"), chromedp.WaitVisible(chromedp.ID("trace-table")))
		b.do(t, "pick two traces",
			chromedp.Click(chromedp.CSS(`tr[data-trace-id="`+tid(21)+`"] td.pick input`)),
			chromedp.Click(chromedp.CSS(`tr[data-trace-id="`+tid(1)+`"] td.pick input`)),
			chromedp.SendKeys(chromedp.CSS(`#replay-pick input[name="name"]`), "browser set"),
			chromedp.Click(chromedp.ID("add-to-replay")))
		b.waitFor(t, "the new set", `location.pathname.startsWith("/replay/sets/set_")`)
		b.do(t, "wait for the set", chromedp.WaitVisible(chromedp.ID("estimate")))
		if n := count(t, b, "#item-table tbody tr"); n != 4 {
			t.Errorf("captured calls: got %d, want 4 (two LLM calls per trace)", n)
		}
		b.screenshot(t, "replay-set")
		b.do(t, "configure a simulation",
			chromedp.SendKeys(chromedp.CSS(`#run-form input[name="model"]`), "claude-haiku-4-5"),
			chromedp.SendKeys(chromedp.CSS(`#run-form textarea[name="prompt_template"]`), "Answer briefly: {{original}}"),
			chromedp.Click(chromedp.ID("start-run")))
		b.waitFor(t, "the run page", `location.pathname.startsWith("/replay/runs/run_")`)
		// The page polls its progress and reloads when the run is over.
		b.waitFor(t, "the results", `document.querySelector('[data-run-status="completed"]') !== null && document.querySelectorAll("#result-table tr[data-index]").length === 4`)
		if n := count(t, b, ".sim-notice"); n != 1 {
			t.Errorf("simulation notice: got %d, want 1", n)
		}
		b.screenshot(t, "replay-run")
		// Item 1 is the final answer of trace 21, whose prompt is the XSS payload.
		b.do(t, "open a diff", chromedp.Click(chromedp.CSS(`#result-table tr[data-index="1"] a[href$="/items/1"]`)))
		b.waitFor(t, "the diff page", `location.pathname.endsWith("/items/1")`)
		b.do(t, "wait for the responses", chromedp.WaitVisible(chromedp.ID("responses")))
		prompt := run(t, b, "original prompt", chromedp.TextContent(chromedp.CSS(".sbs .msg.role-user .msg-body")))
		if prompt != xssPayload {
			t.Errorf("original prompt shown as %q, want the literal payload", prompt)
		}
		if replayed := run(t, b, "replayed prompt", chromedp.TextContent(chromedp.CSS(".sbs > div:nth-child(2) .msg.role-user .msg-body"))); replayed != "Answer briefly: "+xssPayload {
			t.Errorf("replayed prompt shown as %q", replayed)
		}
		if n := count(t, b, `img[src="x"], main script`); n != 0 {
			t.Errorf("the payload created %d elements on the diff page", n)
		}
		// The simulated answer depends on the run's random seed, so only its presence is checked.
		if got := run(t, b, "replayed answer", chromedp.TextContent(chromedp.ID("resp-replay"))); strings.TrimSpace(got) == "" {
			t.Error("the replayed answer is empty")
		}
		b.screenshot(t, "replay-item")
		b.do(t, "open the studio", chromedp.Navigate(srv.URL+"/replay"), chromedp.WaitVisible(chromedp.ID("set-table")))
		if n := count(t, b, "#set-table tr[data-set-id]"); n != 1 {
			t.Errorf("sets listed: got %d, want 1", n)
		}
		b.screenshot(t, "replay")
		b.clean(t)
	})

	t.Run("replay progress", func(t *testing.T) {
		// A run queued while no replay worker runs: the page polls until it ends.
		p, svc, start := pausedReplayServer(t)
		ctx := context.Background()
		set, err := svc.CreateSet(ctx, "default", replay.CreateSetRequest{SetSource: replay.SetSource{TraceIDs: []string{tid(2), tid(3)}}})
		if err != nil {
			t.Fatal(err)
		}
		rv, err := svc.StartRun(ctx, "default", set.ID, replay.StartRunRequest{Mode: replay.ModeSimulation})
		if err != nil {
			t.Fatal(err)
		}
		b.do(t, "open the queued run", chromedp.Navigate(p.URL+"/replay/runs/"+rv.ID), chromedp.WaitVisible(chromedp.CSS("[data-poll-url]")))
		if got := run(t, b, "status", chromedp.Evaluate[string](`document.querySelector("[data-run-status]").getAttribute("data-run-status")`)); got != replay.StatusQueued {
			t.Fatalf("run status before the worker starts: got %q, want queued", got)
		}
		if n := count(t, b, "#result-table tr[data-index]"); n != 0 {
			t.Errorf("result rows of a queued run: got %d, want 0", n)
		}
		b.screenshot(t, "replay-run-queued")
		start()
		b.waitFor(t, "the results after polling", `document.querySelector('[data-run-status="completed"]') !== null && document.querySelectorAll("#result-table tr[data-index]").length === 4`)
		if n := count(t, b, "[data-poll-url]"); n != 0 {
			t.Errorf("the finished run still polls")
		}
		b.clean(t)
	})

	t.Run("pages and dark theme", func(t *testing.T) {
		for _, p := range []struct{ path, name string }{{"/settings", "settings"}, {"/sessions", "sessions"}} {
			b.do(t, "open "+p.path, chromedp.Navigate(srv.URL+p.path), chromedp.WaitVisible(chromedp.CSS("main .panel")))
			b.screenshot(t, p.name)
		}
		b.do(t, "open home", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".kpi")))
		b.do(t, "toggle the theme", chromedp.Click(chromedp.ID("theme-toggle")))
		theme := run(t, b, "theme", chromedp.Evaluate[string](`document.documentElement.getAttribute("data-theme")`))
		if theme != "dark" && theme != "light" {
			t.Fatalf("data-theme after the toggle: got %q", theme)
		}
		if theme != "dark" {
			b.do(t, "toggle again", chromedp.Click(chromedp.ID("theme-toggle")))
		}
		b.screenshot(t, "home-dark")
		b.do(t, "open a trace (theme persists)", chromedp.Navigate(srv.URL+"/traces/"+tid(4)), chromedp.WaitVisible(chromedp.CSS(".wf-row")))
		if got := run(t, b, "theme", chromedp.Evaluate[string](`document.documentElement.getAttribute("data-theme")`)); got != "dark" {
			t.Errorf("theme after navigation: got %q, want dark", got)
		}
		b.screenshot(t, "trace-dark")
		b.do(t, "open traces", chromedp.Navigate(srv.URL+"/traces"), chromedp.WaitVisible(chromedp.ID("trace-table")))
		b.screenshot(t, "traces-dark")
		b.do(t, "open alerts", chromedp.Navigate(srv.URL+"/alerts/"+aid(1)), chromedp.WaitVisible(chromedp.CSS(".compare")))
		b.screenshot(t, "alert-dark")
		b.do(t, "open the studio", chromedp.Navigate(srv.URL+"/replay"), chromedp.WaitVisible(chromedp.ID("set-table")))
		b.do(t, "open the set", chromedp.Click(chromedp.CSS("#set-table tr[data-set-id] a")))
		b.waitFor(t, "the set page", `location.pathname.startsWith("/replay/sets/")`)
		b.do(t, "open the run", chromedp.Click(chromedp.CSS("#run-table tr[data-run-id] a")))
		b.waitFor(t, "the run page", `location.pathname.startsWith("/replay/runs/") && document.getElementById("result-table") !== null`)
		b.screenshot(t, "replay-run-dark")
		b.do(t, "press ?", chromedp.KeyEvent("?"))
		b.waitFor(t, "the shortcuts dialog", `document.getElementById("help").open`)
		b.clean(t)
	})

	t.Run("onboarding", func(t *testing.T) {
		empty := newTestServer(t, func() time.Time { return testNow }, nil)
		b.do(t, "open an empty home", chromedp.Navigate(empty.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".onboard")))
		run(t, b, "light theme", chromedp.Evaluate[bool](`localStorage.setItem("lumina-theme","light"); document.documentElement.setAttribute("data-theme","light"); true`))
		b.screenshot(t, "onboarding")
		// The first trace appears in the latest-traces table without a reload.
		if err := empty.store.Write(context.Background(), store.Batch{Spans: ragTrace(70, testNow.Add(-time.Second), "first-svc", "hello", false)}); err != nil {
			t.Fatal(err)
		}
		b.waitFor(t, "the first trace", `document.querySelector("[data-live-rows=recent] tr[data-trace-id='`+tid(70)+`']") !== null`)
		b.clean(t)
		b.do(t, "leave, closing the live stream", chromedp.Navigate("about:blank"))
	})
}
