package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/use-lumina/lumina/internal/replay"
)

// runForm is the configure-a-run form as typed.
type runForm struct {
	Mode, Provider, Model, System, Template, Temperature, MaxTokens, BaseURL string
	KeepSystem                                                               bool
}

// overrides parses the form into the run's overrides; the service validates the rest.
func (f runForm) overrides() (replay.Overrides, error) {
	o := replay.Overrides{Provider: f.Provider, Model: strings.TrimSpace(f.Model), PromptTemplate: f.Template,
		BaseURL: strings.TrimSpace(f.BaseURL)}
	if !f.KeepSystem {
		sys := f.System
		o.SystemPrompt = &sys
	}
	if v := strings.TrimSpace(f.Temperature); v != "" {
		t, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return o, badRequestf("temperature must be a number from 0 to 2, got %q", v)
		}
		o.Temperature = &t
	}
	if v := strings.TrimSpace(f.MaxTokens); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return o, badRequestf("max tokens must be a whole number above 0, got %q", v)
		}
		o.MaxTokens = &n
	}
	if err := o.Validate(); err != nil {
		return o, replayError(err)
	}
	return o, nil
}

// itemRow is one frozen call of a set.
type itemRow struct {
	replay.Item
	TraceURL string
	Cost     string
}

// runRow is one run of a set.
type runRow struct {
	replay.Run
	URL string
}

// replaySetData is a set's page: its items, its runs and the run form with its estimate.
type replaySetData struct {
	Set       replay.Set
	Items     []itemRow
	Runs      []runRow
	Form      runForm
	Estimate  *replay.Estimate
	Providers []string
	Created   bool
	Error     string
}

func (s *Server) replaySet(ctx context.Context, r *request) (view, error) {
	return s.replaySetView(ctx, r, runForm{Mode: replay.ModeSimulation, KeepSystem: true}, "")
}

func (s *Server) replaySetView(ctx context.Context, r *request, f runForm, problem string) (view, error) {
	if s.cfg.Replay == nil {
		return replayUnavailable(), nil
	}
	set, items, err := s.cfg.Replay.Set(ctx, r.Project, r.PathValue("id"))
	if err != nil {
		return view{}, err
	}
	runs, err := s.cfg.Replay.Runs(ctx, r.Project, set.ID)
	if err != nil {
		return view{}, err
	}
	d := replaySetData{Set: set, Form: f, Error: problem, Created: r.URL.Query().Get("created") != "",
		Providers: []string{replay.ProviderAnthropic, replay.ProviderOpenAI, replay.ProviderOpenAICompatible}}
	for _, it := range items {
		d.Items = append(d.Items, itemRow{Item: it, TraceURL: "/traces/" + url.PathEscape(it.TraceID) + "?span=" + url.QueryEscape(it.SpanID),
			Cost: fmtCost(it.Capture.CostUSD)})
	}
	for _, run := range runs {
		d.Runs = append(d.Runs, runRow{Run: run, URL: "/replay/runs/" + url.PathEscape(run.ID)})
	}
	// The estimate is for the form as it stands: shown before every start, live or not.
	if problem == "" {
		if o, err := f.overrides(); err == nil {
			e, err := s.cfg.Replay.Estimate(ctx, r.Project, replay.EstimateRequest{SetID: set.ID, Overrides: o})
			if msg, bad := isBadRequest(replayError(err)); bad {
				d.Error = msg
			} else if err != nil {
				return view{}, err
			} else {
				d.Estimate = &e
			}
		}
	}
	v := view{Page: "replay_set", Title: "Replay set · " + set.Name, Nav: "replay", Data: d}
	if problem != "" {
		v.Status = http.StatusBadRequest
	}
	return v, nil
}

// startReplayRun starts a run of the set (do=start) or re-renders the form with the estimate
// for its values (do=estimate).
func (s *Server) startReplayRun(ctx context.Context, r *request) (string, *view, error) {
	if s.cfg.Replay == nil {
		v := replayUnavailable()
		return "", &v, nil
	}
	p := r.PostFormValue
	f := runForm{Mode: p("mode"), Provider: p("provider"), Model: p("model"), System: p("system_prompt"),
		Template: p("prompt_template"), Temperature: p("temperature"), MaxTokens: p("max_tokens"), BaseURL: p("base_url"),
		KeepSystem: p("keep_system") == "on"}
	o, err := f.overrides()
	if err == nil && p("do") == "estimate" {
		v, err := s.replaySetView(ctx, r, f, "")
		if err != nil {
			return "", nil, err
		}
		return "", &v, nil
	}
	var run replay.RunView
	if err == nil {
		run, err = s.cfg.Replay.StartRun(ctx, r.Project, r.PathValue("id"), replay.StartRunRequest{Mode: f.Mode, Overrides: o})
		err = replayError(err)
	}
	if msg, ok := isBadRequest(err); ok {
		v, verr := s.replaySetView(ctx, r, f, msg)
		if verr != nil {
			return "", nil, verr
		}
		return "", &v, nil
	}
	if err != nil {
		return "", nil, err
	}
	return "/replay/runs/" + url.PathEscape(run.ID), nil, nil
}
