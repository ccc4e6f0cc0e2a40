package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// TestRetentionDropsPartitions writes traces on days whose partitions exist (the store's
// clock is injected) and checks that retention drops the partitions that end before the
// cutoff and deletes a trace that straddles the boundary whole.
func TestRetentionDropsPartitions(t *testing.T) {
	now := time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)
	cfg := defaultConfig()
	cfg.now = func() time.Time { return now }
	s, err := open(context.Background(), tempSchema(t), slog.New(slog.NewTextHandler(logWriter{t}, nil)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	day := 24 * time.Hour
	sp := func(trace, id int, start time.Time) genai.Span {
		return genai.Span{ProjectID: "p", TraceID: fmt.Sprintf("%032x", trace), SpanID: fmt.Sprintf("%016x", id),
			Name: "s", ServiceName: "svc", StartTime: start, EndTime: start.Add(time.Second), StatusCode: genai.StatusOK}
	}
	old := now.Add(-10 * day)
	straddle := now.Add(-8 * day).Truncate(day).Add(-time.Minute) // 23:59 the day before the last dropped day ends
	batch := store.Batch{Spans: []genai.Span{
		sp(1, 1, old), sp(1, 2, old.Add(time.Hour)),
		sp(2, 3, straddle), sp(2, 4, straddle.Add(2*day)), // its second span is after the cutoff
		sp(3, 5, now.Add(-day)),
	}}
	if err := s.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	cutoff := now.Add(-7 * day)
	st, err := s.DeleteBefore(ctx, store.RetentionPolicy{Cutoff: cutoff})
	if err != nil {
		t.Fatalf("DeleteBefore: %v", err)
	}
	if st.Partitions < 2 || st.Traces != 2 || st.Spans != 4 {
		t.Errorf("stats: got %d partitions dropped, %d traces and %d spans deleted, want at least 2, 2 and 4", st.Partitions, st.Traces, st.Spans)
	}
	var left []string
	rows, err := s.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'spans'::regclass ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		left = append(left, n)
	}
	rows.Close()
	for _, d := range []time.Time{old, straddle} {
		name := partitionName(dayOf(d.UnixNano()))
		for _, n := range left {
			if n == name {
				t.Errorf("partition %s (before the cutoff) still exists", name)
			}
		}
	}
	var spans int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM spans").Scan(&spans); err != nil {
		t.Fatal(err)
	}
	if spans != 1 {
		t.Errorf("got %d spans left, want 1 (trace 3's)", spans)
	}
	for _, tr := range []int{1, 2} {
		if _, err := s.Trace(ctx, "p", fmt.Sprintf("%032x", tr)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Trace(%d): got %v, want ErrNotFound", tr, err)
		}
	}
	if _, err := s.Trace(ctx, "p", fmt.Sprintf("%032x", 3)); err != nil {
		t.Errorf("Trace(3): got %v, want it kept", err)
	}
	// A late span of a dropped day lands in a partition again (or the default one).
	if err := s.Write(ctx, store.Batch{Spans: []genai.Span{sp(4, 6, old)}}); err != nil {
		t.Fatalf("write a late span of a dropped day: %v", err)
	}
}

// TestTryLock checks that the job lock is held by one session at a time.
func TestTryLock(t *testing.T) {
	s := openTemp(t, defaultConfig())
	ctx := context.Background()
	release, ok, err := s.TryLock(ctx, "retention")
	if err != nil || !ok {
		t.Fatalf("first TryLock: got ok=%v, err=%v, want the lock", ok, err)
	}
	if _, ok, err := s.TryLock(ctx, "retention"); err != nil || ok {
		t.Fatalf("second TryLock while held: got ok=%v, err=%v, want refused", ok, err)
	}
	other, ok, err := s.TryLock(ctx, "baselines")
	if err != nil || !ok {
		t.Fatalf("TryLock of another job: got ok=%v, err=%v, want the lock", ok, err)
	}
	other()
	release()
	again, ok, err := s.TryLock(ctx, "retention")
	if err != nil || !ok {
		t.Fatalf("TryLock after release: got ok=%v, err=%v, want the lock", ok, err)
	}
	again()
}

// logWriter sends the store's log lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
