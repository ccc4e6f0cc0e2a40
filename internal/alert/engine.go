package alert

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/use-lumina/lumina/internal/store"
)

// Store is what the engine needs of the store.
type Store interface {
	AlertRules(ctx context.Context, projectID string) ([]store.AlertRule, error)
	PutAlertRule(ctx context.Context, r store.AlertRule) error
	// RecordAlert stores an alert, or counts its repeats on the alert another process
	// already opened for its dedup key (see store.AlertStore.RecordAlert).
	RecordAlert(ctx context.Context, a store.Alert, repeats int) (store.Alert, error)
	OpenAlerts(ctx context.Context) ([]store.Alert, error)
	// AddSpend adds this process's budget spend to the totals every process shares.
	AddSpend(ctx context.Context, ds []store.Spend) ([]store.Spend, error)
	Spends(ctx context.Context, since time.Time) ([]store.Spend, error)
	PutBaselines(ctx context.Context, bs []store.Baseline) error
	Baselines(ctx context.Context, projectID string) ([]store.Baseline, error)
	// PutBaselineParts and BaselineParts keep each worker process's share of the baselines
	// (only used with Config.Owner).
	PutBaselineParts(ctx context.Context, ps []store.BaselinePart) error
	BaselineParts(ctx context.Context, since time.Time) ([]store.BaselinePart, error)
	// Channels is read when an alert event happens, so a channel added a moment ago
	// already receives it.
	Channels(ctx context.Context, projectID string) ([]store.Channel, error)
	EnqueueDeliveries(ctx context.Context, ds []store.Delivery) error
	EnqueueClaimed(ctx context.Context, ds []store.Delivery, until time.Time) ([]store.Delivery, error)
}

// Config tunes the engine; zero fields take the defaults.
type Config struct {
	// BaselineWindow is how far back baselines look (default 7 days).
	BaselineWindow time.Duration
	// MaxKeys bounds the keys (project, service, endpoint, model) kept in memory; the least
	// recently seen is forgotten first (default 10,000).
	MaxKeys int
	// RecentSpans is how many span ids are remembered to ignore redelivered spans
	// (default 200,000).
	RecentSpans int
	// Tick is the period of Run: windowed rules, rule and channel reloads, user actions,
	// and the exchange of budget spend with the other worker processes (default 5 s).
	Tick time.Duration
	// SnapshotEvery is how often baselines are written to the store (default 30 s).
	SnapshotEvery time.Duration
	// Owner, when set, names this worker process among several that share the store and
	// each receive a share of the traffic. The engine then writes its share of every
	// baseline under Owner and, every Refresh, merges the other processes' shares, and when
	// they last received each key, into what it judges. Empty means the only worker process:
	// baselines are the engine's own. At most one running process may use an Owner.
	Owner string
	// Refresh is how often an engine with an Owner merges the other processes' shares
	// (default 1 minute).
	Refresh time.Duration
	// Registerer receives the engine's Prometheus metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
}

func (c *Config) defaults() {
	if c.BaselineWindow <= 0 {
		c.BaselineWindow = 7 * 24 * time.Hour
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = 10_000
	}
	if c.RecentSpans <= 0 {
		c.RecentSpans = 200_000
	}
	if c.Tick <= 0 {
		c.Tick = 5 * time.Second
	}
	if c.SnapshotEvery <= 0 {
		c.SnapshotEvery = 30 * time.Second
	}
	if c.Refresh <= 0 {
		c.Refresh = time.Minute
	}
}

// Engine evaluates alert rules on committed spans. Observe and Tick are safe for
// concurrent use (several worker loops call Observe); Run owns the ticker.
type Engine struct {
	cfg   Config
	store Store
	now   func() time.Time
	log   *slog.Logger
	local *Dispatcher
	m     *metrics

	mu       sync.Mutex
	rng      *mrand.Rand
	rules    map[string][]store.AlertRule // by project
	ensured  map[string]bool              // projects whose rules exist (defaults created or loaded)
	pending  map[string]bool              // projects whose default rules are not stored yet
	keys     map[Key]*keyState
	lru      *list.List // of *keyState, most recently seen first
	seen     *recentSet
	open     map[openID]*store.Alert // by rule and key: what a dedup key names
	resolved map[openID]time.Time    // when each rule and key last resolved, for cooldowns
	budgets  map[budgetKey]*spend
	dirty    map[string]*store.Alert // alerts changed since the last flush, by id
	repeats  map[string]int          // repeats counted since the alert was last written, by id
	retry    effects                 // writes that failed, tried again on the next tick
	// written is when each open alert was last stored, in writes: Tick trusts the store's
	// list of open alerts only for alerts stored before it read that list.
	written     map[string]uint64
	writes      uint64
	lastSnap    time.Time
	lastRefresh time.Time
	started     time.Time // when Load ran: windows hold nothing from before

	// flushMu orders the store writes of successive evaluations: it is taken before mu is
	// released, so writes land in the order the evaluations ran. Lock order is mu, then
	// flushMu: nothing may take mu while holding flushMu (apply does not; settle runs after).
	flushMu sync.Mutex
	// merged maps the id of an alert this engine opened to the id of the alert another
	// process had already opened for its dedup key, for writes collected before the engine
	// adopted that id. Guarded by flushMu.
	merged map[string]string
}

