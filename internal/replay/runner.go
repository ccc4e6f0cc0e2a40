package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// StartRunRequest is what POST /api/v1/replay/sets/{id}/runs takes.
type StartRunRequest struct {
	Mode       string     `json:"mode"` // ModeLive or ModeSimulation; required
	Overrides  Overrides  `json:"overrides"`
	Thresholds Thresholds `json:"thresholds"`
	// Seed makes a simulation reproducible; 0 picks one (stored with the run).
	Seed uint64 `json:"seed,omitempty"`
}

// StartRun validates the request, refuses a live run whose provider key is missing (the
// error wraps ErrMissingKey and names the variable), stores the run as queued and wakes
// Run to execute it.
func (s *Service) StartRun(ctx context.Context, project, setID string, req StartRunRequest) (RunView, error) {
	if req.Mode != ModeLive && req.Mode != ModeSimulation {
		return RunView{}, fmt.Errorf("mode %q: want %q or %q (simulation never calls a provider): %w", req.Mode, ModeLive, ModeSimulation, ErrInvalid)
	}
	if err := req.Overrides.Validate(); err != nil {
		return RunView{}, err
	}
	items, err := s.items(ctx, project, setID)
	if err != nil {
		return RunView{}, err
	}
	if req.Mode == ModeLive {
		if err := s.checkProviders(req.Overrides, items); err != nil {
			return RunView{}, err
		}
	}
	run := Run{ID: newID("run_"), ProjectID: project, SetID: setID, Mode: req.Mode, Simulation: req.Mode == ModeSimulation,
		Overrides: req.Overrides, Thresholds: req.Thresholds.withDefaults(), Seed: req.Seed, Status: StatusQueued,
		Items: len(items), CreatedAt: s.cfg.Now().UTC()}
	if run.Simulation {
		run.Notice = SimulationNotice
	}
	if run.Seed == 0 {
		run.Seed = rand.Uint64()
	}
	if err := s.putRun(ctx, &run); err != nil {
		return RunView{}, err
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return s.RunView(ctx, project, run.ID)
}

// checkProviders resolves the client of every provider the run will call, so a missing
// key or an item no client can replay is reported before anything is spent.
func (s *Service) checkProviders(o Overrides, items []Item) error {
	if s.cfg.Providers == nil {
		return fmt.Errorf("live replay is not configured in this process: %w", ErrMissingKey)
	}
	seen := map[string]bool{}
	for i := range items {
		c := &items[i].Capture
		if !c.Replayable {
			continue
		}
		provider, _ := o.target(c)
		if provider == "" {
			return fmt.Errorf("item %d was captured from provider %q, which no replay client speaks: set the provider override: %w", i, c.Provider, ErrInvalid)
		}
		if seen[provider] {
			continue
		}
		seen[provider] = true
		if _, err := s.cfg.Providers.Provider(provider, o.BaseURL); err != nil {
			return fmt.Errorf("live replay with %s: %w", provider, err)
		}
	}
	return nil
}

// Run executes runs until ctx ends: first the ones a previous process left queued or
// running, then each new one StartRun queues. It returns once every run it started has
// stopped; an interrupted run stays running in the store and is resumed next time.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	launch := func(statuses ...string) {
		recs, err := s.cfg.Store.ReplayRunsByStatus(ctx, statuses...)
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Logger.Error("list replay runs to execute", "err", err)
			}
			return
		}
		for _, rec := range recs {
			run, err := decodeRun(rec)
			if err != nil {
				s.cfg.Logger.Error("decode replay run", "run", rec.ID, "err", err)
				continue
			}
			key := runKey(run.ProjectID, run.ID)
			rctx, cancel := context.WithCancelCause(ctx)
			s.mu.Lock()
			if _, busy := s.active[key]; busy {
				s.mu.Unlock()
				cancel(nil)
				continue
			}
			s.active[key] = cancel
			s.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					s.mu.Lock()
					delete(s.active, key)
					s.mu.Unlock()
					cancel(nil)
				}()
				s.execute(rctx, run)
			}()
		}
	}
	launch(StatusQueued, StatusRunning)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
			launch(StatusQueued)
		}
	}
}

