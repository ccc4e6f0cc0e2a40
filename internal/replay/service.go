package replay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// Store is the storage replay uses: traces to capture from, and its own sets and runs.
type Store interface {
	store.TraceReader
	store.ReplayStore
}

// Config holds a Service's dependencies and limits. Store and Hash are required.
type Config struct {
	Store Store
	// Providers serves live runs; nil refuses every live run.
	Providers Providers
	// Pricer prices replayed calls; nil leaves replay costs unknown.
	Pricer Pricer
	Hash   HashFunc
	// Semantic scores meaning; nil reports semantic similarity as not configured.
	Semantic SemanticFunc

	Concurrency int           // provider calls in flight across all runs; default 4
	ItemTimeout time.Duration // per item, every attempt included; default 2 minutes
	MaxAttempts int           // per item, for temporary provider errors; default 2
	RetryDelay  time.Duration // before the second attempt, doubling; default 1 s

	Now    func() time.Time
	Logger *slog.Logger
}

// Service creates replay sets and runs them. Runs are durable: Run executes them in the
// background, stores each item's result as it finishes, and on start resumes the runs a
// previous process left queued or running, skipping the items already done.
type Service struct {
	cfg  Config
	sem  chan struct{}
	wake chan struct{}

	mu     sync.Mutex
	active map[string]context.CancelCauseFunc // run key → cancel of the executing run
}

// New returns a Service; call Run to execute runs.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Hash == nil {
		return nil, errors.New("replay: a store and a hash similarity are required")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.ItemTimeout <= 0 {
		cfg.ItemTimeout = 2 * time.Minute
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 2
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, sem: make(chan struct{}, cfg.Concurrency), wake: make(chan struct{}, 1),
		active: map[string]context.CancelCauseFunc{}}, nil
}

func newID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// CreateSetRequest is what POST /api/v1/replay/sets takes.
type CreateSetRequest struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	SetSource
}

// CreateSet captures the calls src selects and freezes copies of them as a new set.
func (s *Service) CreateSet(ctx context.Context, project string, req CreateSetRequest) (Set, error) {
	if err := req.validate(); err != nil {
		return Set{}, err
	}
	items, truncated, err := collect(ctx, s.cfg.Store, project, req.SetSource)
	if err != nil {
		return Set{}, fmt.Errorf("create replay set: %w", err)
	}
	if len(items) == 0 {
		return Set{}, fmt.Errorf("create replay set: no LLM calls matched: %w", ErrInvalid)
	}
	set := Set{ID: newID("set_"), Name: req.Name, Description: req.Description, CreatedAt: s.cfg.Now().UTC(),
		Source: req.SetSource, Items: len(items), Truncated: truncated}
	if set.Name == "" {
		set.Name = "Replay set " + set.CreatedAt.Format(time.DateTime)
	}
	recs := make([]store.ReplayItem, len(items))
	for i := range items {
		if items[i].Capture.Replayable {
			set.Replayable++
		}
		doc, err := json.Marshal(items[i])
		if err != nil {
			return Set{}, fmt.Errorf("create replay set: encode item %d: %w", i, err)
		}
		recs[i] = store.ReplayItem{ProjectID: project, SetID: set.ID, Index: i, Doc: doc}
	}
	doc, err := json.Marshal(set)
	if err != nil {
		return Set{}, fmt.Errorf("create replay set: encode: %w", err)
	}
	if err := s.cfg.Store.PutReplaySet(ctx, store.ReplaySet{ProjectID: project, ID: set.ID, CreatedAt: set.CreatedAt, Doc: doc}, recs); err != nil {
		return Set{}, fmt.Errorf("create replay set: %w", err)
	}
	return set, nil
}

// Sets lists a project's sets, newest first.
func (s *Service) Sets(ctx context.Context, project string) ([]Set, error) {
	recs, err := s.cfg.Store.ReplaySets(ctx, project)
	if err != nil {
		return nil, err
	}
	out := make([]Set, 0, len(recs))
	for _, r := range recs {
		var set Set
		if err := json.Unmarshal(r.Doc, &set); err != nil {
			return nil, fmt.Errorf("decode replay set %s: %w", r.ID, err)
		}
		out = append(out, set)
	}
	return out, nil
}

// Set returns one set with its items.
func (s *Service) Set(ctx context.Context, project, id string) (Set, []Item, error) {
	rec, err := s.cfg.Store.ReplaySet(ctx, project, id)
	if err != nil {
		return Set{}, nil, err
	}
	var set Set
	if err := json.Unmarshal(rec.Doc, &set); err != nil {
		return Set{}, nil, fmt.Errorf("decode replay set %s: %w", id, err)
	}
	items, err := s.items(ctx, project, id)
	return set, items, err
}

