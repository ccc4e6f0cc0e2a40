package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/queue"
	"github.com/use-lumina/lumina/internal/store"
)

// The worker is tested against the real embedded JetStream (redelivery, dead letters and
// acks are the queue's behaviour) and a fake store that can fail on demand.

type fakeStore struct {
	mu      sync.Mutex
	down    bool           // Write and Ping fail
	poison  string         // Write fails for any batch holding this span name
	written map[string]int // span name → times written
	writes  int
	slow    time.Duration // how long each Write takes
	// unprepared counts the Writes of batches that Prepare had not seen in their final
	// form (store.Preparer): none, unless the worker skips Prepare.
	unprepared int
	deferred   int // Writes on a context marked by store.DeferSync
}

// preparedSpans is what fakeStore.Prepare leaves in a batch: the span names it saw.
type preparedSpans []string

func spanNames(b store.Batch) preparedSpans {
	var names preparedSpans
	for _, s := range b.Spans {
		names = append(names, s.Name)
	}
	return names
}

func (f *fakeStore) Prepare(b *store.Batch) { b.Prepared = spanNames(*b) }

// Join keeps the parts' preparation only if every part was prepared, as a real store must.
func (f *fakeStore) Join(parts []store.Batch) store.Batch {
	b := store.Join(parts)
	var names preparedSpans
	for _, p := range parts {
		n, ok := p.Prepared.(preparedSpans)
		if !ok {
			return b
		}
		names = append(names, n...)
	}
	b.Prepared = names
	return b
}

func (f *fakeStore) Write(ctx context.Context, b store.Batch) error {
	f.mu.Lock()
	if store.SyncDeferred(ctx) {
		f.deferred++
	}
	slow := f.slow
	f.mu.Unlock()
	time.Sleep(slow)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("database is down")
	}
	for _, s := range b.Spans {
		if f.poison != "" && s.Name == f.poison {
			return errors.New("constraint violation")
		}
	}
	f.writes++
	if p, ok := b.Prepared.(preparedSpans); !ok || !slices.Equal(p, spanNames(b)) {
		f.unprepared++
	}
	for _, s := range b.Spans {
		f.written[s.Name]++
	}
	return nil
}

func (f *fakeStore) Ping(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("database is down")
	}
	return nil
}

func (f *fakeStore) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.written[name]
}

func (f *fakeStore) set(fn func(*fakeStore)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// decodeNames treats a message body as a span name; "garbage" cannot be decoded.
func decodeNames(d *queue.Delivery) (store.Batch, error) {
	data, err := d.Data()
	if err != nil {
		return store.Batch{}, err
	}
	if string(data) == "garbage" {
		return store.Batch{}, errors.New("not OTLP")
	}
	return store.Batch{Spans: []genai.Span{{ProjectID: d.ProjectID, Name: string(data)}}}, nil
}

type harness struct {
	q     *queue.Queue
	st    *fakeStore
	hooks []string
	// deferredHooks counts the hook calls whose context was marked by store.DeferSync.
	deferredHooks int
	mu            sync.Mutex
	stop          func()
	reg           *prometheus.Registry
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, func(*Config) {})
}

// newHarnessWith starts a worker (queue ack wait 1s) with its configuration changed by edit.
func newHarnessWith(t *testing.T, edit func(*Config)) *harness {
	t.Helper()
	st := &fakeStore{written: map[string]int{}}
	return newHarnessOn(t, st, st, edit)
}

