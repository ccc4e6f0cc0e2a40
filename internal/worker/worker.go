// Package worker is the consume loop: it pulls accepted OTLP requests from the queue, turns
// them into spans and log records, runs the enrichment stages, commits each batch in one
// store transaction, runs the post-commit hooks and only then acknowledges the messages.
package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/use-lumina/lumina/internal/queue"
	"github.com/use-lumina/lumina/internal/store"
)

// Source delivers queued requests; *queue.Consumer implements it.
type Source interface {
	// Next returns the next batch: at least one message, then what arrives within linger
	// while wait reports true (see queue.Consumer.Next).
	Next(ctx context.Context, max, maxBytes int, linger time.Duration, wait func() bool) ([]*queue.Delivery, error)
	DeadLetter(ctx context.Context, d *queue.Delivery, reason string) error
	Stop()
}

// Store is what the worker needs of the store.
type Store interface {
	store.Writer
	Ping(ctx context.Context) error
}

// Decoder turns one queued request (d.Data()) into spans and log records. An error means
// the message can never be decoded (it goes to the dead-letter stream).
type Decoder func(d *queue.Delivery) (store.Batch, error)

// Stage enriches a batch before it is committed (normalization, cost, quality). It may be
// given a part of a batch, and the parts of one batch are enriched concurrently, so a stage
// must only change the spans and log records it was given, in place, and be safe for
// concurrent use. An error is treated as transient: the batch is retried.
type Stage func(ctx context.Context, b *store.Batch) error

// Hook runs after a batch is committed and before it is acknowledged (quality, baselines,
// alerts). Hooks own their failures: a durable effect they need must be made idempotent,
// because a crash after commit and before ack redelivers the batch. On a store.Syncer the
// context is marked by store.DeferSync, like the write's: what a hook writes on it before
// it returns is made durable by the Sync that precedes the acks.
type Hook func(ctx context.Context, b store.Batch)

// Config configures the loop.
type Config struct {
	Concurrency  int           // consume loops; 1 for SQLite's single writer
	BatchMsgs    int           // messages per batch (each is one OTLP request)
	BatchBytes   int           // bytes per batch
	Linger       time.Duration // while the writer is busy, how long arriving messages wait to be prepared as a part
	PoisonAfter  uint64        // deliveries after which a message that fails alone is dead-lettered
	WriteTimeout time.Duration // bound on one batch's processing, also at shutdown
	StageWorkers int           // parts of a batch enriched in parallel; default GOMAXPROCS
	// AckProgress is how often the messages of a batch in hand are reported in progress
	// (queue.Delivery.InProgress), so that a batch waiting for the writer or slow to commit
	// is not redelivered to another worker when the queue's ack wait runs out. Set it well
	// under the ack wait; default 10s.
	AckProgress time.Duration
}

func (c *Config) defaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = 1
	}
	if c.BatchMsgs <= 0 {
		c.BatchMsgs = 256
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = 16 << 20
	}
	if c.Linger <= 0 {
		c.Linger = 20 * time.Millisecond
	}
	if c.PoisonAfter == 0 {
		c.PoisonAfter = 5
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 60 * time.Second
	}
	if c.StageWorkers <= 0 {
		c.StageWorkers = runtime.GOMAXPROCS(0)
	}
	if c.AckProgress <= 0 {
		c.AckProgress = 10 * time.Second
	}
}

// Worker runs the consume loops.
type Worker struct {
	cfg     Config
	open    func(ctx context.Context) (Source, error)
	decode  Decoder
	stages  []Stage
	hooks   []Hook
	store   Store
	syncer  store.Syncer // store's, when it commits before it is durable
	log     *slog.Logger
	metrics *metrics
	now     func() time.Time
	// storeDown is set while the store is unreachable, so an outage is logged once when it
	// starts and once when it ends, not once per batch.
	storeDown atomic.Bool
}

