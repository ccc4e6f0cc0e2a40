package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/quality"
	"github.com/use-lumina/lumina/internal/replay"
)

// replayServer is seededServer with a real replay service over the same store, running
// its runs in the background until the test ends.
func replayServer(t *testing.T) (*testServer, *replay.Service) {
	t.Helper()
	srv, svc, start := pausedReplayServer(t)
	start()
	return srv, svc
}

// pausedReplayServer is replayServer whose service executes nothing until start is called:
// runs started before stay queued.
func pausedReplayServer(t *testing.T) (srv *testServer, svc *replay.Service, start func()) {
	t.Helper()
	srv = seededServer(t)
	var err error
	svc, err = replay.New(replay.Config{Store: srv.store, Pricer: newCalculator(t, srv.store), Now: func() time.Time { return testNow },
		Hash: func(a, b string) (float64, string) {
			s := quality.CharSimilarity(a, b)
			return *s.Score, s.Method
		}})
	if err != nil {
		t.Fatal(err)
	}
	// Set before the first request: the server reads its config only while serving.
	srv.web.cfg.Replay = svc
	return srv, svc, func() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := svc.Run(ctx); err != nil {
				t.Errorf("replay Run: %v", err)
			}
		}()
		t.Cleanup(func() { cancel(); <-done })
	}
}

// waitRun waits until the run is no longer queued or running.
func waitRun(t *testing.T, svc *replay.Service, id string) replay.RunView {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		v, err := svc.RunView(context.Background(), "default", id)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != replay.StatusQueued && v.Status != replay.StatusRunning {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("run %s did not finish", id)
	return replay.RunView{}
}

func TestReplayStudioUnavailable(t *testing.T) {
	srv := seededServer(t)
	for _, path := range []string{"/replay", "/replay/sets/set_x", "/replay/runs/run_x", "/replay/runs/run_x/items/0"} {
		res, body := get(t, srv, path)
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Replay role not running in this process") {
			t.Errorf("GET %s: got %d, want 503 saying the replay role is not running", path, res.StatusCode)
		}
	}
	if res, body := post(t, srv, "/replay/sets", url.Values{"trace_id": {tid(4)}}); res.StatusCode != 503 || !strings.Contains(body, "Replay role not running") {
		t.Errorf("POST /replay/sets: got %d, want 503", res.StatusCode)
	}
	if res, _ := get(t, srv, "/replay/runs/run_x/progress"); res.StatusCode != 503 {
		t.Errorf("progress: got %d, want 503", res.StatusCode)
	}
	if _, body := get(t, srv, "/traces"); strings.Contains(body, `id="add-to-replay"`) {
		t.Error("the trace list offers replay without a replay service")
	}
	if _, body := get(t, srv, "/traces/"+tid(4)); strings.Contains(body, `id="trace-to-replay"`) {
		t.Error("the trace page offers replay without a replay service")
	}
}

