package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/use-lumina/lumina/internal/replay"
)

// resultRow is one item of a run's results table.
type resultRow struct {
	replay.Result
	URL      string
	TraceURL string
	Cost     metricCells
	Latency  metricCells
	Sim      string
	SimTitle string
}

// metricCells is an original → replay pair with its change, formatted.
type metricCells struct {
	Original, Replay, Delta string
	Worse, Better           bool
}

func costCells(m replay.Metric) metricCells {
	return cells(m, func(v float64) string { return fmtUSD(v) })
}

func latencyCells(m replay.Metric) metricCells {
	return cells(m, func(v float64) string { return trimFloat(v, 0) + "ms" })
}

func cells(m replay.Metric, f func(float64) string) metricCells {
	c := metricCells{Original: "—", Replay: "—"}
	if m.Original != nil {
		c.Original = f(*m.Original)
	}
	if m.Replay != nil {
		c.Replay = f(*m.Replay)
	}
	if m.DeltaPct != nil {
		p := *m.DeltaPct
		sign := ""
		if p > 0 {
			sign = "+"
		}
		c.Delta = sign + trimFloat(p, 1) + "%"
		c.Worse, c.Better = p > 0.05, p < -0.05
	}
	return c
}

func similarity(res *replay.Result) (string, string) {
	if res.Semantic.Score != nil {
		return trimFloat(*res.Semantic.Score, 1) + "%", "semantic (" + res.Semantic.Method + ")"
	}
	if res.HashSimilarity != nil {
		return trimFloat(*res.HashSimilarity, 1) + "%", "character similarity (" + res.HashMethod + "); semantic: " + res.Semantic.Note
	}
	return "—", ""
}

// progressData is the run's live part: the progress bar and counts, re-rendered by polling
// while the run is queued or running.
type progressData struct {
	Run     replay.RunView
	URL     string // the fragment's URL; empty when the run is over (polling stops)
	Percent float64
}

func newProgress(run replay.RunView) progressData {
	p := progressData{Run: run}
	if run.Status == replay.StatusQueued || run.Status == replay.StatusRunning {
		p.URL = "/replay/runs/" + url.PathEscape(run.ID) + "/progress"
	}
	if run.Progress.Total > 0 {
		p.Percent = round2(float64(run.Progress.Done) / float64(run.Progress.Total) * 100)
	}
	return p
}

// replayRunData is a run's page.
type replayRunData struct {
	Run      replay.RunView
	Set      replay.Set
	SetURL   string
	Progress progressData
	Rows     []resultRow
	Cost     metricCells
	Latency  metricCells
	AvgSim   string
	SimKind  string // which similarity AvgSim averages
	Open     bool   // queued or running: cancel is offered
}

func (s *Server) replayRun(ctx context.Context, r *request) (view, error) {
	if s.cfg.Replay == nil {
		return replayUnavailable(), nil
	}
	run, results, err := s.cfg.Replay.Results(ctx, r.Project, r.PathValue("id"))
	if err != nil {
		return view{}, err
	}
	set, _, err := s.cfg.Replay.Set(ctx, r.Project, run.SetID)
	if err != nil {
		return view{}, err
	}
	d := replayRunData{Run: run, Set: set, SetURL: "/replay/sets/" + url.PathEscape(set.ID), Progress: newProgress(run),
		Cost: costCells(run.Summary.Cost), Latency: latencyCells(run.Summary.LatencyMS),
		Open: run.Status == replay.StatusQueued || run.Status == replay.StatusRunning}
	switch {
	case run.Summary.AvgSemantic != nil:
		d.AvgSim, d.SimKind = trimFloat(*run.Summary.AvgSemantic, 1)+"%", "semantic, mean"
	case run.Summary.AvgHash != nil:
		d.AvgSim, d.SimKind = trimFloat(*run.Summary.AvgHash, 1)+"%", "character, mean"
	}
	for i := range results {
		res := &results[i]
		row := resultRow{Result: *res, URL: "/replay/runs/" + url.PathEscape(run.ID) + "/items/" + strconv.Itoa(res.Index),
			TraceURL: "/traces/" + url.PathEscape(res.TraceID) + "?span=" + url.QueryEscape(res.SpanID),
			Cost:     costCells(res.Cost), Latency: latencyCells(res.LatencyMS)}
		row.Sim, row.SimTitle = similarity(res)
		d.Rows = append(d.Rows, row)
	}
	return view{Page: "replay_run", Title: "Replay run " + run.ID, Nav: "replay", Data: d}, nil
}

// replayProgress renders the progress fragment the run page polls.
func (s *Server) replayProgress(w http.ResponseWriter, r *http.Request) {
	project, err := s.cfg.Project(r)
	if err != nil {
		http.Error(w, "sign in required", http.StatusUnauthorized)
		return
	}
	if s.cfg.Replay == nil {
		http.Error(w, "replay role not running in this process", http.StatusServiceUnavailable)
		return
	}
	run, err := s.cfg.Replay.RunView(r.Context(), project, r.PathValue("id"))
	if err != nil {
		v := s.errorView(r, err)
		http.Error(w, v.Title, v.Status)
		return
	}
	html, err := s.fragment("replay_progress", newProgress(run))
	if err != nil {
		s.log.Error("render replay progress", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(html))
}

func (s *Server) cancelReplayRun(ctx context.Context, r *request) (string, *view, error) {
	if s.cfg.Replay == nil {
		v := replayUnavailable()
		return "", &v, nil
	}
	run, err := s.cfg.Replay.Cancel(ctx, r.Project, r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	return "/replay/runs/" + url.PathEscape(run.ID), nil, nil
}

// replayItemData is the side-by-side page of one replayed item.
type replayItemData struct {
	Run     replay.RunView
	RunURL  string
	Res     replay.Result
	Cost    metricCells
	Latency metricCells
	In, Out metricCells
	Sim     string
	SimNote string
	PrevURL string
	NextURL string
}

func (s *Server) replayItem(ctx context.Context, r *request) (view, error) {
	if s.cfg.Replay == nil {
		return replayUnavailable(), nil
	}
	idx, err := strconv.Atoi(r.PathValue("index"))
	if err != nil || idx < 0 {
		return view{}, badRequestf("an item index is a whole number, got %q", r.PathValue("index"))
	}
	run, results, err := s.cfg.Replay.Results(ctx, r.Project, r.PathValue("id"))
	if err != nil {
		return view{}, err
	}
	pos := -1
	for i := range results {
		if results[i].Index == idx {
			pos = i
		}
	}
	if pos < 0 {
		return view{}, errNotFound
	}
	res := results[pos]
	base := "/replay/runs/" + url.PathEscape(run.ID)
	tok := func(v float64) string { return fmtInt(int64(v)) }
	d := replayItemData{Run: run, RunURL: base, Res: res, Cost: costCells(res.Cost), Latency: latencyCells(res.LatencyMS),
		In: cells(res.InputTokens, tok), Out: cells(res.OutputTokens, tok)}
	d.Sim, d.SimNote = similarity(&res)
	if pos > 0 {
		d.PrevURL = base + "/items/" + strconv.Itoa(results[pos-1].Index)
	}
	if pos < len(results)-1 {
		d.NextURL = base + "/items/" + strconv.Itoa(results[pos+1].Index)
	}
	return view{Page: "replay_item", Title: "Replay item " + strconv.Itoa(idx), Nav: "replay", Data: d}, nil
}
