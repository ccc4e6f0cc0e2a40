package postgres

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	dsn := tempSchema(t)
	ctx := context.Background()
	migrations, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	// Two processes starting at once: both succeed, one applies.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = Migrate(ctx, dsn, quietLogger()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate %d: %v", i, err)
		}
	}
	// Again (with a url written for the pool, and no logger), and through Open: nothing to do.
	if err := Migrate(ctx, dsn+"&pool_max_conns=2", nil); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	s, err := Open(ctx, dsn, quietLogger())
	if err != nil {
		t.Fatalf("Open after Migrate: %v", err)
	}
	defer s.Close()

	rows, err := s.pool.Query(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	var want []int32
	for _, m := range migrations {
		want = append(want, int32(m.version))
	}
	if !slices.Equal(got, want) {
		t.Errorf("schema_migrations: got %v, want %v", got, want)
	}
	for _, table := range []string{"spans", "spans_default", "traces", "logs", "prices"} {
		var ok bool
		if err := s.pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok); err != nil || !ok {
			t.Errorf("table %s: exists %v, err %v; want it to exist", table, ok, err)
		}
	}
}

func TestMigrateNeedsASchema(t *testing.T) {
	dsn := withSearchPath(t, testURL(t), "lumina_test_no_such_schema")
	if err := Migrate(context.Background(), dsn, quietLogger()); err == nil {
		t.Fatal("Migrate into a missing schema: got nil, want an error")
	}
}