// New returns a worker. open attaches one Source per consume loop.
func New(cfg Config, open func(ctx context.Context) (Source, error), decode Decoder, st Store, stages []Stage, hooks []Hook, reg prometheus.Registerer, logger *slog.Logger) *Worker {
	cfg.defaults()
	syncer, _ := st.(store.Syncer)
	return &Worker{cfg: cfg, open: open, decode: decode, stages: stages, hooks: hooks, store: st, syncer: syncer, log: logger, metrics: newMetrics(reg), now: time.Now}
}

// Config returns the effective configuration.
func (w *Worker) Config() Config { return w.cfg }

// Run consumes until ctx ends, then finishes the batches in flight and returns.
func (w *Worker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, w.cfg.Concurrency)
	for i := 0; i < w.cfg.Concurrency; i++ {
		src, err := w.open(ctx)
		if err != nil {
			return fmt.Errorf("open queue consumer: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer src.Stop()
			errs <- w.loop(ctx, src)
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// loop runs one consume loop as three stages: this goroutine fetches, decodes and enriches
// messages while a second one, owned by loop, commits what is ready and runs its hooks, and
// a third acknowledges what was committed. Enrichment is CPU work that needs no lock, so it
// overlaps the store's single writer instead of waiting behind it; and the writer starts
// the next commit while the last one's acks (and, on a Syncer, its flush) are under way.
//
// While the writer is busy, what arrives is prepared in parts, each cut after the linger,
// and a writer that comes free commits every part that is ready as one batch (group
// commit). So a request that arrives during a write is in the next commit, not the one
// after it: under load a batch grows to what arrived during one commit, and a quiet
// stream's message is written at once instead of after the linger. The parts waiting
// beside the write hold at most one batch's messages and bytes, which bounds memory to two
// batches, and batches are committed, hooked and acknowledged in the order they were
// fetched.
func (w *Worker) loop(ctx context.Context, src Source) error {
	pl := newPipeline(w.cfg.BatchMsgs, w.cfg.BatchBytes)
	acks := make(chan committed, maxUnacked)
	var writer, acker sync.WaitGroup
	acker.Go(func() { w.acknowledge(ctx, acks) })
	writer.Go(func() {
		defer close(acks)
		for {
			parts, ok := pl.take()
			if !ok {
				return
			}
			w.finishParts(ctx, src, parts, acks)
			pl.written()
		}
	})
	defer acker.Wait()
	defer writer.Wait()
	defer pl.close()
	for {
		msgs, bytes := pl.room()
		ds, err := src.Next(ctx, msgs, bytes, w.cfg.Linger, pl.busy)
		if ctx.Err() != nil {
			if len(ds) > 0 {
				if p, ok := w.prepare(ctx, src, ds); ok {
					pl.put(p)
				}
			}
			return nil
		}
		if err != nil {
			if queue.IsClosed(err) {
				return fmt.Errorf("queue consumer closed: %w", err)
			}
			w.log.Warn("queue fetch failed", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		if p, ok := w.prepare(ctx, src, ds); ok {
			pl.put(p)
		}
	}
}

// pipeline hands prepared parts from the fetching goroutine to the writing one.
type pipeline struct {
	maxMsgs, maxBytes int
	mu                sync.Mutex
	changed           *sync.Cond // a part was put or taken, or the pipeline closed
	parts             []prepared
	msgs, bytes       int // what parts hold
	writing           atomic.Bool
	closed            bool
}

func newPipeline(maxMsgs, maxBytes int) *pipeline {
	pl := &pipeline{maxMsgs: maxMsgs, maxBytes: maxBytes}
	pl.changed = sync.NewCond(&pl.mu)
	return pl
}

// room waits until the parts hold less than a batch, and returns what a fetch may add.
func (pl *pipeline) room() (msgs, bytes int) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for pl.msgs >= pl.maxMsgs || pl.bytes >= pl.maxBytes {
		pl.changed.Wait()
	}
	return pl.maxMsgs - pl.msgs, pl.maxBytes - pl.bytes
}

func (pl *pipeline) put(p prepared) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.parts = append(pl.parts, p)
	pl.msgs += len(p.good)
	for _, d := range p.good {
		pl.bytes += d.Size()
	}
	pl.changed.Broadcast()
}

// take waits for parts and returns all of them, marking the writer busy; it reports false
// once the pipeline is closed and empty.
func (pl *pipeline) take() ([]prepared, bool) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for len(pl.parts) == 0 && !pl.closed {
		pl.changed.Wait()
	}
	if len(pl.parts) == 0 {
		return nil, false
	}
	parts := pl.parts
	pl.parts, pl.msgs, pl.bytes = nil, 0, 0
	pl.writing.Store(true)
	pl.changed.Broadcast()
	return parts, true
}

// written marks the writer free.
func (pl *pipeline) written() { pl.writing.Store(false) }

// busy reports whether the writer is writing: a fetch lingers for more messages only then.
func (pl *pipeline) busy() bool { return pl.writing.Load() }

func (pl *pipeline) close() {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.closed = true
	pl.changed.Broadcast()
}

// prepared is a decoded and enriched batch waiting for the writer.
type prepared struct {
	batch store.Batch
	good  []*queue.Delivery // the messages the batch was decoded from
	err   error             // enrichment failed: the writer retries the messages
	start time.Time
	held  func() // stops reporting the messages in progress
}

// process handles one batch from decoding to commit on the calling goroutine, the
// writer's: the retry path, which isolates failing messages one at a time.
func (w *Worker) process(parent context.Context, src Source, ds []*queue.Delivery, acks chan<- committed) {
	if p, ok := w.prepare(parent, src, ds); ok {
		w.finish(parent, src, p, acks)
	}
}

// prepare decodes the messages (dead-lettering those that cannot be) and enriches the
// batch; it reports false when no message was decodable. It runs on a context that
// outlives shutdown by WriteTimeout, so a fetched batch is still committed.
func (w *Worker) prepare(parent context.Context, src Source, ds []*queue.Delivery) (prepared, bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), w.cfg.WriteTimeout)
	defer cancel()
	p := prepared{start: w.now()}
	p.batch, p.good = w.decodeAll(ctx, src, ds)
	if len(p.good) == 0 {
		return prepared{}, false
	}
	p.held = w.hold(p.good)
	if err := w.enrich(ctx, &p.batch); err != nil {
		p.err = fmt.Errorf("enrich batch: %w", err)
	} else if pr, ok := w.store.(store.Preparer); ok {
		pr.Prepare(&p.batch) // while the writer is busy with the previous batch
	}
	return p, true
}