// keyState is one key's rolling window and baselines.
type keyState struct {
	key Key
	win window
	// arrived is when this process last observed a request of the key (the engine's clock,
	// not the span's: no_data rules judge silence by arrival); othersArrived is the latest
	// arrival the other worker processes reported (Config.Owner).
	arrived, othersArrived time.Time
	dists                  map[string]*dist
	elem                   *list.Element
	dirty                  bool
}

// New returns an engine. local, when not nil, is the dispatcher of this process: the
// deliveries of an alert event are stored claimed for it and handed over (Dispatcher.Take),
// so they go out at once, without the dispatcher reading them back. With nil they are only
// stored, for whichever dispatcher claims them.
func New(cfg Config, st Store, now func() time.Time, local *Dispatcher, logger *slog.Logger) *Engine {
	cfg.defaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{
		cfg: cfg, store: st, now: now, local: local, log: logger, m: newMetrics(cfg.Registerer),
		rng:   mrand.New(mrand.NewPCG(0x4c756d, 0x696e61)),
		rules: map[string][]store.AlertRule{}, ensured: map[string]bool{}, pending: map[string]bool{},
		keys: map[Key]*keyState{}, lru: list.New(),
		seen: newRecentSet(cfg.RecentSpans), open: map[openID]*store.Alert{}, resolved: map[openID]time.Time{},
		budgets: map[budgetKey]*spend{}, dirty: map[string]*store.Alert{}, repeats: map[string]int{},
		written: map[string]uint64{}, merged: map[string]string{},
	}
}

// Load reads the rules, open alerts and baseline snapshots from the store, so an
// engine resumes where the last one stopped. Call it once, before the first Observe.
func (e *Engine) Load(ctx context.Context) error {
	rules, err := e.store.AlertRules(ctx, "")
	if err != nil {
		return fmt.Errorf("load alert rules: %w", err)
	}
	open, err := e.store.OpenAlerts(ctx)
	if err != nil {
		return fmt.Errorf("load open alerts: %w", err)
	}
	baselines, err := e.store.Baselines(ctx, "")
	if err != nil {
		return fmt.Errorf("load baselines: %w", err)
	}
	spends, err := e.store.Spends(ctx, periodStart(e.now(), PeriodMonth))
	if err != nil {
		return fmt.Errorf("load budget spend: %w", err)
	}
	var parts []store.BaselinePart
	if e.cfg.Owner != "" {
		if parts, err = e.store.BaselineParts(ctx, e.now().Add(-e.cfg.BaselineWindow)); err != nil {
			return fmt.Errorf("load baseline parts: %w", err)
		}
	}
	shared := e.decodeParts(parts, true)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setRules(rules)
	for i := range open {
		a := open[i]
		e.open[openID{rule: a.RuleID, key: Key{Project: a.ProjectID, Service: a.Service, Endpoint: a.Endpoint, Model: a.Model}}] = &a
		e.written[a.ID] = 0
	}
	now := e.now()
	// An engine with an owner resumes its own share; the snapshots, written by whichever
	// process saved last, only start it when no process has saved a share yet (an upgrade).
	if e.cfg.Owner == "" || len(parts) == 0 {
		for _, b := range baselines {
			e.restore(b, now)
		}
	}
	e.applyParts(shared)
	e.lastRefresh, e.started = now, now
	for _, sp := range spends {
		e.restoreSpend(sp, now)
	}
	e.lastSnap = now
	return nil
}