// execute runs the items of run that have no result yet.
func (s *Service) execute(ctx context.Context, run Run) {
	log := s.cfg.Logger.With("run", run.ID, "set", run.SetID)
	// A Cancel between the listing that launched the run and now must win.
	s.mu.Lock()
	rec, err := s.cfg.Store.ReplayRun(ctx, run.ProjectID, run.ID)
	s.mu.Unlock()
	if err != nil || (rec.Status != StatusQueued && rec.Status != StatusRunning) {
		return
	}
	if run.Status == StatusRunning {
		run.Resumed++
	}
	now := s.cfg.Now().UTC()
	if run.StartedAt == nil {
		run.StartedAt = &now
	}
	run.Status = StatusRunning
	s.mu.Lock()
	err = s.putRun(ctx, &run)
	s.mu.Unlock()
	if err != nil {
		log.Error("start replay run", "err", err)
		return
	}
	items, err := s.items(ctx, run.ProjectID, run.SetID)
	if err != nil {
		s.finish(ctx, &run, err)
		return
	}
	done, err := s.cfg.Store.ReplayResults(ctx, run.ProjectID, run.ID)
	if err != nil {
		s.finish(ctx, &run, err)
		return
	}
	have := map[int]bool{}
	for _, r := range done {
		have[r.Index] = true
	}
	var wg sync.WaitGroup
	var failed error
	var failMu sync.Mutex
	for i := range items {
		if have[items[i].Index] {
			continue
		}
		if s.canceledElsewhere(ctx, &run) {
			break
		}
		acquired := false
		select {
		case s.sem <- struct{}{}:
			acquired = true
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			if acquired {
				<-s.sem
			}
			break
		}
		wg.Add(1)
		go func(it *Item) {
			defer wg.Done()
			defer func() { <-s.sem }()
			res, ok := s.replayItem(ctx, &run, it)
			if !ok {
				return // interrupted: the item is replayed when the run resumes
			}
			if err := s.putResult(ctx, &run, res); err != nil && ctx.Err() == nil {
				failMu.Lock()
				failed = errors.Join(failed, err)
				failMu.Unlock()
			}
		}(&items[i])
	}
	wg.Wait()
	s.finish(ctx, &run, failed)
}

// canceledElsewhere reports whether the stored run was canceled, by another process
// serving the API; the run then stops starting items.
func (s *Service) canceledElsewhere(ctx context.Context, run *Run) bool {
	rec, err := s.cfg.Store.ReplayRun(ctx, run.ProjectID, run.ID)
	return err == nil && rec.Status == StatusCanceled
}

// finish records how a run ended: canceled (Cancel already stored it), interrupted by
// shutdown (left running, to resume), failed, or completed.
func (s *Service) finish(ctx context.Context, run *Run, err error) {
	if errors.Is(context.Cause(ctx), errCanceled) {
		return
	}
	if ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// A Cancel from another process wins over completion.
	if rec, rerr := s.cfg.Store.ReplayRun(ctx, run.ProjectID, run.ID); rerr == nil && rec.Status == StatusCanceled {
		return
	}
	now := s.cfg.Now().UTC()
	run.FinishedAt = &now
	run.Status = StatusCompleted
	if err != nil {
		run.Status, run.Error = StatusFailed, err.Error()
	}
	if perr := s.putRun(ctx, run); perr != nil {
		s.cfg.Logger.Error("finish replay run", "run", run.ID, "err", perr)
	}
}

func (s *Service) putResult(ctx context.Context, run *Run, res Result) error {
	doc, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode result %d: %w", res.Index, err)
	}
	return s.cfg.Store.PutReplayResult(ctx, store.ReplayResult{ProjectID: run.ProjectID, RunID: run.ID, Index: res.Index, Doc: doc})
}

// replayItem replays one item and compares it. ok is false when the run was interrupted
// or canceled before the item finished.
func (s *Service) replayItem(ctx context.Context, run *Run, it *Item) (Result, bool) {
	c := &it.Capture
	res := Result{Index: it.Index, TraceID: it.TraceID, SpanID: it.SpanID, Simulation: run.Simulation,
		OriginalProvider: c.Provider, OriginalModel: c.Model, OriginalResponse: c.Response}
	if !c.Replayable {
		res.Status, res.Reason, res.FinishedAt = ItemSkipped, c.Reason, s.cfg.Now().UTC()
		return res, true
	}
	provider, model := run.Overrides.target(c)
	res.ReplayProvider, res.ReplayModel = provider, model
	req := run.Overrides.request(c)
	res.Prompt = PromptChange{OriginalSystem: originalSystem(c), ReplaySystem: req.System,
		OriginalPrompt: lastUser(c.Messages), ReplayPrompt: lastUser(req.Messages)}
	if run.Overrides.SystemPrompt == nil {
		res.Prompt.ReplaySystem = res.Prompt.OriginalSystem
	}
	res.Prompt.Changed = res.Prompt.OriginalSystem != res.Prompt.ReplaySystem || res.Prompt.OriginalPrompt != res.Prompt.ReplayPrompt

	var resp Response
	if run.Simulation {
		resp = simulate(run.Seed, it, req)
		res.ReplayProvider = provider + " (simulated)"
	} else {
		var err error
		resp, err = s.call(ctx, provider, run.Overrides.BaseURL, req)
		if ctx.Err() != nil {
			return res, false
		}
		if err != nil {
			res.Status, res.Error, res.FinishedAt = ItemError, err.Error(), s.cfg.Now().UTC()
			res.Attempts = attemptsOf(err)
			return res, true
		}
	}
	res.Status, res.Attempts, res.Dropped = ItemOK, resp.Attempts, resp.Dropped
	if resp.Model != "" && !run.Simulation {
		res.ReplayModel = resp.Model
	}
	res.ReplayResponse = resp.Text
	s.compare(ctx, run, c, &res, resp, provider, model)
	res.FinishedAt = s.cfg.Now().UTC()
	return res, ctx.Err() == nil
}