// finish commits a prepared batch, runs the hooks and hands the messages to acks, to be
// acknowledged; a failed enrichment or write goes to retry instead. Like prepare, it runs
// on a context that outlives shutdown by WriteTimeout, so an in-flight batch is committed
// and acknowledged rather than abandoned.
func (w *Worker) finish(parent context.Context, src Source, p prepared, acks chan<- committed) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), w.cfg.WriteTimeout)
	defer cancel()
	if w.syncer != nil {
		ctx = store.DeferSync(ctx) // the acker syncs before it acknowledges
	}
	err := p.err
	if err == nil {
		if err = w.store.Write(ctx, p.batch); err != nil {
			err = fmt.Errorf("write batch: %w", err)
		}
	}
	if err != nil {
		w.retry(ctx, src, p.good, err, acks)
		p.held()
		return
	}
	if w.storeDown.CompareAndSwap(true, false) {
		w.log.Info("store reachable again; redelivered batches are being committed")
	}
	for _, h := range w.hooks {
		h(ctx, p.batch)
	}
	acks <- committed{good: p.good, held: p.held, start: p.start, spans: len(p.batch.Spans), logs: len(p.batch.Logs)}
}

// finishParts commits the parts taken from the pipeline as one batch. Parts whose
// enrichment failed are left out of it and retried after it.
func (w *Worker) finishParts(ctx context.Context, src Source, parts []prepared, acks chan<- committed) {
	var good, failed []prepared
	for _, p := range parts {
		if p.err != nil {
			failed = append(failed, p)
		} else {
			good = append(good, p)
		}
	}
	if len(good) > 0 {
		w.finish(ctx, src, w.join(good), acks)
	}
	for _, p := range failed {
		w.finish(ctx, src, p, acks)
	}
}

