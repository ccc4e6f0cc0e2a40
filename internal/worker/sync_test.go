package worker

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// syncStore is a fakeStore that commits before it is durable (store.Syncer): Sync blocks
// until gate is closed, and the first fail Syncs fail.
type syncStore struct {
	*fakeStore
	gate   chan struct{}
	mu     sync.Mutex
	fail   int // Syncs left to fail
	synced int // span writes made durable: the Writes that had returned when a Sync began
}

func (s *syncStore) Sync(ctx context.Context) error {
	s.fakeStore.mu.Lock()
	written := 0
	for _, n := range s.written {
		written += n
	}
	s.fakeStore.mu.Unlock()
	select {
	case <-s.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return errors.New("flush failed")
	}
	s.synced = max(s.synced, written)
	return nil
}

// newSyncHarness starts a worker on a syncStore whose first fail Syncs fail.
func newSyncHarness(t *testing.T, fail int) (*harness, *syncStore) {
	t.Helper()
	st := &fakeStore{written: map[string]int{}}
	ss := &syncStore{fakeStore: st, gate: make(chan struct{}), fail: fail}
	return newHarnessOn(t, st, ss, func(*Config) {}), ss
}

// On a store.Syncer the worker writes and runs its hooks on a context marked by
// store.DeferSync (the hooks see the batch at once) and acknowledges the messages only
// after a Sync that began once their write had returned.
func TestAcksWaitForTheSync(t *testing.T) {
	h, ss := newSyncHarness(t, 0)
	h.publish(t, "a", "b")
	eventually(t, "both spans written and hooked", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.hooks) == 2
	})
	time.Sleep(300 * time.Millisecond) // an ack that did not wait for the Sync would be in by now
	if st := h.stats(t); st.Messages != 2 {
		t.Fatalf("with the Sync blocked, %d of 2 messages are left in the queue; want both, unacknowledged (%+v)", st.Messages, st)
	}
	close(ss.gate)
	eventually(t, "the queue to drain", func() bool { st := h.stats(t); return st.Messages == 0 && st.AckPending == 0 })
	ss.mu.Lock()
	synced := ss.synced
	ss.mu.Unlock()
	if synced != 2 {
		t.Errorf("the Syncs before the acks covered %d span writes, want 2", synced)
	}
	h.st.mu.Lock()
	deferred, writes := h.st.deferred, h.st.writes
	h.st.mu.Unlock()
	h.mu.Lock()
	hooks := h.deferredHooks
	h.mu.Unlock()
	if deferred != writes || hooks == 0 {
		t.Errorf("%d of %d writes and %d hook calls had a context marked by store.DeferSync, want all", deferred, writes, hooks)
	}
}

// A failed Sync leaves the batch's durability unknown: its messages are redelivered and
// written again (the write is idempotent), and acknowledged after a Sync that succeeds.
func TestFailedSyncRedelivers(t *testing.T) {
	h, ss := newSyncHarness(t, 1)
	close(ss.gate)
	h.publish(t, "x")
	eventually(t, "the message written again and the queue drained", func() bool {
		st := h.stats(t)
		return h.st.count("x") == 2 && st.Messages == 0 && st.AckPending == 0
	})
	if st := h.stats(t); st.DeadLetters != 0 {
		t.Errorf("%d dead letters, want 0", st.DeadLetters)
	}
}

// A store that is no Syncer commits durably: its context is not marked.
func TestWritesAreNotDeferredWithoutSyncer(t *testing.T) {
	h := newHarness(t)
	h.publish(t, "d")
	eventually(t, "the queue to drain", func() bool {
		st := h.stats(t)
		return h.st.count("d") == 1 && st.Messages == 0 && st.AckPending == 0
	})
	h.st.mu.Lock()
	defer h.st.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.st.deferred != 0 || h.deferredHooks != 0 {
		t.Errorf("%d writes and %d hook calls had a context marked by store.DeferSync, want none", h.st.deferred, h.deferredHooks)
	}
}