func (s *Service) items(ctx context.Context, project, setID string) ([]Item, error) {
	recs, err := s.cfg.Store.ReplayItems(ctx, project, setID)
	if err != nil {
		return nil, err
	}
	items := make([]Item, len(recs))
	for i, r := range recs {
		if err := json.Unmarshal(r.Doc, &items[i]); err != nil {
			return nil, fmt.Errorf("decode item %d of replay set %s: %w", r.Index, setID, err)
		}
	}
	return items, nil
}

// DeleteSet removes a set, its runs and their results; runs of it still executing are
// canceled first.
func (s *Service) DeleteSet(ctx context.Context, project, id string) error {
	runs, err := s.cfg.Store.ReplayRuns(ctx, project, id)
	if err != nil {
		return err
	}
	for _, r := range runs {
		s.stop(project, r.ID)
	}
	return s.cfg.Store.DeleteReplaySet(ctx, project, id)
}

func runKey(project, id string) string { return project + "\x00" + id }

// stop cancels a run executing in this process, if it is.
func (s *Service) stop(project, id string) {
	s.mu.Lock()
	cancel := s.active[runKey(project, id)]
	s.mu.Unlock()
	if cancel != nil {
		cancel(errCanceled)
	}
}

var errCanceled = errors.New("replay run canceled")

func (s *Service) putRun(ctx context.Context, r *Run) error {
	doc, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode replay run %s: %w", r.ID, err)
	}
	return s.cfg.Store.PutReplayRun(ctx, store.ReplayRun{ProjectID: r.ProjectID, ID: r.ID, SetID: r.SetID,
		Status: r.Status, CreatedAt: r.CreatedAt, Doc: doc})
}

func decodeRun(rec store.ReplayRun) (Run, error) {
	var r Run
	if err := json.Unmarshal(rec.Doc, &r); err != nil {
		return Run{}, fmt.Errorf("decode replay run %s: %w", rec.ID, err)
	}
	r.ProjectID, r.Status = rec.ProjectID, rec.Status
	return r, nil
}

// RunView is a run with its progress and its summary so far.
type RunView struct {
	Run
	Progress Progress `json:"progress"`
	Summary  Summary  `json:"summary"`
}

// Run returns a run with its progress and summary.
func (s *Service) RunView(ctx context.Context, project, id string) (RunView, error) {
	run, results, total, err := s.runResults(ctx, project, id)
	if err != nil {
		return RunView{}, err
	}
	p, sum := summarize(total, run.Simulation, results)
	return RunView{Run: run, Progress: p, Summary: sum}, nil
}

// Results returns a run with its per-item results, by item index.
func (s *Service) Results(ctx context.Context, project, id string) (RunView, []Result, error) {
	run, results, total, err := s.runResults(ctx, project, id)
	if err != nil {
		return RunView{}, nil, err
	}
	p, sum := summarize(total, run.Simulation, results)
	return RunView{Run: run, Progress: p, Summary: sum}, results, nil
}

func (s *Service) runResults(ctx context.Context, project, id string) (Run, []Result, int, error) {
	rec, err := s.cfg.Store.ReplayRun(ctx, project, id)
	if err != nil {
		return Run{}, nil, 0, err
	}
	run, err := decodeRun(rec)
	if err != nil {
		return Run{}, nil, 0, err
	}
	recs, err := s.cfg.Store.ReplayResults(ctx, project, id)
	if err != nil {
		return Run{}, nil, 0, err
	}
	results := make([]Result, len(recs))
	for i, r := range recs {
		if err := json.Unmarshal(r.Doc, &results[i]); err != nil {
			return Run{}, nil, 0, fmt.Errorf("decode result %d of replay run %s: %w", r.Index, id, err)
		}
	}
	return run, results, run.Items, nil
}

// Cancel stops a queued or running run; its finished items keep their results. Canceling
// a finished run changes nothing.
func (s *Service) Cancel(ctx context.Context, project, id string) (RunView, error) {
	rec, err := s.cfg.Store.ReplayRun(ctx, project, id)
	if err != nil {
		return RunView{}, err
	}
	run, err := decodeRun(rec)
	if err != nil {
		return RunView{}, err
	}
	if run.Status == StatusQueued || run.Status == StatusRunning {
		s.mu.Lock()
		now := s.cfg.Now().UTC()
		run.Status, run.FinishedAt = StatusCanceled, &now
		err := s.putRun(ctx, &run)
		cancel := s.active[runKey(project, id)]
		s.mu.Unlock()
		if err != nil {
			return RunView{}, err
		}
		if cancel != nil {
			cancel(errCanceled)
		}
	}
	return s.RunView(ctx, project, id)
}

// Runs lists a project's runs of a set (every set when setID is empty), newest first.
func (s *Service) Runs(ctx context.Context, project, setID string) ([]Run, error) {
	recs, err := s.cfg.Store.ReplayRuns(ctx, project, setID)
	if err != nil {
		return nil, err
	}
	out := make([]Run, 0, len(recs))
	for _, rec := range recs {
		r, err := decodeRun(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
