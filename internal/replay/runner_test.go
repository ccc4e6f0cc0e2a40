package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/store/sqlite"
)

// fakeProvider records requests and answers from a script: the first failures[prompt]
// calls for a prompt fail with a temporary error.
type fakeProvider struct {
	mu       sync.Mutex
	failures map[string]int
	calls    map[string]int
	keyless  bool
}

type tempErr struct{}

func (tempErr) Error() string   { return "status 529 overloaded" }
func (tempErr) Temporary() bool { return true }

func (f *fakeProvider) Provider(name, baseURL string) (Provider, error) {
	if f.keyless {
		return nil, fmt.Errorf("anthropic: ANTHROPIC_API_KEY is not set: %w", ErrMissingKey)
	}
	return f, nil
}

func (f *fakeProvider) Chat(ctx context.Context, req Request) (Response, error) {
	p := lastUser(req.Messages)
	f.mu.Lock()
	f.calls[p]++
	n := f.calls[p]
	f.mu.Unlock()
	if n <= f.failures[p] {
		return Response{}, tempErr{}
	}
	return Response{Model: req.Model, Text: "answer to " + p, Latency: 10 * time.Millisecond, Attempts: 1,
		Usage: genai.Usage{InputTokens: 10, OutputTokens: 3, Reported: true}}, nil
}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir()+"/lumina.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func hash(a, b string) (float64, string) {
	if a == b {
		return 1, "test:equal"
	}
	return 0.5, "test:equal"
}

// seedSet stores a set of n replayable items directly, as CreateSet would.
func seedSet(t *testing.T, st Store, n int) string {
	t.Helper()
	ctx := context.Background()
	items := make([]store.ReplayItem, n)
	for i := range items {
		sp := llmSpan(func(c *genai.Call) {
			c.InputMessages = []genai.Message{{Role: "user", Content: fmt.Sprintf("q%d", i)}}
			c.ToolDefinitions = nil
		})
		doc, _ := json.Marshal(Item{Index: i, TraceID: "t", SpanID: fmt.Sprint(i), Capture: CaptureSpan(sp)})
		items[i] = store.ReplayItem{ProjectID: "p", SetID: "set", Index: i, Doc: doc}
	}
	doc, _ := json.Marshal(Set{ID: "set", Items: n})
	if err := st.PutReplaySet(ctx, store.ReplaySet{ProjectID: "p", ID: "set", CreatedAt: time.Now(), Doc: doc}, items); err != nil {
		t.Fatal(err)
	}
	return "set"
}

