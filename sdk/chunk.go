package lumina

import (
	"sync"
	"time"
)

// chunk is a copy of bytes the transport saw (a request body, a response body or its tail, a
// run of a stream), handed from the application's goroutine to the processor. For a stream,
// marks say when each piece arrived, so the processor can time what it finds in it.
type chunk struct {
	buf   []byte
	marks []mark
	// shared: buf is also read by someone else (a request body the transport sends), so it
	// never returns to the pool.
	shared bool
}

// mark ends a piece of a chunk: buf[previous mark's end:end] arrived at at.
type mark struct {
	end int
	at  time.Time
}

// maxPooledChunk is the largest buffer returned to the pool; a bigger one (a rare large
// body) is left to the garbage collector rather than pinned.
const maxPooledChunk = 256 << 10

var chunkPool = sync.Pool{New: func() any { return new(chunk) }}

func getChunk() *chunk { return chunkPool.Get().(*chunk) }

// release returns k to the pool; k must not be used after.
func (k *chunk) release() {
	if k == nil || k.shared || cap(k.buf) > maxPooledChunk {
		return
	}
	k.buf, k.marks = k.buf[:0], k.marks[:0]
	chunkPool.Put(k)
}

// grow makes room for n more bytes at once, rather than in doublings.
func (k *chunk) grow(n int) {
	if cap(k.buf)-len(k.buf) < n {
		b := make([]byte, len(k.buf), len(k.buf)+n)
		copy(b, k.buf)
		k.buf = b
	}
}
