package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/use-lumina/lumina/internal/replay"
	"github.com/use-lumina/lumina/internal/store"
)

func TestReplayDeleteSet(t *testing.T) {
	srv, svc := replayServer(t)
	ctx := context.Background()
	set, err := svc.CreateSet(ctx, "default", replay.CreateSetRequest{Name: "before the prompt change", SetSource: replay.SetSource{TraceIDs: []string{tid(2), tid(3)}}})
	if err != nil {
		t.Fatal(err)
	}
	keep, err := svc.CreateSet(ctx, "default", replay.CreateSetRequest{Name: "keep me", SetSource: replay.SetSource{TraceIDs: []string{tid(5)}}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := svc.StartRun(ctx, "default", set.ID, replay.StartRunRequest{Mode: replay.ModeSimulation})
	if err != nil {
		t.Fatal(err)
	}
	waitRun(t, svc, run.ID)

	// Both the studio's list and the set's page offer the confirmation, with no script needed.
	for _, path := range []string{"/replay", "/replay/sets/" + set.ID} {
		_, body := get(t, srv, path)
		if !strings.Contains(body, `<form method="post" action="/replay/sets/`+set.ID+`/delete" class="confirm-box">`) ||
			!strings.Contains(body, `<details class="confirm"><summary class="btn small danger" aria-label="Delete the replay set before the prompt change…">`) {
			t.Errorf("GET %s: no delete confirmation for the set", path)
		}
	}

	path := "/replay/sets/" + set.ID + "/delete"
	if res := postForm(t, srv, path, url.Values{}, true, ""); res.StatusCode != http.StatusForbidden {
		t.Errorf("delete without a token: got %d, want 403", res.StatusCode)
	}
	if res := postForm(t, srv, path, url.Values{"csrf_token": {fixedToken}}, true, "https://evil.example"); res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin delete: got %d, want 403", res.StatusCode)
	}
	if _, err := srv.store.ReplaySet(ctx, "default", set.ID); err != nil {
		t.Fatalf("a refused delete removed the set: %v", err)
	}

	res, _ := post(t, srv, path, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/replay?deleted=before+the+prompt+change" {
		t.Fatalf("delete: got %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, err := srv.store.ReplaySet(ctx, "default", set.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the set after delete: got err %v, want not found", err)
	}
	if _, err := srv.store.ReplayRun(ctx, "default", run.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the set's run after delete: got err %v, want not found", err)
	}
	if results, err := srv.store.ReplayResults(ctx, "default", run.ID); err != nil || len(results) != 0 {
		t.Errorf("the run's results after delete: got %d (err %v), want none", len(results), err)
	}
	if _, err := srv.store.ReplaySet(ctx, "default", keep.ID); err != nil {
		t.Errorf("the other set: %v, want it kept", err)
	}
	_, body := get(t, srv, "/replay?deleted=before+the+prompt+change")
	if !strings.Contains(body, "Deleted the replay set before the prompt change with its runs and their results.") ||
		strings.Contains(body, `data-set-id="`+set.ID+`"`) || !strings.Contains(body, `data-set-id="`+keep.ID+`"`) {
		t.Error("the studio still lists the deleted set, lost the other one, or lacks the flash")
	}
	if res, _ := get(t, srv, "/replay/sets/"+set.ID); res.StatusCode != 404 {
		t.Errorf("the deleted set's page: got %d, want 404", res.StatusCode)
	}
	if res, _ := get(t, srv, "/replay/runs/"+run.ID); res.StatusCode != 404 {
		t.Errorf("the deleted set's run page: got %d, want 404", res.StatusCode)
	}
	if res, _ := post(t, srv, path, nil); res.StatusCode != 404 {
		t.Errorf("delete twice: got %d, want 404", res.StatusCode)
	}

	// Another project cannot delete it: the set is not found in the caller's project.
	other, err := svc.CreateSet(ctx, "someone-else", replay.CreateSetRequest{Name: "theirs", SetSource: replay.SetSource{TraceIDs: []string{tid(40)}}})
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := post(t, srv, "/replay/sets/"+other.ID+"/delete", nil); res.StatusCode != 404 {
		t.Errorf("delete another project's set: got %d, want 404", res.StatusCode)
	}
	if _, err := srv.store.ReplaySet(ctx, "someone-else", other.ID); err != nil {
		t.Errorf("the other project's set: %v, want it kept", err)
	}

	plain := seededServer(t)
	if res, body := post(t, plain, path, nil); res.StatusCode != 503 || !strings.Contains(body, "Replay role not running") {
		t.Errorf("delete without a replay service: got %d, want 503", res.StatusCode)
	}
}