// Observe evaluates the rules on a committed batch: it is a worker post-commit hook. Spans
// already observed (a redelivered batch) are ignored. Store writes that fail are logged and
// retried on the next tick; Observe never fails the batch.
func (e *Engine) Observe(ctx context.Context, b store.Batch) {
	e.mu.Lock()
	start := time.Now()
	now := e.now()
	var fx effects
	spent := map[string]bool{}
	var evaluated, redelivered int
	for i := range b.Spans {
		s := &b.Spans[i]
		k, sm, ok := sampleOf(s)
		if !ok {
			continue
		}
		if !e.seen.add(s.ProjectID + "/" + s.TraceID + "/" + s.SpanID) {
			redelivered++
			continue
		}
		evaluated++
		e.ensureRules(k.Project, now, &fx)
		ks := e.state(k)
		ks.win.add(sm)
		ks.arrived = now
		e.evaluateKey(ks, now, &fx)
		e.learn(ks, &sm)
		if sm.hasCost {
			e.addSpend(k, &sm)
			spent[k.Project] = true
		}
	}
	for p := range spent {
		e.evaluateBudgets(p, now, &fx)
	}
	e.collect(&fx)
	e.m.spans.WithLabelValues("evaluated").Add(float64(evaluated))
	e.m.spans.WithLabelValues("redelivered").Add(float64(redelivered))
	e.m.spans.WithLabelValues("ignored").Add(float64(len(b.Spans) - evaluated - redelivered))
	e.m.evaluation.Observe(time.Since(start).Seconds())
	e.flush(ctx, fx)
}

// Run ticks until ctx ends, then adds the last spend and writes a last baseline snapshot.
func (e *Engine) Run(ctx context.Context) error {
	t := time.NewTicker(e.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			e.exchangeSpend(final)
			e.snapshot(final, true)
			return nil
		case <-t.C:
			e.Tick(ctx)
		}
	}
}

// Tick reloads rules, applies what users did to alerts (acknowledge, resolve),
// re-evaluates open alerts and budgets against the clock (windows age even without
// traffic), writes due snapshots and retries failed writes.
func (e *Engine) Tick(ctx context.Context) {
	e.exchangeSpend(ctx)
	e.mu.Lock()
	before := e.writes
	e.mu.Unlock()
	rules, errR := e.store.AlertRules(ctx, "")
	open, errO := e.store.OpenAlerts(ctx)
	for _, err := range []error{errR, errO} {
		if err != nil {
			e.log.Warn("alert tick: store read failed", "err", err)
		}
	}
	e.mu.Lock()
	now := e.now()
	var fx effects
	if errR == nil {
		e.setRules(rules)
	}
	if errO == nil {
		e.syncOpen(open, before, now, &fx)
	}
	e.reevaluate(now, &fx)
	e.prune(now)
	e.collect(&fx)
	fx.merge(e.retry)
	e.retry = effects{}
	e.flush(ctx, fx)
	e.snapshot(ctx, false)
	e.refresh(ctx)
}

// setRules replaces the in-memory rules with the stored ones. A project without stored
// rules keeps its defaults while they wait to be written.
func (e *Engine) setRules(rules []store.AlertRule) {
	next := map[string][]store.AlertRule{}
	for _, r := range rules {
		next[r.ProjectID] = append(next[r.ProjectID], r)
		e.ensured[r.ProjectID] = true
	}
	for p := range e.pending {
		if _, ok := next[p]; !ok {
			next[p] = e.rules[p]
		}
	}
	for p := range e.ensured {
		if _, ok := next[p]; !ok {
			next[p] = nil // the user deleted them all
		}
	}
	e.rules = next
}

// ensureRules creates the default rules of a project seen for the first time.
func (e *Engine) ensureRules(project string, now time.Time, fx *effects) {
	if e.ensured[project] {
		return
	}
	defaults := DefaultRules(project, now)
	e.rules[project] = defaults
	e.ensured[project], e.pending[project] = true, true
	fx.rules = append(fx.rules, defaults...)
}

// state returns the key's state, creating it (and forgetting the least recently seen key
// beyond MaxKeys) when needed.
func (e *Engine) state(k Key) *keyState {
	if ks, ok := e.keys[k]; ok {
		e.lru.MoveToFront(ks.elem)
		return ks
	}
	ks := &keyState{key: k, dists: map[string]*dist{}}
	ks.elem = e.lru.PushFront(ks)
	e.keys[k] = ks
	for len(e.keys) > e.cfg.MaxKeys {
		old := e.lru.Remove(e.lru.Back()).(*keyState)
		delete(e.keys, old.key)
	}
	return ks
}

// learn adds a sample to its key's baselines, after the rules judged it against them.
func (e *Engine) learn(ks *keyState, sm *sample) {
	for _, m := range []string{MetricCost, MetricLatency, MetricTokens, MetricQuality} {
		v, ok := value(sm, m)
		if !ok {
			continue
		}
		d := ks.dists[m]
		if d == nil {
			d = newDist(e.cfg.BaselineWindow)
			ks.dists[m] = d
		}
		d.add(sm.at, v, e.rng)
	}
	ks.dirty = true
}

// newID returns a random alert id: 32 lower-case hex characters.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// openID identifies a rule's alert on a key; the alert's DedupKey is its string form.
type openID struct {
	rule string
	key  Key
}
