package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// runReplayTests pins down store.ReplayStore: sets replace their items, listings order
// newest first, runs and results need their parents, deleting a set removes its runs and
// results, statuses select runs across projects, and every call is scoped to its project.
func runReplayTests(t *testing.T, open Opener) {
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"ReplaySets", testReplaySets},
		{"ReplayRuns", testReplayRuns},
		{"ReplayDeleteCascades", testReplayDeleteCascades},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var replayT0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

func replaySet(p, id string, at time.Duration) store.ReplaySet {
	return store.ReplaySet{ProjectID: p, ID: id, CreatedAt: replayT0.Add(at), Doc: []byte(`{"name":"` + id + `"}`)}
}

func replayItems(p, set string, n int) []store.ReplayItem {
	items := make([]store.ReplayItem, n)
	for i := range items {
		items[i] = store.ReplayItem{ProjectID: p, SetID: set, Index: i, Doc: fmt.Appendf(nil, `{"i":%d,"text":"héllo \u0000 %d"}`, i, i)}
	}
	return items
}

func testReplaySets(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, set := range []store.ReplaySet{replaySet("p1", "a", 0), replaySet("p1", "b", time.Minute), replaySet("p2", "c", 0)} {
		if err := s.PutReplaySet(ctx, set, replayItems(set.ProjectID, set.ID, 3)); err != nil {
			t.Fatalf("PutReplaySet %s: %v", set.ID, err)
		}
	}
	got, err := s.ReplaySet(ctx, "p1", "a")
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(replayT0) || got.CreatedAt.Location() != time.UTC || string(got.Doc) != `{"name":"a"}` {
		t.Errorf("got set %+v, want created %s and its document", got, replayT0)
	}
	if _, err := s.ReplaySet(ctx, "p2", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("set of another project: got %v, want ErrNotFound", err)
	}
	sets, err := s.ReplaySets(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 2 || sets[0].ID != "b" || sets[1].ID != "a" {
		t.Errorf("got sets %v, want b then a (newest first)", sets)
	}
	items, err := s.ReplayItems(ctx, "p1", "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[2].Index != 2 || string(items[2].Doc) != string(replayItems("p1", "a", 3)[2].Doc) {
		t.Errorf("got items %+v, want 3 in order with their documents", items)
	}
	// Putting the set again replaces its items.
	if err := s.PutReplaySet(ctx, replaySet("p1", "a", 0), replayItems("p1", "a", 1)); err != nil {
		t.Fatal(err)
	}
	if items, err = s.ReplayItems(ctx, "p1", "a"); err != nil || len(items) != 1 {
		t.Errorf("after replacing: got %d items (%v), want 1", len(items), err)
	}
	if _, err := s.ReplayItems(ctx, "p2", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("items of a missing set: got %v, want ErrNotFound", err)
	}
}

func replayRun(p, id, set, status string, at time.Duration) store.ReplayRun {
	return store.ReplayRun{ProjectID: p, ID: id, SetID: set, Status: status, CreatedAt: replayT0.Add(at), Doc: []byte(`{"run":"` + id + `"}`)}
}

func testReplayRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, set := range []store.ReplaySet{replaySet("p1", "a", 0), replaySet("p1", "b", 0), replaySet("p2", "a", 0)} {
		if err := s.PutReplaySet(ctx, set, replayItems(set.ProjectID, set.ID, 2)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutReplayRun(ctx, replayRun("p1", "r0", "missing", "queued", 0)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("run of a missing set: got %v, want ErrNotFound", err)
	}
	for _, r := range []store.ReplayRun{
		replayRun("p1", "r1", "a", "running", 2*time.Second),
		replayRun("p1", "r2", "a", "completed", 3*time.Second),
		replayRun("p1", "r3", "b", "queued", 1*time.Second),
		replayRun("p2", "r4", "a", "running", 0),
	} {
		if err := s.PutReplayRun(ctx, r); err != nil {
			t.Fatalf("PutReplayRun %s: %v", r.ID, err)
		}
	}
	// A put replaces the status and the document.
	r1 := replayRun("p1", "r1", "a", "running", 2*time.Second)
	r1.Doc = []byte(`{"run":"r1","progress":1}`)
	if err := s.PutReplayRun(ctx, r1); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReplayRun(ctx, "p1", "r1")
	if err != nil {
		t.Fatal(err)
	}
	if got.SetID != "a" || got.Status != "running" || string(got.Doc) != string(r1.Doc) || !got.CreatedAt.Equal(r1.CreatedAt) {
		t.Errorf("got run %+v, want %+v", got, r1)
	}
	if _, err := s.ReplayRun(ctx, "p2", "r1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("run of another project: got %v, want ErrNotFound", err)
	}
	ids := func(runs []store.ReplayRun) (out []string) {
		for _, r := range runs {
			out = append(out, r.ProjectID+"/"+r.ID)
		}
		return out
	}
	all, err := s.ReplayRuns(ctx, "p1", "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(ids(all)), "[p1/r2 p1/r1 p1/r3]"; got != want {
		t.Errorf("runs of p1: got %s, want %s", got, want)
	}
	ofA, err := s.ReplayRuns(ctx, "p1", "a")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(ids(ofA)), "[p1/r2 p1/r1]"; got != want {
		t.Errorf("runs of set a: got %s, want %s", got, want)
	}
	active, err := s.ReplayRunsByStatus(ctx, "queued", "running")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(ids(active)), "[p2/r4 p1/r3 p1/r1]"; got != want {
		t.Errorf("active runs: got %s, want %s (oldest first, every project)", got, want)
	}

	if err := s.PutReplayResult(ctx, store.ReplayResult{ProjectID: "p1", RunID: "nope", Index: 0, Doc: []byte(`{}`)}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("result of a missing run: got %v, want ErrNotFound", err)
	}
	for _, i := range []int{1, 0, 1} {
		if err := s.PutReplayResult(ctx, store.ReplayResult{ProjectID: "p1", RunID: "r1", Index: i, Doc: fmt.Appendf(nil, `{"i":%d}`, i)}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.ReplayResults(ctx, "p1", "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Index != 0 || res[1].Index != 1 || string(res[1].Doc) != `{"i":1}` {
		t.Errorf("got results %+v, want items 0 and 1 once each", res)
	}
	if res, err := s.ReplayResults(ctx, "p2", "r1"); err != nil || len(res) != 0 {
		t.Errorf("results of another project: got %d (%v), want none", len(res), err)
	}
}

func testReplayDeleteCascades(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, set := range []store.ReplaySet{replaySet("p1", "a", 0), replaySet("p1", "b", 0)} {
		if err := s.PutReplaySet(ctx, set, replayItems("p1", set.ID, 2)); err != nil {
			t.Fatal(err)
		}
		id := "run-" + set.ID
		if err := s.PutReplayRun(ctx, replayRun("p1", id, set.ID, "running", 0)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutReplayResult(ctx, store.ReplayResult{ProjectID: "p1", RunID: id, Index: 0, Doc: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteReplaySet(ctx, "p2", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete in another project: got %v, want ErrNotFound", err)
	}
	if err := s.DeleteReplaySet(ctx, "p1", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplaySet(ctx, "p1", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted set: got %v, want ErrNotFound", err)
	}
	if _, err := s.ReplayRun(ctx, "p1", "run-a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("run of a deleted set: got %v, want ErrNotFound", err)
	}
	if res, err := s.ReplayResults(ctx, "p1", "run-a"); err != nil || len(res) != 0 {
		t.Errorf("results of a deleted set's run: got %d (%v), want none", len(res), err)
	}
	if res, err := s.ReplayResults(ctx, "p1", "run-b"); err != nil || len(res) != 1 {
		t.Errorf("results of the other set's run: got %d (%v), want 1", len(res), err)
	}
	if err := s.DeleteReplaySet(ctx, "p1", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: got %v, want ErrNotFound", err)
	}
}
