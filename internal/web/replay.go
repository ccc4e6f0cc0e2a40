package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/use-lumina/lumina/internal/replay"
	"github.com/use-lumina/lumina/internal/store"
)

// Replay is what Replay Studio uses of the replay service (*replay.Service implements it).
// It lives in the replay role: cmd/lumina passes it only when that role runs in this process.
type Replay interface {
	CreateSet(ctx context.Context, project string, req replay.CreateSetRequest) (replay.Set, error)
	Sets(ctx context.Context, project string) ([]replay.Set, error)
	Set(ctx context.Context, project, id string) (replay.Set, []replay.Item, error)
	Runs(ctx context.Context, project, setID string) ([]replay.Run, error)
	StartRun(ctx context.Context, project, setID string, req replay.StartRunRequest) (replay.RunView, error)
	RunView(ctx context.Context, project, id string) (replay.RunView, error)
	Cancel(ctx context.Context, project, id string) (replay.RunView, error)
	Results(ctx context.Context, project, id string) (replay.RunView, []replay.Result, error)
	Estimate(ctx context.Context, project string, req replay.EstimateRequest) (replay.Estimate, error)
	// DeleteSet removes a set with its runs and their results, canceling its runs first.
	DeleteSet(ctx context.Context, project, id string) error
}

// replayUnavailable is the studio's page when this process has no replay service.
func replayUnavailable() view {
	return view{Page: "replay", Title: "Replay Studio", Nav: "replay", Status: http.StatusServiceUnavailable,
		Data: replaySetsData{Unavailable: true}}
}

// replayError turns the replay service's input errors into bad requests, whose message is
// shown; the rest (not found, storage) is errorView's.
func replayError(err error) error {
	if errors.Is(err, replay.ErrInvalid) || errors.Is(err, replay.ErrMissingKey) {
		return &badRequest{msg: err.Error()}
	}
	return err
}

// replaySetsData is the studio's first page: the sets and the create-from-filter form.
type replaySetsData struct {
	Unavailable bool
	Sets        []replay.Set
	Form        setForm
	Ranges      []struct{ Key, Label string }
	Error       string
	Flash       string
}

// setForm is the create-a-set form as typed.
type setForm struct {
	Name, Service, Model, Tag, Range, Limit string
}

func (s *Server) replaySets(ctx context.Context, r *request) (view, error) {
	return s.replaySetsView(ctx, r, setForm{Limit: "50", Range: "24h"}, "")
}

func (s *Server) replaySetsView(ctx context.Context, r *request, f setForm, problem string) (view, error) {
	if s.cfg.Replay == nil {
		return replayUnavailable(), nil
	}
	sets, err := s.cfg.Replay.Sets(ctx, r.Project)
	if err != nil {
		return view{}, err
	}
	d := replaySetsData{Sets: sets, Form: f, Ranges: timeRanges, Error: problem}
	if name := r.URL.Query().Get("deleted"); name != "" {
		d.Flash = "Deleted the replay set " + name + " with its runs and their results."
	}
	v := view{Page: "replay", Title: "Replay Studio", Nav: "replay", Data: d}
	if problem != "" {
		v.Status = http.StatusBadRequest
	}
	return v, nil
}

// createReplaySet makes a set from the traces picked on the trace list (trace_id, repeated)
// or from a filter (source=filter).
func (s *Server) createReplaySet(ctx context.Context, r *request) (string, *view, error) {
	if s.cfg.Replay == nil {
		v := replayUnavailable()
		return "", &v, nil
	}
	f := setForm{Name: strings.TrimSpace(r.PostFormValue("name")), Service: strings.TrimSpace(r.PostFormValue("service")),
		Model: strings.TrimSpace(r.PostFormValue("model")), Tag: strings.TrimSpace(r.PostFormValue("tag")),
		Range: r.PostFormValue("range"), Limit: strings.TrimSpace(r.PostFormValue("limit"))}
	req := replay.CreateSetRequest{Name: f.Name}
	err := func() error {
		if r.PostFormValue("source") != "filter" {
			ids := r.PostForm["trace_id"]
			if len(ids) == 0 {
				return badRequestf("pick at least one trace (the checkboxes on the trace list), or create the set from a filter")
			}
			for _, id := range ids {
				if !validTraceID(id) {
					return badRequestf("%q is not a trace id", id)
				}
			}
			req.TraceIDs = ids
			return nil
		}
		flt := &replay.Filter{Service: f.Service, Model: f.Model, Tag: f.Tag}
		if f.Range != "" {
			d, ok := rangeDuration(f.Range)
			if !ok {
				return badRequestf("time must be 15m, 1h, 24h or 7d, got %q", f.Range)
			}
			flt.Since = r.Now.Add(-d)
		}
		if f.Limit != "" {
			var n int
			if _, err := fmt.Sscan(f.Limit, &n); err != nil || n < 1 || n > 1000 {
				return badRequestf("traces must be a number from 1 to 1000, got %q", f.Limit)
			}
			flt.Limit = n
		}
		req.Filter = flt
		return nil
	}()
	var set replay.Set
	if err == nil {
		set, err = s.cfg.Replay.CreateSet(ctx, r.Project, req)
		err = replayError(err)
		if errors.Is(err, store.ErrNotFound) {
			// A picked trace that is gone (retention) or not this project's: say which.
			err = badRequestf("%v", err)
		}
	}
	if msg, ok := isBadRequest(err); ok {
		v, verr := s.replaySetsView(ctx, r, f, msg)
		if verr != nil {
			return "", nil, verr
		}
		return "", &v, nil
	}
	if err != nil {
		return "", nil, err
	}
	return "/replay/sets/" + url.PathEscape(set.ID) + "?created=1", nil, nil
}

// deleteReplaySet removes a set with its runs and their results (store.ReplayStore's
// contract); runs of it still executing are canceled first.
func (s *Server) deleteReplaySet(ctx context.Context, r *request) (string, *view, error) {
	if s.cfg.Replay == nil {
		v := replayUnavailable()
		return "", &v, nil
	}
	set, _, err := s.cfg.Replay.Set(ctx, r.Project, r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	if err := s.cfg.Replay.DeleteSet(ctx, r.Project, set.ID); err != nil {
		return "", nil, err
	}
	return "/replay?deleted=" + url.QueryEscape(set.Name), nil, nil
}
