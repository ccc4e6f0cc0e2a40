package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/use-lumina/lumina/internal/replay"
)

// maxReplayBody bounds a replay request body.
const maxReplayBody = 1 << 20

// Replay is what the replay routes use; *replay.Service implements it.
type Replay interface {
	CreateSet(ctx context.Context, project string, req replay.CreateSetRequest) (replay.Set, error)
	Sets(ctx context.Context, project string) ([]replay.Set, error)
	Set(ctx context.Context, project, id string) (replay.Set, []replay.Item, error)
	DeleteSet(ctx context.Context, project, id string) error
	Runs(ctx context.Context, project, setID string) ([]replay.Run, error)
	StartRun(ctx context.Context, project, setID string, req replay.StartRunRequest) (replay.RunView, error)
	RunView(ctx context.Context, project, id string) (replay.RunView, error)
	Cancel(ctx context.Context, project, id string) (replay.RunView, error)
	Results(ctx context.Context, project, id string) (replay.RunView, []replay.Result, error)
	Estimate(ctx context.Context, project string, req replay.EstimateRequest) (replay.Estimate, error)
}

// RegisterReplay adds the replay routes (the replay role, :8082) to mux. Every response
// about a run says whether it is a simulation ("simulation": true, with a notice).
func (s *Server) RegisterReplay(mux *http.ServeMux, rp Replay) {
	h := &replayRoutes{rp: rp}
	mux.HandleFunc("POST /api/v1/replay/sets", s.handle(replayErrors(h.createSet)))
	mux.HandleFunc("GET /api/v1/replay/sets", s.handle(replayErrors(h.listSets)))
	mux.HandleFunc("GET /api/v1/replay/sets/{id}", s.handle(replayErrors(h.getSet)))
	mux.HandleFunc("DELETE /api/v1/replay/sets/{id}", s.handle(replayErrors(h.deleteSet)))
	mux.HandleFunc("POST /api/v1/replay/sets/{id}/runs", s.handle(replayErrors(h.startRun)))
	mux.HandleFunc("GET /api/v1/replay/sets/{id}/runs", s.handle(replayErrors(h.listRuns)))
	mux.HandleFunc("GET /api/v1/replay/runs/{id}", s.handle(replayErrors(h.getRun)))
	mux.HandleFunc("POST /api/v1/replay/runs/{id}/cancel", s.handle(replayErrors(h.cancel)))
	mux.HandleFunc("GET /api/v1/replay/runs/{id}/results", s.handle(replayErrors(h.results)))
	mux.HandleFunc("POST /api/v1/replay/estimate", s.handle(replayErrors(h.estimate)))
	mux.HandleFunc("/api/", s.handle(func(context.Context, string, *http.Request) (any, error) {
		return nil, errorf(http.StatusNotFound, "not_found", "no such API route")
	}))
}

type replayRoutes struct{ rp Replay }

// replayErrors maps replay's errors onto API errors: a missing key is a 400 naming the
// variable, invalid input a 400; the rest is handle's.
func replayErrors(h handlerFunc) handlerFunc {
	return func(ctx context.Context, project string, r *http.Request) (any, error) {
		v, err := h(ctx, project, r)
		switch {
		case err == nil:
			return v, nil
		case errors.Is(err, replay.ErrMissingKey):
			return nil, errorf(http.StatusBadRequest, "missing_api_key", err.Error())
		case errors.Is(err, replay.ErrInvalid):
			return nil, errorf(http.StatusBadRequest, "invalid_request", err.Error())
		}
		return nil, err
	}
}

func decodeReplayBody(r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxReplayBody))
	if err != nil {
		return errorf(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body over %d bytes", maxReplayBody))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "invalid_json", "request body: "+err.Error())
	}
	return nil
}

type setList struct {
	Sets []replay.Set `json:"sets"`
}

type setDetail struct {
	replay.Set
	Items []replay.Item `json:"items"`
	Runs  []replay.Run  `json:"runs"`
}

type runResults struct {
	Run     replay.RunView  `json:"run"`
	Results []replay.Result `json:"results"`
	// Simulation and Notice repeat the run's label at the top level, so no reader of a
	// simulated result can miss it.
	Simulation bool   `json:"simulation"`
	Notice     string `json:"notice,omitempty"`
}

func (h *replayRoutes) createSet(ctx context.Context, project string, r *http.Request) (any, error) {
	var req replay.CreateSetRequest
	if err := decodeReplayBody(r, &req); err != nil {
		return nil, err
	}
	return h.rp.CreateSet(ctx, project, req)
}

func (h *replayRoutes) listSets(ctx context.Context, project string, _ *http.Request) (any, error) {
	sets, err := h.rp.Sets(ctx, project)
	if err != nil {
		return nil, err
	}
	return setList{Sets: nonNil(sets)}, nil
}

func (h *replayRoutes) getSet(ctx context.Context, project string, r *http.Request) (any, error) {
	set, items, err := h.rp.Set(ctx, project, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	runs, err := h.rp.Runs(ctx, project, set.ID)
	if err != nil {
		return nil, err
	}
	return setDetail{Set: set, Items: nonNil(items), Runs: nonNil(runs)}, nil
}

func (h *replayRoutes) deleteSet(ctx context.Context, project string, r *http.Request) (any, error) {
	if err := h.rp.DeleteSet(ctx, project, r.PathValue("id")); err != nil {
		return nil, err
	}
	return map[string]any{"deleted": r.PathValue("id")}, nil
}

func (h *replayRoutes) listRuns(ctx context.Context, project string, r *http.Request) (any, error) {
	if _, _, err := h.rp.Set(ctx, project, r.PathValue("id")); err != nil {
		return nil, err
	}
	runs, err := h.rp.Runs(ctx, project, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"runs": nonNil(runs)}, nil
}

func (h *replayRoutes) startRun(ctx context.Context, project string, r *http.Request) (any, error) {
	var req replay.StartRunRequest
	if err := decodeReplayBody(r, &req); err != nil {
		return nil, err
	}
	return h.rp.StartRun(ctx, project, r.PathValue("id"), req)
}

func (h *replayRoutes) getRun(ctx context.Context, project string, r *http.Request) (any, error) {
	return h.rp.RunView(ctx, project, r.PathValue("id"))
}

func (h *replayRoutes) cancel(ctx context.Context, project string, r *http.Request) (any, error) {
	return h.rp.Cancel(ctx, project, r.PathValue("id"))
}

func (h *replayRoutes) results(ctx context.Context, project string, r *http.Request) (any, error) {
	run, results, err := h.rp.Results(ctx, project, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return runResults{Run: run, Results: nonNil(results), Simulation: run.Simulation, Notice: run.Notice}, nil
}

func (h *replayRoutes) estimate(ctx context.Context, project string, r *http.Request) (any, error) {
	var req replay.EstimateRequest
	if err := decodeReplayBody(r, &req); err != nil {
		return nil, err
	}
	if req.SetID == "" {
		return nil, errorf(http.StatusBadRequest, "invalid_request", "set_id is required")
	}
	return h.rp.Estimate(ctx, project, req)
}