// attemptError carries how many attempts an item took before failing.
type attemptError struct {
	n   int
	err error
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

func attemptsOf(err error) int {
	var ae *attemptError
	if errors.As(err, &ae) {
		return ae.n
	}
	return 1
}

// call sends req within the item timeout, retrying temporary failures with backoff.
func (s *Service) call(ctx context.Context, provider, baseURL string, req Request) (Response, error) {
	client, err := s.cfg.Providers.Provider(provider, baseURL)
	if err != nil {
		return Response{}, err
	}
	ictx, cancel := context.WithTimeout(ctx, s.cfg.ItemTimeout)
	defer cancel()
	delay := s.cfg.RetryDelay
	for n := 1; ; n++ {
		resp, err := client.Chat(ictx, req)
		if err == nil {
			resp.Attempts = max(resp.Attempts, 1) + (n - 1)
			return resp, nil
		}
		if n >= s.cfg.MaxAttempts || !temporary(err) || ictx.Err() != nil {
			return Response{}, &attemptError{n: n, err: err}
		}
		t := time.NewTimer(delay)
		select {
		case <-ictx.Done():
			t.Stop()
			return Response{}, &attemptError{n: n, err: err}
		case <-t.C:
		}
		delay *= 2
	}
}

// compare fills the metrics, similarities and verdict of an answered item.
func (s *Service) compare(ctx context.Context, run *Run, c *Capture, res *Result, resp Response, provider, model string) {
	replayCost := s.price(ctx, run.ProjectID, provider, model, resp.Usage)
	res.Cost = newMetric(c.CostUSD, replayCost)
	res.LatencyMS = newMetric(f64(c.LatencyMS), f64(float64(resp.Latency)/float64(time.Millisecond)))
	res.InputTokens = newMetric(f64(float64(c.Usage.InputTokens)), f64(float64(resp.Usage.InputTokens)))
	res.OutputTokens = newMetric(f64(float64(c.Usage.OutputTokens)), f64(float64(resp.Usage.OutputTokens)))
	res.Diff = WordDiff(c.Response, resp.Text)
	score, method := s.cfg.Hash(c.Response, resp.Text)
	res.HashSimilarity, res.HashMethod = f64(score*100), method
	switch {
	case run.Simulation:
		res.Semantic = Semantic{Method: "semantic:not_computed", Note: "simulation: no embeddings or judge provider is called"}
	case s.cfg.Semantic == nil:
		res.Semantic = Semantic{Method: "semantic:not_configured", Note: "no embeddings provider configured: set OPENAI_API_KEY"}
	default:
		sc, m, note := s.cfg.Semantic(ctx, c.Response, resp.Text)
		res.Semantic = Semantic{Method: m, Note: note}
		if sc != nil {
			res.Semantic.Score = f64(*sc * 100)
		}
	}
	res.judge(run.Thresholds)
}

// price is the cost of a replayed call, or nil when its model has no price.
func (s *Service) price(ctx context.Context, project, provider, model string, u genai.Usage) *float64 {
	if s.cfg.Pricer == nil {
		return nil
	}
	if provider == ProviderOpenAICompatible {
		provider = ProviderOpenAI // priced by model name; a local model is usually unpriced
	}
	u.Reported = true
	call := genai.Call{Type: genai.TypeLLM, Operation: "chat", Provider: provider, RequestModel: model, Usage: u}
	if err := s.cfg.Pricer.Apply(ctx, project, &call); err != nil {
		return nil
	}
	return call.Cost.TotalUSD
}