// partitionsOf lists the partitions of spans and how many rows each holds.
func partitionsOf(t *testing.T, s *Store) map[string]int {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT c.relname,
		(SELECT count(*) FROM spans WHERE tableoid = c.oid)
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'spans'::regclass`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		out[name] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dated is a one-span trace starting at start.
func dated(tr int, start time.Time) genai.Span {
	return genai.Span{
		ProjectID: "p", TraceID: fmt.Sprintf("%032x", tr), SpanID: fmt.Sprintf("%016x", tr),
		Name: "root", ServiceName: "svc", StartTime: start, EndTime: start.Add(time.Second),
		StatusCode: genai.StatusOK,
	}
}

func TestPartitions(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	cfg := config{now: func() time.Time { return now }, pastDays: 31, futureDays: 7}
	s := openTemp(t, cfg)
	day := func(d int) time.Time { return now.AddDate(0, 0, d) }

	parts := partitionsOf(t, s)
	for d := -1; d <= 3; d++ {
		if _, ok := parts[partitionName(dayOf(day(d).UnixNano()))]; !ok {
			t.Errorf("after Open: no partition for day %+d (%s); have %v", d, day(d).Format(time.DateOnly), parts)
		}
	}
	if _, ok := parts["spans_default"]; !ok {
		t.Errorf("no default partition; have %v", parts)
	}

	farPast, farFuture := dated(1, day(-30)), dated(2, day(6))
	outside := dated(3, day(10))                                      // beyond the window: default partition
	epoch := dated(4, time.Unix(0, 0).UTC())                          // 1970
	year3000 := dated(5, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)) // beyond int64 nanoseconds
	zero := dated(6, time.Time{})
	zero.EndTime = time.Time{}
	spans := []genai.Span{farPast, farFuture, outside, epoch, year3000, zero}
	if err := s.Write(ctx, store.Batch{Spans: spans}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	parts = partitionsOf(t, s)
	for _, c := range []struct {
		span genai.Span
		want string
	}{
		{farPast, partitionName(dayOf(day(-30).UnixNano()))},
		{farFuture, partitionName(dayOf(day(6).UnixNano()))},
	} {
		if parts[c.want] != 1 {
			t.Errorf("span at %s: partition %s holds %d rows, want 1 (partitions %v)", c.span.StartTime, c.want, parts[c.want], parts)
		}
	}
	if got, want := parts["spans_default"], 4; got != want {
		t.Errorf("default partition: got %d rows, want %d (outside the window, 1970, 3000, zero time)", got, want)
	}

	for _, c := range []struct {
		name      string
		span      genai.Span
		wantStart time.Time
	}{
		{"far past", farPast, farPast.StartTime},
		{"1970", epoch, epoch.StartTime},
		{"3000 is clamped to the last nanosecond an int64 holds", year3000, time.Unix(0, math.MaxInt64).UTC()},
		{"zero time", zero, time.Time{}},
	} {
		d, err := s.Trace(ctx, "p", c.span.TraceID)
		if err != nil {
			t.Errorf("%s: Trace: %v", c.name, err)
			continue
		}
		if len(d.Spans) != 1 || !d.Spans[0].StartTime.Equal(c.wantStart) || d.Spans[0].StartTime.Location() != time.UTC {
			t.Errorf("%s: got spans %+v, want one starting at %s (UTC)", c.name, d.Spans, c.wantStart)
		}
	}
	page, err := s.Traces(ctx, store.TraceQuery{ProjectID: "p", Limit: 10})
	if err != nil {
		t.Fatalf("Traces: %v", err)
	}
	if len(page.Traces) != len(spans) {
		t.Errorf("Traces: got %d, want %d", len(page.Traces), len(spans))
	}

	// Days later the outside day is inside the window: its partition is created on the
	// first write and takes over the row the default partition caught.
	later := now.AddDate(0, 0, 5)
	s2, err := open(ctx, s.pool.Config().ConnString(), quietLogger(), config{now: func() time.Time { return later }, pastDays: 31, futureDays: 7})
	if err != nil {
		t.Fatalf("open later: %v", err)
	}
	defer s2.Close()
	if err := s2.Write(ctx, store.Batch{Spans: []genai.Span{dated(7, day(10).Add(time.Hour))}}); err != nil {
		t.Fatalf("Write later: %v", err)
	}
	parts = partitionsOf(t, s2)
	if got := parts[partitionName(dayOf(day(10).UnixNano()))]; got != 2 {
		t.Errorf("partition of day +10: got %d rows, want 2 (one moved from the default partition)", got)
	}
	if got, want := parts["spans_default"], 3; got != want {
		t.Errorf("default partition after the move: got %d rows, want %d", got, want)
	}
	if _, err := s2.Trace(ctx, "p", outside.TraceID); err != nil {
		t.Errorf("moved span's trace: %v", err)
	}
}

func TestPartitionCreationRacesAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	dsn := tempSchema(t)
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	stores := make([]*Store, 3)
	for i := range stores {
		s, err := open(ctx, dsn, quietLogger(), config{now: func() time.Time { return now }, pastDays: 31, futureDays: 7})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer s.Close()
		stores[i] = s
	}
	// Every store writes spans of the same new days at once.
	var wg sync.WaitGroup
	errs := make(chan error, len(stores))
	for i, s := range stores {
		wg.Go(func() {
			var spans []genai.Span
			for d := range 5 {
				spans = append(spans, dated(100*i+d+1, now.AddDate(0, 0, -20+d)))
			}
			if err := s.Write(ctx, store.Batch{Spans: spans}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Write: %v", err)
	}
	parts := partitionsOf(t, stores[0])
	for d := range 5 {
		name := partitionName(dayOf(now.AddDate(0, 0, -20+d).UnixNano()))
		if parts[name] != len(stores) {
			t.Errorf("partition %s: got %d rows, want %d", name, parts[name], len(stores))
		}
	}
	if parts["spans_default"] != 0 {
		t.Errorf("default partition: got %d rows, want 0", parts["spans_default"])
	}
}

// TestPartitionsAheadWhileRunning: a process that runs for days keeps creating partitions
// three days ahead as it writes, not only when it opens.
func TestPartitionsAheadWhileRunning(t *testing.T) {
	clock := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	s := openTemp(t, config{now: func() time.Time { return clock }, pastDays: 31, futureDays: 7})
	clock = clock.AddDate(0, 0, 10)
	if err := s.Write(context.Background(), store.Batch{Spans: []genai.Span{dated(1, clock)}}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	parts := partitionsOf(t, s)
	for d := -1; d <= 3; d++ {
		if name := partitionName(dayOf(clock.AddDate(0, 0, d).UnixNano())); !has(parts, name) {
			t.Errorf("ten days after Open: no partition %s (day %+d); have %v", name, d, parts)
		}
	}
}

func has(m map[string]int, k string) bool { _, ok := m[k]; return ok }