// join makes one prepared batch of parts, in order, keeping the store's preparation.
func (w *Worker) join(parts []prepared) prepared {
	if len(parts) == 1 {
		return parts[0]
	}
	batches := make([]store.Batch, len(parts))
	held := make([]func(), len(parts))
	j := prepared{start: parts[0].start}
	for i, p := range parts {
		batches[i], held[i] = p.batch, p.held
		j.good = append(j.good, p.good...)
	}
	if pr, ok := w.store.(store.Preparer); ok {
		j.batch = pr.Join(batches)
	} else {
		j.batch = store.Join(batches)
	}
	j.held = func() {
		for _, h := range held {
			h()
		}
	}
	return j
}

// hold reports ds in progress every AckProgress until the returned function is called.
func (w *Worker) hold(ds []*queue.Delivery) (release func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(w.cfg.AckProgress)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				for _, d := range ds {
					_ = d.InProgress() // a lost report only risks a redelivery, which is idempotent
				}
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

func (w *Worker) decodeAll(ctx context.Context, src Source, ds []*queue.Delivery) (store.Batch, []*queue.Delivery) {
	var batch store.Batch
	good := ds[:0:0]
	for _, d := range ds {
		b, err := w.decode(d)
		if err != nil {
			w.deadLetter(ctx, src, d, fmt.Sprintf("decode: %v", err))
			continue
		}
		batch.Spans = append(batch.Spans, b.Spans...)
		batch.Logs = append(batch.Logs, b.Logs...)
		good = append(good, d)
	}
	return batch, good
}

// minPart is the smallest share of a batch worth a goroutine of its own.
const minPart = 256

// enrich runs the stages over the batch, split into up to StageWorkers parts enriched in
// parallel: the store has one writer, but decoding work ahead of it can use every core.
func (w *Worker) enrich(ctx context.Context, b *store.Batch) error {
	parts := min(w.cfg.StageWorkers, max(1, (len(b.Spans)+len(b.Logs))/minPart))
	if parts <= 1 {
		return runStages(ctx, w.stages, b)
	}
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for i := range parts {
		part := store.Batch{Spans: share(b.Spans, i, parts), Logs: share(b.Logs, i, parts)}
		wg.Go(func() { errs[i] = runStages(ctx, w.stages, &part) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func runStages(ctx context.Context, stages []Stage, b *store.Batch) error {
	for _, stage := range stages {
		if err := stage(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// share is the i-th of n contiguous parts of s; the parts alias s, so stages enrich in place.
func share[T any](s []T, i, n int) []T {
	lo, hi := len(s)*i/n, len(s)*(i+1)/n
	return s[lo:hi:hi]
}

// retry handles a failed batch. When the store is down every message is retried later and
// none counts as poison. When the store is up, the batch is split so that one bad message
// cannot hold back the others, and a message that keeps failing alone is dead-lettered.
func (w *Worker) retry(ctx context.Context, src Source, ds []*queue.Delivery, cause error, acks chan<- committed) {
	w.metrics.batches.WithLabelValues("failed").Inc()
	if err := w.store.Ping(ctx); err != nil {
		if w.storeDown.CompareAndSwap(false, true) {
			w.log.Warn("store unavailable; batches are redelivered with backoff until it returns", "err", cause)
		}
		w.nakAll(ds)
		return
	}
	if len(ds) > 1 {
		w.log.Warn("batch failed with the store up; retrying its messages one by one", "messages", len(ds), "err", cause)
		for _, d := range ds {
			w.process(ctx, src, []*queue.Delivery{d}, acks)
		}
		return
	}
	d := ds[0]
	if d.NumDelivered >= w.cfg.PoisonAfter {
		w.deadLetter(ctx, src, d, fmt.Sprintf("failed %d times: %v", d.NumDelivered, cause))
		return
	}
	w.log.Warn("message failed; will be redelivered", "delivery", d.NumDelivered, "err", cause)
	w.nakAll(ds)
}

func (w *Worker) nakAll(ds []*queue.Delivery) {
	for _, d := range ds {
		w.metrics.redeliveries.Inc()
		if err := d.Nak(backoff(d.NumDelivered)); err != nil {
			w.log.Warn("nak failed; the message is redelivered after the ack wait", "err", err)
		}
	}
}

// ackTimeout bounds the wait for the server's confirmation of all of a batch's acks. A healthy
// ack is confirmed in well under a millisecond; one sent just as the connection to NATS
// broke is never answered, and without a bound the writer would wait for it (up to
// WriteTimeout) while the batches behind it stall. An unconfirmed ack costs at most a
// redelivery after the queue's ack wait, which the idempotent write absorbs.
const ackTimeout = 5 * time.Second

// maxUnacked is how many committed batches a consume loop's writer may hand on before it
// waits for their acks: each holds only its messages.
const maxUnacked = 4

// committed is a batch whose write and hooks are done, waiting for its acks.
type committed struct {
	good        []*queue.Delivery
	held        func() // stops reporting the messages in progress
	start       time.Time
	spans, logs int
}

// acknowledge acknowledges what the writer committed, until acks is closed. It takes every
// batch waiting at once: on a store.Syncer one Sync makes all their commits durable before
// any of their messages is acknowledged.
func (w *Worker) acknowledge(parent context.Context, acks <-chan committed) {
	for c := range acks {
		cs := []committed{c}
		for len(acks) > 0 { // this goroutine alone receives: it cannot block
			cs = append(cs, <-acks)
		}
		var ds []*queue.Delivery
		for _, c := range cs {
			ds = append(ds, c.good...)
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), w.cfg.WriteTimeout)
		synced := true
		if w.syncer != nil {
			if err := w.syncer.Sync(ctx); err != nil {
				// Committed, perhaps not durably: redelivered, the idempotent write absorbs them.
				w.log.Warn("store sync failed; the committed messages will be redelivered", "messages", len(ds), "err", err)
				w.nakAll(ds)
				synced = false
			}
		}
		if synced {
			w.ack(ctx, ds)
		}
		cancel()
		now := w.now()
		for _, c := range cs {
			c.held()
			if synced {
				w.metrics.observeBatch(c.spans, c.logs, c.good, now.Sub(c.start), now)
			}
		}
	}
}

// ack acknowledges the messages of committed batches, all at once: each ack waits for the
// server's confirmation, and one after another the acks of a batch of a hundred messages
// took longer than ackTimeout when the server was slow to answer (two worker processes and
// PostgreSQL on 2 cores: 27 acks of one run timed out, and their messages were written
// again).
func (w *Worker) ack(ctx context.Context, ds []*queue.Delivery) {
	ctx, cancel := context.WithTimeout(ctx, ackTimeout)
	defer cancel()
	errs := make([]error, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Go(func() { errs[i] = d.Ack(ctx) })
	}
	wg.Wait()
	var failed int
	var first error
	for _, err := range errs {
		if err != nil {
			failed++
			first = cmp.Or(first, err)
		}
	}
	if failed > 0 {
		// Committed but not acknowledged: they come back and the idempotent write absorbs them.
		w.log.Warn("acks failed; the messages will be redelivered", "failed", failed, "of", len(ds), "err", first)
	}
}

func (w *Worker) deadLetter(ctx context.Context, src Source, d *queue.Delivery, reason string) {
	w.metrics.deadLetters.WithLabelValues(d.Signal).Inc()
	w.log.Error("message moved to the dead-letter stream", "signal", d.Signal, "project", d.ProjectID, "bytes", d.Size(), "reason", reason)
	if err := src.DeadLetter(ctx, d, reason); err != nil {
		w.log.Error("dead-letter failed; the message will be redelivered", "err", err)
		_ = d.Nak(backoff(d.NumDelivered))
	}
}

// backoff grows with the delivery count: 100 ms, 200 ms, 400 ms … up to 10 s.
func backoff(delivered uint64) time.Duration {
	d := 100 * time.Millisecond
	for i := uint64(1); i < delivered && d < 10*time.Second; i++ {
		d *= 2
	}
	return min(d, 10*time.Second)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
