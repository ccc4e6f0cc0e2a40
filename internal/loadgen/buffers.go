package loadgen

import (
	"bytes"
	"sync"
	"sync/atomic"
)

// bufferPool recycles the request buffers of one client. Allocating a fresh megabyte-sized
// body per request costs the generator several times the copy itself (page faults and
// GC), CPU the system under test would otherwise have on a two-core box.
type bufferPool struct {
	mu   sync.Mutex
	free [][]byte
}

// get returns a buffer of length n, reused when one is free.
func (p *bufferPool) get(n int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.free) - 1; i >= 0; i-- {
		if b := p.free[i]; cap(b) >= n {
			p.free = append(p.free[:i], p.free[i+1:]...)
			return b[:n]
		}
	}
	return make([]byte, n)
}

// put offers b for reuse; the caller must not touch b afterwards.
func (p *bufferPool) put(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < 4 {
		p.free = append(p.free, b)
	}
}

// outgoing is one request's wire bytes, shared by its attempts. The client holds one
// reference for the whole request and each HTTP attempt one until the transport closes the
// request body (which it may do from its own goroutine after Do has returned); the bytes go
// back to pool only when the last reference is released.
type outgoing struct {
	wire    []byte
	rawSize int // marshalled size before compression
	refs    atomic.Int32
	pool    *bufferPool // nil: never reused
}

func newOutgoing(wire []byte, rawSize int, pool *bufferPool) *outgoing {
	o := &outgoing{wire: wire, rawSize: rawSize, pool: pool}
	o.refs.Store(1)
	return o
}

func (o *outgoing) retain() { o.refs.Add(1) }

func (o *outgoing) release() {
	if o.refs.Add(-1) == 0 && o.pool != nil {
		o.pool.put(o.wire)
	}
}

// leasedBody is an HTTP request body that releases its outgoing when closed.
type leasedBody struct {
	r    bytes.Reader
	o    *outgoing
	once sync.Once
}

func newLeasedBody(o *outgoing) *leasedBody {
	o.retain()
	b := &leasedBody{o: o}
	b.r.Reset(o.wire)
	return b
}

func (b *leasedBody) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b *leasedBody) Close() error {
	b.once.Do(b.o.release)
	return nil
}