func runService(t *testing.T, svc *Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

func waitStatus(t *testing.T, svc *Service, id string, want string) RunView {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, err := svc.RunView(context.Background(), "p", id)
		if err == nil && v.Status == want {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s: got %+v (%v), want status %s", id, v, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunnerRetriesAndSkips(t *testing.T) {
	st := openStore(t)
	set := seedSet(t, st, 3)
	fp := &fakeProvider{failures: map[string]int{"q1": 1, "q2": 5}, calls: map[string]int{}}
	svc, err := New(Config{Store: st, Providers: fp, Hash: hash, Concurrency: 2, MaxAttempts: 2, RetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := runService(t, svc)
	defer stop()
	v, err := svc.StartRun(context.Background(), "p", set, StartRunRequest{Mode: ModeLive, Overrides: Overrides{Model: "claude-haiku"}})
	if err != nil {
		t.Fatal(err)
	}
	v = waitStatus(t, svc, v.ID, StatusCompleted)
	if v.Progress != (Progress{Total: 3, Done: 3, OK: 2, Errors: 1}) {
		t.Errorf("progress: got %+v, want 2 ok and 1 error", v.Progress)
	}
	_, res, err := svc.Results(context.Background(), "p", v.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s %d %s %d %s %d", res[0].Status, res[0].Attempts, res[1].Status, res[1].Attempts, res[2].Status, res[2].Attempts)
	if got != "ok 1 ok 2 error 2" || !strings.Contains(res[2].Error, "529") {
		t.Errorf("results: got %s (%s), want q1 retried once and q2 failing after 2 attempts", got, res[2].Error)
	}
	if res[0].Semantic.Method != "semantic:not_configured" || res[0].Semantic.Score != nil || res[0].Cost.Replay != nil {
		t.Errorf("no semantic provider or pricer: got %+v and cost %+v", res[0].Semantic, res[0].Cost)
	}
}

func TestRunnerRefusesMissingKeyAndBadMode(t *testing.T) {
	st := openStore(t)
	set := seedSet(t, st, 1)
	svc, _ := New(Config{Store: st, Providers: &fakeProvider{keyless: true}, Hash: hash})
	_, err := svc.StartRun(context.Background(), "p", set, StartRunRequest{Mode: ModeLive})
	if !errors.Is(err, ErrMissingKey) || !strings.Contains(err.Error(), "ANTHROPIC_API_KEY") {
		t.Errorf("live without a key: got %v, want ErrMissingKey naming ANTHROPIC_API_KEY", err)
	}
	if _, err := svc.StartRun(context.Background(), "p", set, StartRunRequest{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no mode: got %v, want ErrInvalid", err)
	}
	if runs, _ := st.ReplayRuns(context.Background(), "p", ""); len(runs) != 0 {
		t.Errorf("refused runs were stored: %d", len(runs))
	}
	// Simulation needs no key.
	if v, err := svc.StartRun(context.Background(), "p", set, StartRunRequest{Mode: ModeSimulation}); err != nil || !v.Simulation || v.Notice != SimulationNotice {
		t.Errorf("simulation: got %+v, %v", v.Run, err)
	}
}

func TestRunnerResumesStoredRun(t *testing.T) {
	st := openStore(t)
	set := seedSet(t, st, 3)
	ctx := context.Background()
	// A previous process ran item 1 and died with the run running.
	started := time.Now().UTC()
	run := Run{ID: "run1", ProjectID: "p", SetID: set, Mode: ModeLive, Overrides: Overrides{Model: "m"},
		Thresholds: DefaultThresholds(), Status: StatusRunning, Items: 3, CreatedAt: started, StartedAt: &started}
	fp := &fakeProvider{calls: map[string]int{}}
	svc, _ := New(Config{Store: st, Providers: fp, Hash: hash})
	if err := svc.putRun(ctx, &run); err != nil {
		t.Fatal(err)
	}
	if err := svc.putResult(ctx, &run, Result{Index: 1, Status: ItemOK, Verdict: VerdictPass}); err != nil {
		t.Fatal(err)
	}
	stop := runService(t, svc)
	defer stop()
	v := waitStatus(t, svc, "run1", StatusCompleted)
	if v.Progress.Done != 3 || v.Progress.Total != 3 || v.Resumed != 1 {
		t.Errorf("resumed run: got %+v resumed %d, want 3 done, resumed once", v.Progress, v.Resumed)
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if fp.calls["q1"] != 0 || fp.calls["q0"] != 1 || fp.calls["q2"] != 1 {
		t.Errorf("calls: got %v, want q0 and q2 once and the finished q1 not again", fp.calls)
	}
}

func TestSetSurvivesRetention(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	var spans []genai.Span
	for i, id := range []string{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2"} {
		sp := llmSpan(func(c *genai.Call) {
			c.InputMessages = []genai.Message{{Role: "user", Content: fmt.Sprintf("q%d", i)}}
			if i == 1 {
				c.Tags = []string{"canary"}
			}
		})
		sp.ProjectID, sp.TraceID, sp.SpanID, sp.ServiceName, sp.Name = "p", id, fmt.Sprintf("%016x", i+1), "bot", "chat"
		spans = append(spans, *sp)
	}
	if err := st.Write(ctx, store.Batch{Spans: spans}); err != nil {
		t.Fatal(err)
	}
	svc, _ := New(Config{Store: st, Hash: hash})
	set, err := svc.CreateSet(ctx, "p", CreateSetRequest{Name: "two", SetSource: SetSource{
		TraceIDs: []string{spans[0].TraceID}}})
	if err != nil || set.Items != 1 || set.Replayable != 1 {
		t.Fatalf("set from a trace id: got %+v, %v", set, err)
	}
	bySpan, err := svc.CreateSet(ctx, "p", CreateSetRequest{SetSource: SetSource{Spans: []SpanRef{{TraceID: spans[1].TraceID, SpanID: spans[1].SpanID}}}})
	if err != nil || bySpan.Items != 1 {
		t.Fatalf("set from a span id: got %+v, %v", bySpan, err)
	}
	if _, err := svc.CreateSet(ctx, "p", CreateSetRequest{SetSource: SetSource{Spans: []SpanRef{{TraceID: spans[1].TraceID, SpanID: "ffffffffffffffff"}}}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown span: got %v, want ErrNotFound", err)
	}
	tagged, err := svc.CreateSet(ctx, "p", CreateSetRequest{SetSource: SetSource{Filter: &Filter{Service: "bot", Tag: "canary"}}})
	if err != nil || tagged.Items != 1 {
		t.Fatalf("set from a tag filter: got %+v, %v", tagged, err)
	}
	if _, items, _ := svc.Set(ctx, "p", tagged.ID); items[0].TraceID != spans[1].TraceID {
		t.Errorf("tag filter: got trace %s, want the canary one", items[0].TraceID)
	}
	// Retention deletes every trace; the frozen copies stay replayable.
	if _, err := st.DeleteBefore(ctx, store.RetentionPolicy{Cutoff: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Trace(ctx, "p", spans[0].TraceID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("retention kept the trace: %v", err)
	}
	stop := runService(t, svc)
	defer stop()
	v, err := svc.StartRun(ctx, "p", set.ID, StartRunRequest{Mode: ModeSimulation, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	v = waitStatus(t, svc, v.ID, StatusCompleted)
	if v.Progress.OK != 1 || !v.Summary.Simulation {
		t.Errorf("run after retention: got %+v, want the frozen item replayed (simulated)", v.Progress)
	}
	_, items, err := svc.Set(ctx, "p", set.ID)
	if err != nil || len(items) != 1 || items[0].Capture.Messages[0].Content != "q0" {
		t.Errorf("frozen items: got %+v, %v", items, err)
	}
}
