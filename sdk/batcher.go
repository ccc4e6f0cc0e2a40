package lumina

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// batcher is a span processor that queues finished spans and exports them in batches from
// one goroutine. OnEnd never blocks: when the queue is full the span is dropped and counted.
// A batch goes out when it is full or when its oldest span has waited Delay. OnEnd wakes the
// goroutine only for the first span of a batch and for a full batch, not for every span; an
// idle batcher does not wake up.
type batcher struct {
	exp sdktrace.SpanExporter
	cfg BatchConfig

	mu     sync.Mutex
	queue  []sdktrace.ReadOnlySpan
	signal chan struct{} // cap 1: a first or a full batch is queued
	flush  chan chan error
	stop   chan struct{}
	done   chan struct{}

	stopOnce sync.Once
	stopped  atomic.Bool
	dropped  atomic.Uint64
	exported atomic.Uint64
	failed   atomic.Uint64
}

func newBatcher(exp sdktrace.SpanExporter, cfg BatchConfig) *batcher {
	b := &batcher{
		exp:    exp,
		cfg:    cfg,
		queue:  make([]sdktrace.ReadOnlySpan, 0, min(cfg.MaxQueueSize, cfg.MaxBatchSize)),
		signal: make(chan struct{}, 1),
		flush:  make(chan chan error),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go b.run()
	return b
}

// OnStart does nothing.
func (b *batcher) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues s for export, or drops and counts it when the queue is full.
func (b *batcher) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	b.mu.Lock()
	if b.stopped.Load() || len(b.queue) >= b.cfg.MaxQueueSize {
		b.mu.Unlock()
		b.dropped.Add(1)
		release(s)
		return
	}
	b.queue = append(b.queue, s)
	n := len(b.queue)
	b.mu.Unlock()
	if n == 1 || n == b.cfg.MaxBatchSize {
		select {
		case b.signal <- struct{}{}:
		default:
		}
	}
}

func (b *batcher) queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

// ForceFlush exports every span queued before the call and returns the export error.
func (b *batcher) ForceFlush(ctx context.Context) error {
	if b.stopped.Load() {
		return nil
	}
	reply := make(chan error, 1)
	select {
	case b.flush <- reply:
	case <-b.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush: %w", ctx.Err())
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("flush: %w", ctx.Err())
	}
}

// Shutdown exports what is queued, stops the goroutine and shuts the exporter down.
func (b *batcher) Shutdown(ctx context.Context) error {
	var err error
	b.stopOnce.Do(func() {
		b.mu.Lock()
		b.stopped.Store(true)
		b.mu.Unlock()
		close(b.stop)
		select {
		case <-b.done:
		case <-ctx.Done():
			err = fmt.Errorf("shutdown batch processor: %w", ctx.Err())
			return
		}
		if e := b.exp.Shutdown(ctx); e != nil {
			err = fmt.Errorf("shutdown exporter: %w", e)
		}
	})
	return err
}

func (b *batcher) run() {
	defer close(b.done)
	batch := make([]sdktrace.ReadOnlySpan, 0, b.cfg.MaxBatchSize)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	// send exports one batch of what is queued, and reports how many spans are left.
	send := func() (int, error) {
		b.mu.Lock()
		n := copy(batch[:cap(batch)], b.queue)
		batch = batch[:n]
		rest := copy(b.queue, b.queue[n:])
		clear(b.queue[rest:])
		b.queue = b.queue[:rest]
		b.mu.Unlock()
		var err error
		if n > 0 {
			err = b.export(batch)
			for _, s := range batch {
				release(s)
			}
		}
		clear(batch)
		return rest, err
	}
	// drain exports everything queued now.
	drain := func() error {
		var errs []error
		for {
			rest, err := send()
			if err != nil {
				errs = append(errs, err)
			}
			if rest == 0 {
				return errors.Join(errs...)
			}
		}
	}
	for {
		select {
		case <-b.signal:
			if n := b.queued(); n >= b.cfg.MaxBatchSize {
				rest, _ := send() // counted in failed; an export error has no caller here
				if rest == 0 {
					break
				}
				select { // more than a batch is waiting: come back for it
				case b.signal <- struct{}{}:
				default:
				}
			} else if n > 0 && !armed {
				timer.Reset(b.cfg.Delay)
				armed = true
			}
		case <-timer.C:
			armed = false
			if rest, _ := send(); rest > 0 {
				timer.Reset(b.cfg.Delay)
				armed = true
			}
		case reply := <-b.flush:
			reply <- drain()
		case <-b.stop:
			_ = drain()
			return
		}
	}
}

// release tells a recycled span that this batch processor is done with it.
func release(s sdktrace.ReadOnlySpan) {
	if rs, ok := s.(*recycledSpan); ok {
		rs.done()
	}
}

func (b *batcher) export(spans []sdktrace.ReadOnlySpan) error {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.ExportTimeout)
	defer cancel()
	if err := b.exp.ExportSpans(ctx, spans); err != nil {
		b.failed.Add(uint64(len(spans)))
		return fmt.Errorf("export %d spans: %w", len(spans), err)
	}
	b.exported.Add(uint64(len(spans)))
	return nil
}
