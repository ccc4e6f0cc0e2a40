package limits

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// value reads a counter or gauge.
func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func ids(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s%030d", prefix, i))
	}
	return out
}

type quotaFixture struct {
	q   *Quota
	reg *prometheus.Registry
	log *bytes.Buffer
	clk *clock
}

func newQuotaFixture(t *testing.T, policy Policy, counter Counter, start time.Time) quotaFixture {
	t.Helper()
	f := quotaFixture{reg: prometheus.NewRegistry(), log: &bytes.Buffer{}, clk: &clock{t: start}}
	f.q = NewQuota(policy, counter, f.clk.now, f.reg, slog.New(slog.NewTextHandler(f.log, nil)))
	return f
}

func admit(t *testing.T, q *Quota, project string, traceIDs []string) Decision {
	t.Helper()
	d, err := q.Admit(context.Background(), project, traceIDs)
	if err != nil {
		t.Fatalf("Admit(%s, %d ids): %v", project, len(traceIDs), err)
	}
	return d
}

// testQuotaEdges runs the quota edge cases against a counter.
func testQuotaEdges(t *testing.T, counter Counter) {
	start := time.Date(2026, 12, 3, 23, 0, 0, 0, time.UTC)
	f := newQuotaFixture(t, Policy{Default: 3, Projects: map[string]int64{"big": 5, "free": 0}}, counter, start)
	q := f.q
	reset := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)

	d := admit(t, q, "p", ids("a", 1, 2))
	if len(d.Refused) != 0 || d.Count != 2 || d.Limit != 3 || d.Remaining() != 1 || !d.Reset.Equal(reset) {
		t.Fatalf("first two traces: got %+v, want both admitted, count 2 of 3, reset %s", d, reset)
	}
	// The limit-th trace is accepted, the next refused, in one request.
	d = admit(t, q, "p", ids("a", 3, 4))
	if !slices.Equal(d.Refused, ids("a", 4, 4)) || d.Count != 3 || d.Remaining() != 0 {
		t.Fatalf("traces 3 and 4: got refused %v, count %d, want only trace 4 refused at 3", d.Refused, d.Count)
	}
	// Spans of admitted traces are always accepted; new traces are refused.
	d = admit(t, q, "p", append(ids("a", 1, 3), ids("a", 5, 5)...))
	if !slices.Equal(d.Refused, ids("a", 5, 5)) || d.Count != 3 {
		t.Fatalf("admitted traces plus a new one: got refused %v, count %d, want only the new one refused", d.Refused, d.Count)
	}
	// Another project has its own count; overrides apply; 0 is unlimited.
	if d := admit(t, q, "big", ids("b", 1, 6)); len(d.Refused) != 1 || d.Count != 5 || d.Limit != 5 {
		t.Errorf("project with limit 5: got %+v, want one of six refused", d)
	}
	if d := admit(t, q, "free", ids("c", 1, 50)); len(d.Refused) != 0 || d.Count != 50 || d.Limit != 0 {
		t.Errorf("unlimited project: got refused %d, count %d, limit %d, want 0, 50, 0", len(d.Refused), d.Count, d.Limit)
	}
	u, err := q.Usage(context.Background(), "p")
	if err != nil || u.Count != 3 || u.Limit != 3 || !u.Reset.Equal(reset) {
		t.Errorf("Usage(p): got %+v, %v, want 3 of 3, reset %s", u, err, reset)
	}
	// Reached once per project and day: one warning, one increment.
	if n := strings.Count(f.log.String(), "reached its daily trace limit"); n != 2 { // p and big
		t.Errorf("got %d limit warnings, want 2 (p and big, once each):\n%s", n, f.log)
	}
	if got := value(t, q.m.limitHit.WithLabelValues("p")); got != 1 {
		t.Errorf("lumina_quota_limit_reached_total{project=p}: got %v, want 1", got)
	}
	if got := value(t, q.m.refused.WithLabelValues("p")); got != 2 {
		t.Errorf("lumina_quota_traces_refused_total{project=p}: got %v, want 2", got)
	}

	// One nanosecond before midnight UTC the day is still full; at midnight it resets.
	f.clk.set(reset.Add(-time.Nanosecond))
	if d := admit(t, q, "p", ids("d", 1, 1)); len(d.Refused) != 1 {
		t.Errorf("just before midnight: got %+v, want refused", d)
	}
	f.clk.set(reset)
	d = admit(t, q, "p", ids("d", 1, 1))
	if len(d.Refused) != 0 || d.Count != 1 || !d.Reset.Equal(reset.Add(24*time.Hour)) {
		t.Errorf("after midnight: got %+v, want admitted, count 1, next reset a day later", d)
	}
	// A trace admitted yesterday counts again today (it is today's traffic).
	if d := admit(t, q, "p", ids("a", 1, 1)); len(d.Refused) != 0 || d.Count != 2 {
		t.Errorf("yesterday's trace today: got %+v, want admitted as the second", d)
	}
}