func TestReplayCreateSet(t *testing.T) {
	srv, svc := replayServer(t)
	res, body := get(t, srv, "/replay")
	if res.StatusCode != 200 {
		t.Fatalf("GET /replay: %d", res.StatusCode)
	}
	golden(t, "replay", body)
	if _, body := get(t, srv, "/traces"); !strings.Contains(body, `id="add-to-replay"`) || !strings.Contains(body, `form="replay-pick"`) {
		t.Error("the trace list has no pick checkboxes and add-to-replay form")
	}
	if _, body := get(t, srv, "/traces?status=error"); strings.Contains(body, `id="filter-to-replay"`) {
		t.Error("a status filter cannot become a replay filter, yet the form is offered")
	}
	if _, body := get(t, srv, "/traces?service=support-bot&range=24h"); !strings.Contains(body, `id="filter-to-replay"`) {
		t.Error("a service and time filter is not offered as a replay set")
	}

	tests := []struct {
		name   string
		form   url.Values
		status int
		text   string
		items  int
	}{
		{"picked", url.Values{"trace_id": {tid(4), tid(21)}, "name": {"<b>picked</b>"}}, 303, "", 4},
		{"filter", url.Values{"source": {"filter"}, "service": {"support-bot"}, "range": {"24h"}, "limit": {"2"}}, 303, "", 4},
		{"nothing picked", url.Values{}, 400, "pick at least one trace", 0},
		{"bad id", url.Values{"trace_id": {"<script>"}}, 400, "&#34;&lt;script&gt;&#34; is not a trace id", 0},
		{"unknown trace", url.Values{"trace_id": {tid(999)}}, 400, "not found", 0},
		{"other project", url.Values{"trace_id": {tid(40)}}, 400, "not found", 0},
		{"bad range", url.Values{"source": {"filter"}, "range": {"1y"}}, 400, "time must be 15m, 1h, 24h or 7d", 0},
		{"bad limit", url.Values{"source": {"filter"}, "limit": {"0"}}, 400, "traces must be a number from 1 to 1000", 0},
		{"no match", url.Values{"source": {"filter"}, "service": {"nobody"}}, 400, "no LLM calls matched", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := post(t, srv, "/replay/sets", tt.form)
			if res.StatusCode != tt.status {
				t.Fatalf("got %d, want %d; body:\n%s", res.StatusCode, tt.status, body)
			}
			if !strings.Contains(body, tt.text) {
				t.Errorf("body lacks %q", tt.text)
			}
			if tt.status != 303 {
				return
			}
			loc := res.Header.Get("Location")
			id := strings.TrimSuffix(strings.TrimPrefix(loc, "/replay/sets/"), "?created=1")
			set, items, err := svc.Set(context.Background(), "default", id)
			if err != nil {
				t.Fatalf("redirected to %q: %v", loc, err)
			}
			if len(items) != tt.items {
				t.Errorf("items: got %d, want %d", len(items), tt.items)
			}
			_, page := get(t, srv, loc)
			if !strings.Contains(page, "Created the set") || !strings.Contains(page, `id="estimate"`) || !strings.Contains(page, "No runs yet.") {
				t.Errorf("set page of %s lacks the created flash, the estimate or the empty run list", set.ID)
			}
			if strings.Contains(page, "<b>picked</b>") {
				t.Error("the set name reached the page unescaped")
			}
		})
	}
	if res := postForm(t, srv, "/replay/sets", url.Values{"trace_id": {tid(4)}}, true, ""); res.StatusCode != http.StatusForbidden {
		t.Errorf("create without a token: got %d, want 403", res.StatusCode)
	}
	sets, _ := svc.Sets(context.Background(), "default")
	if len(sets) != 2 {
		t.Errorf("sets after the table: got %d, want 2 (refused creates make none)", len(sets))
	}
	_, body = get(t, srv, "/replay")
	if !strings.Contains(body, "&lt;b&gt;picked&lt;/b&gt;") || !strings.Contains(body, "2 picked traces") || !strings.Contains(body, "filter service support-bot") {
		t.Error("the set list does not show both sets with their sources")
	}
}

