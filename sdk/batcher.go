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
// A batch goes out when it is full or when its oldest span has waited Delay; an idle
// batcher does not wake up.
type batcher struct {
	exp   sdktrace.SpanExporter
	cfg   BatchConfig
	queue chan sdktrace.ReadOnlySpan
	flush chan chan error
	stop  chan struct{}
	done  chan struct{}

	stopOnce sync.Once
	stopped  atomic.Bool
	dropped  atomic.Uint64
	exported atomic.Uint64
	failed   atomic.Uint64
}

func newBatcher(exp sdktrace.SpanExporter, cfg BatchConfig) *batcher {
	b := &batcher{
		exp:   exp,
		cfg:   cfg,
		queue: make(chan sdktrace.ReadOnlySpan, cfg.MaxQueueSize),
		flush: make(chan chan error),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
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
	if b.stopped.Load() {
		b.dropped.Add(1)
		return
	}
	select {
	case b.queue <- s:
	default:
		b.dropped.Add(1)
	}
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
		b.stopped.Store(true)
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
	send := func() error {
		if armed {
			timer.Stop()
			armed = false
		}
		if len(batch) == 0 {
			return nil
		}
		err := b.export(batch)
		clear(batch)
		batch = batch[:0]
		return err
	}
	add := func(s sdktrace.ReadOnlySpan) error {
		batch = append(batch, s)
		if len(batch) >= b.cfg.MaxBatchSize {
			return send()
		}
		if !armed {
			timer.Reset(b.cfg.Delay)
			armed = true
		}
		return nil
	}
	// drain moves everything queued now into batches and exports them.
	drain := func() error {
		var errs []error
		for {
			select {
			case s := <-b.queue:
				if err := add(s); err != nil {
					errs = append(errs, err)
				}
			default:
				if err := send(); err != nil {
					errs = append(errs, err)
				}
				return errors.Join(errs...)
			}
		}
	}
	for {
		select {
		case s := <-b.queue:
			_ = add(s) // counted in failed; an export error has no caller here
		case <-timer.C:
			armed = false
			_ = send()
		case reply := <-b.flush:
			reply <- drain()
		case <-b.stop:
			_ = drain()
			return
		}
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
