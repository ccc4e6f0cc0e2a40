package lumina

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Timing of the processor. A burst of calls is handled in rounds a window apart, so the
// application's goroutine wakes the processor once per burst, not once per call; after
// idleRounds empty rounds the processor sleeps until the next call.
const (
	processWindow   = 20 * time.Millisecond
	idleRounds      = 50 // one second
	maxQueuedBytes  = 64 << 20
	processorBuffer = 64
)

// piece is a step of one call handed to the processor: bytes the transport copied, and, in
// the last piece, how the call ended.
type piece struct {
	c     *call
	k     *chunk // nil when there are no bytes
	final bool
	end   time.Time // final: when the call ended
	err   error     // final: the error of the round trip or of reading the body
	early bool      // final: the application closed the body before its end
	over  bool      // final: k holds the tail of a larger JSON body
}

// processor parses what the transport captured and records the spans, on its own
// goroutine: on the application's goroutine a call only copies bytes and queues them.
// Pieces of one call are handled in the order they were queued. When the queue is full a
// call is dropped and counted, never waited for.
type processor struct {
	maxItems int

	mu     sync.Mutex
	queue  []piece
	bytes  int
	closed atomic.Bool

	parked atomic.Bool
	wake   chan struct{}
	flush  chan chan struct{}
	stop   chan struct{}
	done   chan struct{}

	stopOnce sync.Once
	dropped  atomic.Uint64
}

// newProcessor returns a processor holding up to maxItems pieces; start runs it.
func newProcessor(maxItems int) *processor {
	p := &processor{
		maxItems: maxItems,
		queue:    make([]piece, 0, min(maxItems, processorBuffer)),
		wake:     make(chan struct{}, 1),
		flush:    make(chan chan struct{}),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	return p
}

// start runs the processor's goroutine.
func (p *processor) start() *processor {
	go p.run()
	return p
}

// push queues pc and reports whether it did; a piece it refuses counts its call as dropped,
// and the caller must queue no more of that call.
func (p *processor) push(pc piece) bool {
	n := 0
	if pc.k != nil {
		n = cap(pc.k.buf)
	}
	p.mu.Lock()
	if p.closed.Load() || len(p.queue) >= p.maxItems || p.bytes+n > maxQueuedBytes {
		p.mu.Unlock()
		p.dropped.Add(1)
		return false
	}
	p.queue = append(p.queue, pc)
	p.bytes += n
	p.mu.Unlock()
	if p.parked.Load() {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	return true
}

func (p *processor) queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue)
}

func (p *processor) run() {
	defer close(p.done)
	timer := time.NewTimer(processWindow)
	var spare []piece
	idle := 0
	for {
		select {
		case <-timer.C:
		case reply := <-p.flush:
			spare = p.handle(spare)
			close(reply)
			continue
		case <-p.stop:
			p.handle(spare)
			return
		}
		var n int
		spare, n = p.handleN(spare)
		if n > 0 {
			idle = 0
		} else if idle++; idle >= idleRounds {
			if !p.sleep() {
				return
			}
			idle = 0
		}
		timer.Reset(processWindow)
	}
}

// sleep parks the processor until a call arrives; false means it was stopped.
func (p *processor) sleep() bool {
	p.parked.Store(true)
	defer p.parked.Store(false)
	for p.queued() == 0 {
		select {
		case <-p.wake:
		case reply := <-p.flush:
			p.handle(nil)
			close(reply)
		case <-p.stop:
			p.handle(nil)
			return false
		}
	}
	return true
}

func (p *processor) handle(spare []piece) []piece {
	spare, _ = p.handleN(spare)
	return spare
}

// handleN processes everything queued now and returns the emptied slice for reuse.
func (p *processor) handleN(spare []piece) ([]piece, int) {
	p.mu.Lock()
	work := p.queue
	p.queue, p.bytes = spare[:0], 0
	p.mu.Unlock()
	for i := range work {
		work[i].c.process(work[i])
	}
	clear(work)
	return work[:0], len(work)
}

// Flush processes every call queued before it.
func (p *processor) Flush(ctx context.Context) error {
	reply := make(chan struct{})
	select {
	case p.flush <- reply:
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush processor: %w", ctx.Err())
	}
	select {
	case <-reply:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush processor: %w", ctx.Err())
	}
}

// Shutdown refuses new calls, processes the queued ones and stops the goroutine.
func (p *processor) Shutdown(ctx context.Context) error {
	p.stopOnce.Do(func() {
		p.mu.Lock()
		p.closed.Store(true)
		p.mu.Unlock()
		close(p.stop)
	})
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shutdown processor: %w", ctx.Err())
	}
}