func TestMemoryQuota(t *testing.T) {
	m, err := NewMemory(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	testQuotaEdges(t, m)
}

func TestMemoryQuotaWithoutJournal(t *testing.T) {
	m, err := NewMemory("")
	if err != nil {
		t.Fatal(err)
	}
	testQuotaEdges(t, m)
}

// TestMemorySurvivesRestart closes the counter and opens a new one on the same directory,
// as a process restart does: today's traces are still counted, yesterday's journal is gone.
func TestMemorySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	day := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	m, err := NewMemory(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Admit(ctx, `odd "project"`, day.Add(-24*time.Hour), 10, ids("y", 1, 4)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Admit(ctx, `odd "project"`, day, 10, ids("a", 1, 7)); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	restarted, err := NewMemory(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer restarted.Close()
	if n, err := restarted.Count(ctx, `odd "project"`, day); err != nil || n != 7 {
		t.Fatalf("count after restart: got %d, %v, want 7", n, err)
	}
	refused, n, err := restarted.Admit(ctx, `odd "project"`, day, 10, append(ids("a", 1, 7), ids("b", 1, 5)...))
	if err != nil || n != 10 || len(refused) != 2 {
		t.Errorf("admit after restart: got count %d, %d refused, %v, want 10 and 2 refused", n, len(refused), err)
	}
	if n, _ := restarted.Count(ctx, `odd "project"`, day.Add(-24*time.Hour)); n != 10 {
		// Asking for an earlier day keeps the current one (a clock stepping back).
		t.Errorf("count for yesterday after today was used: got %d, want today's 10", n)
	}
}

// failingCounter fails every call.
type failingCounter struct{}

func (failingCounter) Admit(context.Context, string, time.Time, int64, []string) ([]string, int64, error) {
	return nil, 0, fmt.Errorf("connection refused")
}
func (failingCounter) Count(context.Context, string, time.Time) (int64, error) {
	return 0, fmt.Errorf("connection refused")
}

// TestQuotaFailsOpen checks that a failing counter admits everything, marks the decision
// unknown, counts each failure and logs once.
func TestQuotaFailsOpen(t *testing.T) {
	f := newQuotaFixture(t, Policy{Default: 1}, failingCounter{}, time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC))
	for range 3 {
		d := admit(t, f.q, "p", ids("a", 1, 5))
		if len(d.Refused) != 0 || !d.Unknown {
			t.Fatalf("got %+v, want everything admitted, unknown count", d)
		}
	}
	if got := value(t, f.q.m.unavailable); got != 3 {
		t.Errorf("lumina_quota_counter_errors_total: got %v, want 3", got)
	}
	if n := strings.Count(f.log.String(), "quota counter unavailable"); n != 1 {
		t.Errorf("got %d warnings, want 1:\n%s", n, f.log)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.q.Admit(ctx, "p", ids("a", 1, 1)); err == nil {
		t.Errorf("Admit with a done ctx: got nil, want the ctx error")
	}
	if _, err := f.q.Usage(context.Background(), "p"); err == nil {
		t.Errorf("Usage with a failing counter: got nil, want an error")
	}
}

func TestParseOverrides(t *testing.T) {
	got, err := ParseOverrides(" a=1, b = 0 ,,c=50000")
	if err != nil || len(got) != 3 || got["a"] != 1 || got["b"] != 0 || got["c"] != 50000 {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"a", "a=x", "=3", "a=-1"} {
		if _, err := ParseOverrides(bad); err == nil {
			t.Errorf("ParseOverrides(%q): got nil, want an error", bad)
		}
	}
}

// testUncapped admits 50,000 distinct traces (and repeats of them) for an unlimited project:
// nothing is refused, and the count is the sketch's estimate, within 3 %.
func testUncapped(t *testing.T, c Counter, project string, day time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	const n = 50_000
	var count int64
	for i := 0; i < n; i += 500 {
		batch := ids("u", i+1, i+500)
		batch = append(batch, ids("u", 1, 20)...) // later spans of traces already counted
		refused, got, err := c.Admit(ctx, project, day, 0, batch)
		if err != nil {
			t.Fatal(err)
		}
		if len(refused) != 0 {
			t.Fatalf("unlimited project: %d traces refused", len(refused))
		}
		count = got
	}
	if math.Abs(float64(count)-n) > 0.03*n {
		t.Errorf("count %d after %d distinct traces: want within 3 %%", count, n)
	}
	if got, err := c.Count(ctx, project, day); err != nil || got != count {
		t.Errorf("Count = %d, %v; want %d as Admit said", got, err, count)
	}
	return count
}

// TestMemoryUncapped: an unlimited project keeps no set of ids (its memory does not grow
// with its traffic), and its sketch survives a restart.
func TestMemoryUncapped(t *testing.T) {
	dir := t.TempDir()
	day := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	m, err := NewMemory(dir)
	if err != nil {
		t.Fatal(err)
	}
	count := testUncapped(t, m, "unlimited", day)
	if len(m.sets["unlimited"]) != 0 {
		t.Errorf("unlimited project holds %d ids in memory, want none", len(m.sets["unlimited"]))
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	restarted, err := NewMemory(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer restarted.Close()
	if got, err := restarted.Count(context.Background(), "unlimited", day); err != nil || got != count {
		t.Errorf("after a restart: count %d, %v; want %d", got, err, count)
	}
}