// newHarnessOn is newHarnessWith with the worker writing to ws, which wraps st.
func newHarnessOn(t *testing.T, st *fakeStore, ws Store, edit func(*Config)) *harness {
	t.Helper()
	q, err := queue.Open(context.Background(), queue.Config{DataDir: t.TempDir(), AckWait: time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{q: q, st: st, reg: prometheus.NewRegistry()}
	hook := func(ctx context.Context, b store.Batch) {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, s := range b.Spans {
			h.hooks = append(h.hooks, s.Name)
		}
		if store.SyncDeferred(ctx) {
			h.deferredHooks++
		}
	}
	cfg := Config{BatchMsgs: 50, Linger: 5 * time.Millisecond, PoisonAfter: 3}
	edit(&cfg)
	w := New(cfg,
		func(ctx context.Context) (Source, error) { return q.Consumer(ctx, 400) },
		decodeNames, ws, nil, []Hook{hook}, h.reg, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	h.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
		q.Close()
	}
	t.Cleanup(h.stop)
	return h
}

func (h *harness) publish(t *testing.T, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if err := h.q.Publish(context.Background(), queue.SignalTraces, "p1", []byte(b)); err != nil {
			t.Fatal(err)
		}
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) stats(t *testing.T) queue.Stats {
	t.Helper()
	st, err := h.q.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestBatchesArePreparedBeforeTheWrite: a store that implements store.Preparer gets every
// batch, enriched, through Prepare before Write.
func TestBatchesArePreparedBeforeTheWrite(t *testing.T) {
	h := newHarness(t)
	var names []string
	for i := range 20 {
		names = append(names, fmt.Sprintf("span-%d", i))
	}
	h.publish(t, names...)
	eventually(t, "every span written", func() bool {
		for _, n := range names {
			if h.st.count(n) == 0 {
				return false
			}
		}
		return true
	})
	h.st.mu.Lock()
	defer h.st.mu.Unlock()
	if h.st.unprepared != 0 {
		t.Errorf("%d of %d writes got a batch Prepare had not seen", h.st.unprepared, h.st.writes)
	}
}

func TestCommitThenAckThenHooks(t *testing.T) {
	h := newHarness(t)
	h.publish(t, "a", "b", "c")
	eventually(t, "three spans written", func() bool { return h.st.count("a")+h.st.count("b")+h.st.count("c") == 3 })
	eventually(t, "the queue to drain", func() bool { st := h.stats(t); return st.Messages == 0 && st.AckPending == 0 })
	h.mu.Lock()
	defer h.mu.Unlock()
	if strings.Join(h.hooks, ",") != "a,b,c" {
		t.Errorf("got hooks for %v, want a,b,c after commit", h.hooks)
	}
}

func TestStoreOutageLosesNothing(t *testing.T) {
	h := newHarness(t)
	h.st.set(func(f *fakeStore) { f.down = true })
	h.publish(t, "during-outage-1", "during-outage-2")
	// Well past PoisonAfter deliveries: an outage must never dead-letter anything.
	eventually(t, "several redeliveries", func() bool { return h.stats(t).Redelivered > 0 })
	time.Sleep(1500 * time.Millisecond)
	if st := h.stats(t); st.DeadLetters != 0 {
		t.Fatalf("got %d dead letters during a store outage, want 0", st.DeadLetters)
	}
	h.st.set(func(f *fakeStore) { f.down = false })
	eventually(t, "both spans written after recovery", func() bool {
		return h.st.count("during-outage-1") == 1 && h.st.count("during-outage-2") == 1
	})
	eventually(t, "the queue to drain", func() bool { return h.stats(t).Messages == 0 })
	// The counter is updated after the ack, which the drained queue has already seen; each
	// message is written once, so it cannot pass 2.
	eventually(t, "lumina_worker_redelivered_total to count both messages, committed on a later delivery", func() bool {
		return h.counter(t, "lumina_worker_redelivered_total") == 2
	})
}

// counter is the value of the worker's counter called name.
func (h *harness) counter(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// A batch that takes longer than the ack wait to commit, and the batch fetched behind it
// meanwhile, are reported in progress and so never redelivered: redelivery under load
// would double the work exactly when the worker is slowest.
func TestSlowBatchIsNotRedelivered(t *testing.T) {
	h := newHarnessWith(t, func(c *Config) { c.AckProgress = 200 * time.Millisecond; c.Concurrency = 2 })
	h.st.set(func(f *fakeStore) { f.slow = 2500 * time.Millisecond }) // 2.5 × the ack wait
	h.publish(t, "slow-1")
	time.Sleep(100 * time.Millisecond) // slow-1 is being written when slow-2 arrives
	h.publish(t, "slow-2")
	eventually(t, "both spans written", func() bool { return h.st.count("slow-1") == 1 && h.st.count("slow-2") == 1 })
	// A copy redelivered after the first ack wait would be written by about 2 × 2.5 s.
	time.Sleep(3500 * time.Millisecond)
	eventually(t, "the queue to drain", func() bool { st := h.stats(t); return st.Messages == 0 && st.AckPending == 0 })
	if got := h.counter(t, "lumina_worker_redelivered_total"); got != 0 {
		t.Errorf("lumina_worker_redelivered_total = %v, want 0", got)
	}
	if n := h.st.count("slow-1") + h.st.count("slow-2"); n != 2 {
		t.Errorf("spans written %d times, want 2", n)
	}
}

func TestPoisonMessageIsIsolatedAndDeadLettered(t *testing.T) {
	h := newHarness(t)
	h.st.set(func(f *fakeStore) { f.poison = "bad" })
	h.publish(t, "ok-1", "bad", "ok-2", "garbage")
	eventually(t, "the good messages written", func() bool { return h.st.count("ok-1") == 1 && h.st.count("ok-2") == 1 })
	eventually(t, "two dead letters (undecodable, and failing 3 times)", func() bool { return h.stats(t).DeadLetters == 2 })
	eventually(t, "the queue to drain", func() bool { st := h.stats(t); return st.Messages == 0 && st.AckPending == 0 })
	if n := h.st.count("bad"); n != 0 {
		t.Errorf("got the poison span written %d times, want 0", n)
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		delivered uint64
		want      time.Duration
	}{{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {4, 800 * time.Millisecond}, {20, 10 * time.Second}} {
		if got := backoff(tc.delivered); got != tc.want {
			t.Errorf("backoff(%d) = %v, want %v", tc.delivered, got, tc.want)
		}
	}
}

// TestEnrichCoversEveryItemOnce splits batches of several sizes across parts and checks
// that every span and log record is enriched exactly once.
func TestEnrichCoversEveryItemOnce(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	stage := func(_ context.Context, b *store.Batch) error {
		mu.Lock()
		calls++
		mu.Unlock()
		for i := range b.Spans {
			b.Spans[i].Name += "+"
		}
		for i := range b.Logs {
			b.Logs[i].EventName += "+"
		}
		return nil
	}
	for _, n := range []int{0, 1, 255, 256, 1000, 4099} {
		w := &Worker{cfg: Config{StageWorkers: 4}, stages: []Stage{stage}}
		b := store.Batch{Spans: make([]genai.Span, n), Logs: make([]genai.LogRecord, n/3)}
		calls = 0
		if err := w.enrich(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		for i := range b.Spans {
			if b.Spans[i].Name != "+" {
				t.Fatalf("n=%d: span %d enriched %q, want once", n, i, b.Spans[i].Name)
			}
		}
		for i := range b.Logs {
			if b.Logs[i].EventName != "+" {
				t.Fatalf("n=%d: log %d enriched %q, want once", n, i, b.Logs[i].EventName)
			}
		}
		if want := min(4, max(1, (n+n/3)/minPart)); calls != want {
			t.Errorf("n=%d: %d parts, want %d", n, calls, want)
		}
	}
}

// gateStore is a store whose first Write blocks until release is closed, so a test can
// look at what the worker does while a batch is being written.
type gateStore struct {
	mu      sync.Mutex
	entered chan struct{} // closed when the first Write starts
	release chan struct{} // the first Write returns once this is closed
	writes  []string      // span names, in commit order
	sizes   []int         // spans per committed batch
}

func (g *gateStore) Write(_ context.Context, b store.Batch) error {
	g.mu.Lock()
	first := len(g.writes) == 0
	g.mu.Unlock()
	if first {
		close(g.entered)
		<-g.release
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, s := range b.Spans {
		g.writes = append(g.writes, s.Name)
	}
	g.sizes = append(g.sizes, len(b.Spans))
	return nil
}

func (g *gateStore) Ping(context.Context) error { return nil }

// runGated runs a worker configured by cfg on a fresh embedded queue and a gateStore, until
// the test ends.
func runGated(t *testing.T, cfg Config, stages []Stage, hooks []Hook) (*queue.Queue, *gateStore) {
	t.Helper()
	q, err := queue.Open(context.Background(), queue.Config{DataDir: t.TempDir(), AckWait: 30 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)
	st := &gateStore{entered: make(chan struct{}), release: make(chan struct{})}
	w := New(cfg, func(ctx context.Context) (Source, error) { return q.Consumer(ctx, 400) },
		decodeNames, st, stages, hooks, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	runUntilCleanup(t, w)
	return q, st
}

// runUntilCleanup runs w until the test ends, and fails the test if Run fails.
func runUntilCleanup(t *testing.T, w *Worker) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
}

// TestNextBatchIsEnrichedDuringTheWrite holds the first batch's write open and checks that
// the second batch is enriched meanwhile, that the first is not acknowledged before its
// commit, and that batches are committed and hooked in the order they were fetched.
func TestNextBatchIsEnrichedDuringTheWrite(t *testing.T) {
	enriched := make(chan string, 10)
	stage := func(_ context.Context, b *store.Batch) error {
		for _, s := range b.Spans {
			enriched <- s.Name
		}
		return nil
	}
	var mu sync.Mutex
	var hooked []string
	hook := func(_ context.Context, b store.Batch) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range b.Spans {
			hooked = append(hooked, s.Name)
		}
	}
	q, st := runGated(t, Config{BatchMsgs: 50, Linger: 5 * time.Millisecond}, []Stage{stage}, []Hook{hook})
	publish := func(name string) {
		if err := q.Publish(context.Background(), queue.SignalTraces, "p1", []byte(name)); err != nil {
			t.Fatal(err)
		}
	}
	// The deadlines below only turn a hang into a failure.
	wait := func(what string, ch <-chan struct{}) {
		select {
		case <-ch:
		case <-time.After(15 * time.Second):
			close(st.release)
			t.Fatalf("timed out waiting for %s", what)
		}
	}
	publish("first")
	wait("the first write to start", st.entered)
	if got := <-enriched; got != "first" {
		t.Fatalf("enriched %q first, want first", got)
	}
	publish("second")
	secondEnriched := make(chan struct{})
	go func() {
		if <-enriched == "second" {
			close(secondEnriched)
		}
	}()
	wait("the second batch to be enriched while the first is written", secondEnriched)
	if s, err := q.Stats(context.Background()); err != nil || s.AckPending == 0 {
		t.Errorf("while the first write is open: got %d messages pending acknowledgement, %v; want the first still unacknowledged", s.AckPending, err)
	}
	mu.Lock()
	if len(hooked) != 0 {
		t.Errorf("hooks ran for %v before any commit, want none", hooked)
	}
	mu.Unlock()
	close(st.release)
	eventually(t, "both batches acknowledged", func() bool {
		s, err := q.Stats(context.Background())
		return err == nil && s.Messages == 0 && s.AckPending == 0
	})
	st.mu.Lock()
	writes := strings.Join(st.writes, ",")
	st.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	if writes != "first,second" || strings.Join(hooked, ",") != "first,second" {
		t.Errorf("got commits %s and hooks %v, want first,second for both", writes, hooked)
	}
}

// TestBatchesLingerOnlyWhileTheWriterIsBusy runs a worker whose linger is a minute: a
// message on a quiet stream is written at once, and the messages that arrive while that
// write is open are committed together as the next batch, as soon as the writer is free.
func TestBatchesLingerOnlyWhileTheWriterIsBusy(t *testing.T) {
	q, st := runGated(t, Config{BatchMsgs: 50, Linger: time.Minute}, nil, nil)
	publish := func(names ...string) {
		for _, n := range names {
			if err := q.Publish(context.Background(), queue.SignalTraces, "p1", []byte(n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish("first")
	select { // well within the minute a lingering batch would wait
	case <-st.entered:
	case <-time.After(15 * time.Second):
		close(st.release)
		t.Fatal("the first message was not written within 15 s: its batch waited for the linger")
	}
	publish("a", "b", "c")
	eventually(t, "the three messages fetched while the first write is open", func() bool {
		s, err := q.Stats(context.Background())
		return err == nil && s.AckPending == 4
	})
	close(st.release)
	acked := func() bool {
		s, err := q.Stats(context.Background())
		return err == nil && s.Messages == 0 && s.AckPending == 0
	}
	eventually(t, "every message acknowledged", acked)
	// The fetch that batch was cut from is still open: what it delivers opens the next one.
	publish("d")
	eventually(t, "the next message acknowledged", func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return len(st.sizes) == 3 && acked()
	})
	st.mu.Lock()
	defer st.mu.Unlock()
	if !slices.Equal(st.sizes, []int{1, 3, 1}) || strings.Join(st.writes, ",") != "first,a,b,c,d" {
		t.Errorf("got batches of %v spans (%v), want [1 3 1] (first,a,b,c,d)", st.sizes, st.writes)
	}
}

// TestWhatArrivesDuringAWriteIsInTheNextCommit holds the first write open while messages
// arrive in three groups, each well after the previous one's linger ran out, so each is
// prepared as a part of its own: the writer, once free, commits all three in one batch,
// so a message that arrived during a write waits for one more commit, not two.
func TestWhatArrivesDuringAWriteIsInTheNextCommit(t *testing.T) {
	prepared := make(chan int, 10)
	stage := func(_ context.Context, b *store.Batch) error {
		prepared <- len(b.Spans)
		return nil
	}
	q, st := runGated(t, Config{BatchMsgs: 50, Linger: 5 * time.Millisecond}, []Stage{stage}, nil)
	publish := func(names ...string) {
		for _, n := range names {
			if err := q.Publish(context.Background(), queue.SignalTraces, "p1", []byte(n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish("first")
	select {
	case <-st.entered:
	case <-time.After(15 * time.Second):
		close(st.release)
		t.Fatal("the first message was not written")
	}
	<-prepared
	for _, group := range [][]string{{"a", "b"}, {"c"}, {"d", "e"}} {
		publish(group...)
		// The group is a part of its own once the stage has seen it; the deadline only
		// turns a hang into a failure.
		for seen := 0; seen < len(group); {
			select {
			case n := <-prepared:
				seen += n
			case <-time.After(15 * time.Second):
				close(st.release)
				t.Fatalf("group %v was not prepared while the first write was open", group)
			}
		}
	}
	// A part joins the pipeline a few statements after its stage ran; this pause covers
	// that step, not any timing of the worker's.
	time.Sleep(50 * time.Millisecond)
	close(st.release)
	eventually(t, "every message acknowledged", func() bool {
		s, err := q.Stats(context.Background())
		return err == nil && s.Messages == 0 && s.AckPending == 0
	})
	st.mu.Lock()
	defer st.mu.Unlock()
	if !slices.Equal(st.sizes, []int{1, 5}) || strings.Join(st.writes, ",") != "first,a,b,c,d,e" {
		t.Errorf("got batches of %v spans (%v), want [1 5] (first,a,b,c,d,e)", st.sizes, st.writes)
	}
}
