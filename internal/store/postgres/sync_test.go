package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/store/storetest"
)

// TestConformanceDeferred runs the contract with every write the worker's path makes on a
// context marked by store.DeferSync, each followed by a Sync, as the worker runs them.
func TestConformanceDeferred(t *testing.T) {
	testURL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return deferring{openTemp(t, defaultConfig())} })
}

// deferring is a Store whose writes on the worker's path are deferred, then synced.
type deferring struct{ *Store }

func (d deferring) synced(ctx context.Context, err error) error {
	if err != nil {
		return err
	}
	return d.Sync(ctx)
}

func (d deferring) Write(ctx context.Context, b store.Batch) error {
	return d.synced(ctx, d.Store.Write(store.DeferSync(ctx), b))
}

func (d deferring) RecordAlert(ctx context.Context, a store.Alert, repeats int) (store.Alert, error) {
	got, err := d.Store.RecordAlert(store.DeferSync(ctx), a, repeats)
	return got, d.synced(ctx, err)
}

func (d deferring) PutAlertRule(ctx context.Context, r store.AlertRule) error {
	return d.synced(ctx, d.Store.PutAlertRule(store.DeferSync(ctx), r))
}

func (d deferring) EnqueueClaimed(ctx context.Context, ds []store.Delivery, until time.Time) ([]store.Delivery, error) {
	got, err := d.Store.EnqueueClaimed(store.DeferSync(ctx), ds, until)
	return got, d.synced(ctx, err)
}

func (d deferring) UpdateSpanQuality(ctx context.Context, projectID, traceID, spanID string, q genai.Quality) error {
	return d.synced(ctx, d.Store.UpdateSpanQuality(store.DeferSync(ctx), projectID, traceID, spanID, q))
}

func (d deferring) EnqueueJudgeJobs(ctx context.Context, jobs []store.JudgeJob) ([]store.JudgeJob, error) {
	got, err := d.Store.EnqueueJudgeJobs(store.DeferSync(ctx), jobs)
	return got, d.synced(ctx, err)
}

// A deferred write commits asynchronously and is visible at once; Sync returns only once
// the server has flushed its WAL past that commit.
func TestSyncMakesDeferredWritesDurable(t *testing.T) {
	s := openTemp(t, defaultConfig())
	ctx := context.Background()
	deferred := store.DeferSync(ctx)
	for _, c := range []struct {
		ctx  context.Context
		want string
	}{{ctx, "on"}, {deferred, "off"}} {
		var got string
		if err := s.db(c.ctx).QueryRow(ctx, "SHOW synchronous_commit").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("synchronous_commit = %s for a context deferred=%v, want %s", got, store.SyncDeferred(c.ctx), c.want)
		}
	}
	lsn := func(fn string) uint64 {
		t.Helper()
		var text string
		if err := s.pool.QueryRow(ctx, "SELECT "+fn+"()::text").Scan(&text); err != nil {
			t.Fatal(err)
		}
		pos, err := parseLSN(text)
		if err != nil {
			t.Fatal(err)
		}
		return pos
	}
	start := time.Now().Add(-time.Minute)
	for i := range 20 {
		if err := s.Write(deferred, store.Batch{Spans: []genai.Span{llmSpan(i, 1, 0, start)}}); err != nil {
			t.Fatal(err)
		}
		committed := lsn("pg_current_wal_insert_lsn") // at or past the commit's record
		if d, err := s.Trace(ctx, "p", fmt.Sprintf("%032x", i)); err != nil || len(d.Spans) != 1 {
			t.Fatalf("trace %d right after its deferred write: %d spans, %v; want it visible", i, len(d.Spans), err)
		}
		if err := s.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if flushed := lsn("pg_current_wal_flush_lsn"); flushed < committed {
			t.Fatalf("after Sync the server has flushed its WAL to %X, short of the write's commit at %X", flushed, committed)
		}
	}
}

func TestParseLSN(t *testing.T) {
	for in, want := range map[string]uint64{"0/0": 0, "0/16B3748": 0x16B3748, "1A/FF000028": 0x1A<<32 | 0xFF000028} {
		if got, err := parseLSN(in); err != nil || got != want {
			t.Errorf("parseLSN(%q) = %X, %v; want %X", in, got, err, want)
		}
	}
	if _, err := parseLSN("not an lsn"); err == nil {
		t.Error("parseLSN accepted text that is no LSN")
	}
}
