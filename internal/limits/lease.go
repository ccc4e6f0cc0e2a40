package limits

import (
	"context"
	"sync"
)

// Lease lets one process at a time run a periodic job. *postgres.Store implements it with
// an advisory lock; LocalLease is the single process of embedded mode.
type Lease interface {
	// TryLock takes the lease of job name without waiting. ok is false when another
	// holder has it; otherwise the caller holds it until it calls release.
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)
}

// LocalLease is a Lease within one process: enough when one process runs every role, or
// as the lease of the only worker.
type LocalLease struct {
	mu   sync.Mutex
	held map[string]bool
}

// TryLock implements Lease.
func (l *LocalLease) TryLock(_ context.Context, name string) (func(), bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[name] {
		return nil, false, nil
	}
	if l.held == nil {
		l.held = map[string]bool{}
	}
	l.held[name] = true
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.held, name)
	}, true, nil
}