func TestReplayRun(t *testing.T) {
	srv, svc := replayServer(t)
	set, err := svc.CreateSet(context.Background(), "default", replay.CreateSetRequest{Name: "xss set", SetSource: replay.SetSource{TraceIDs: []string{tid(21)}}})
	if err != nil {
		t.Fatal(err)
	}
	setPath := "/replay/sets/" + set.ID
	runs := setPath + "/runs"
	bad := []struct {
		name string
		form url.Values
		text string
	}{
		{"temperature", url.Values{"do": {"start"}, "mode": {"simulation"}, "keep_system": {"on"}, "temperature": {"hot"}}, "temperature must be a number from 0 to 2, got &#34;hot&#34;"},
		{"temperature range", url.Values{"do": {"start"}, "mode": {"simulation"}, "keep_system": {"on"}, "temperature": {"5"}}, "temperature 5: want 0..2"},
		{"template", url.Values{"do": {"start"}, "mode": {"simulation"}, "keep_system": {"on"}, "prompt_template": {"no placeholder"}}, "prompt_template must contain {{original}}"},
		{"max tokens", url.Values{"do": {"start"}, "mode": {"simulation"}, "keep_system": {"on"}, "max_tokens": {"-3"}}, "max tokens must be a whole number above 0"},
		{"mode", url.Values{"do": {"start"}, "mode": {"dry"}, "keep_system": {"on"}}, "mode &#34;dry&#34;"},
		{"live without providers", url.Values{"do": {"start"}, "mode": {"live"}, "keep_system": {"on"}}, "live replay is not configured in this process"},
	}
	for _, tt := range bad {
		res, body := post(t, srv, runs, tt.form)
		if res.StatusCode != 400 || !strings.Contains(body, tt.text) {
			t.Errorf("%s: got %d, want 400 with %q", tt.name, res.StatusCode, tt.text)
		}
	}
	// The estimate follows the form: a cheaper model costs less, and the typed values stay.
	res, body := post(t, srv, runs, url.Values{"do": {"estimate"}, "mode": {"live"}, "keep_system": {"on"}, "model": {"gpt-4o-mini"}})
	if res.StatusCode != 200 || !strings.Contains(body, `value="gpt-4o-mini"`) || !strings.Contains(body, `id="estimate"`) {
		t.Errorf("estimate: got %d, want 200 with the form kept and the estimate", res.StatusCode)
	}
	if rs, _ := svc.Runs(context.Background(), "default", set.ID); len(rs) != 0 {
		t.Fatalf("refused starts and estimates made %d runs, want 0", len(rs))
	}

	res, _ = post(t, srv, runs, url.Values{"do": {"start"}, "mode": {"simulation"}, "system_prompt": {"Answer in one line."}, "model": {"claude-haiku-4-5"}})
	loc := res.Header.Get("Location")
	if res.StatusCode != 303 || !strings.HasPrefix(loc, "/replay/runs/run_") {
		t.Fatalf("start: got %d to %q, want 303 to the run", res.StatusCode, loc)
	}
	runID := strings.TrimPrefix(loc, "/replay/runs/")
	run := waitRun(t, svc, runID)
	if run.Status != replay.StatusCompleted || run.Overrides.SystemPrompt == nil || *run.Overrides.SystemPrompt != "Answer in one line." {
		t.Fatalf("run: got status %s with overrides %+v", run.Status, run.Overrides)
	}
	_, body = get(t, srv, loc)
	for _, want := range []string{"SIMULATION: no provider was called", `data-run-status="completed"`, "2 of 2 items done", `data-index="0"`, `data-index="1"`,
		loc + "/items/0", "claude-haiku-4-5"} {
		if !strings.Contains(body, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	if strings.Contains(body, "data-poll-url") {
		t.Error("a finished run still polls")
	}
	if _, body := get(t, srv, setPath); !strings.Contains(body, `data-run-id="`+runID+`"`) {
		t.Error("the set page does not list the run")
	}
	res, body = get(t, srv, loc+"/progress")
	if res.StatusCode != 200 || !strings.Contains(body, `data-run-status="completed"`) || strings.Contains(body, "<html") {
		t.Errorf("progress fragment: got %d %q", res.StatusCode, body)
	}

	res, body = get(t, srv, loc+"/items/0")
	if res.StatusCode != 200 {
		t.Fatalf("item 0: got %d", res.StatusCode)
	}
	for _, want := range []string{`id="resp-original"`, `id="resp-replay"`, "Answer in one line.", "SIMULATION", `href="` + loc + `/items/1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("item page lacks %q", want)
		}
	}
	// The captured prompt is the hostile one: shown as text on the side-by-side page.
	if strings.Contains(body, `<script>alert("xss")</script>`) || !strings.Contains(body, "&lt;script&gt;alert(&#34;xss&#34;)") {
		t.Error("the hostile prompt is not escaped on the item page")
	}
	for path, status := range map[string]int{loc + "/items/9": 404, loc + "/items/x": 400, "/replay/runs/run_nope": 404, "/replay/sets/set_nope": 404} {
		if res, _ := get(t, srv, path); res.StatusCode != status {
			t.Errorf("GET %s: got %d, want %d", path, res.StatusCode, status)
		}
	}
	// Canceling a finished run changes nothing.
	if res, _ := post(t, srv, loc+"/cancel", nil); res.StatusCode != 303 {
		t.Errorf("cancel: got %d, want 303", res.StatusCode)
	}
	if v, _ := svc.RunView(context.Background(), "default", runID); v.Status != replay.StatusCompleted {
		t.Errorf("after canceling a finished run: %s", v.Status)
	}
	if res := postForm(t, srv, runs, url.Values{"do": {"start"}, "mode": {"simulation"}}, true, ""); res.StatusCode != http.StatusForbidden {
		t.Errorf("start without a token: got %d, want 403", res.StatusCode)
	}
}
