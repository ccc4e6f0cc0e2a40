package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/use-lumina/lumina/internal/queue"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/testenv"
)

// A request the worker writes to NATS just as the connection breaks is never answered. These
// tests lose one on purpose, through a proxy to the shared NATS that stalls (drops what
// crosses it) at the right moment and is then cut, so the client reconnects. The worker
// must go on with the messages behind it instead of waiting for that answer until
// WriteTimeout (a minute), which is what it did: an outage of a few seconds stalled the
// store writer for a minute after NATS came back.

// TestLostAckDoesNotStallTheWriter: the ack of a committed batch is lost.
func TestLostAckDoesNotStallTheWriter(t *testing.T) {
	var stall func()
	afterCommit := func(_ context.Context, b store.Batch) { // hooks run between commit and ack
		if b.Spans[0].Name == "first" {
			stall()
		}
	}
	st := lostRequest(t, decodeNames, []Hook{afterCommit}, &stall)
	if n := st.count("first"); n != 1 {
		t.Fatalf("the first message was written %d times, want 1 (its redelivery is 30s away)", n)
	}
}

// TestLostDeadLetterDoesNotStallTheWorker: the dead-letter publish of an undecodable message
// is lost.
func TestLostDeadLetterDoesNotStallTheWorker(t *testing.T) {
	var stall func()
	decode := func(d *queue.Delivery) (store.Batch, error) {
		if data, _ := d.Data(); string(data) == "first" {
			stall()
			return store.Batch{}, errors.New("undecodable")
		}
		return decodeNames(d)
	}
	lostRequest(t, decode, nil, &stall)
}

// lostRequest runs a worker on a stream of its own behind a proxy, publishes "first", waits
// until the worker calls *stall (which it sets) while handling it, cuts the stalled
// connection, publishes "after" once the client has reconnected, and returns the store once
// "after" is written.
func lostRequest(t *testing.T, decode Decoder, hooks []Hook, stall *func()) *fakeStore {
	t.Helper()
	proxy, q := proxiedQueue(t, 30*time.Second)
	log := slog.New(slog.DiscardHandler)
	stalled := make(chan struct{})
	var once sync.Once
	*stall = func() { once.Do(func() { proxy.Stall(); close(stalled) }) }

	st := &fakeStore{written: map[string]int{}}
	w := New(Config{BatchMsgs: 50, Linger: 5 * time.Millisecond, WriteTimeout: time.Minute},
		func(ctx context.Context) (Source, error) { return q.Consumer(ctx, 400) },
		decode, st, nil, hooks, prometheus.NewRegistry(), log)
	runUntilCleanup(t, w)

	if err := q.Publish(context.Background(), queue.SignalTraces, "p1", []byte("first")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stalled: // the worker's next request to NATS is lost
	case <-time.After(15 * time.Second):
		t.Fatal("the worker never handled the first message")
	}
	proxy.Cut() // the client notices and reconnects; the lost request's answer never comes
	proxy.Restore()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := q.Publish(context.Background(), queue.SignalTraces, "p1", []byte("after"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("publish after the reconnect: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	eventually(t, "the message published after the reconnect to be written", func() bool { return st.count("after") == 1 })
	return st
}

// TestSlowAcksAreNotRedelivered: every ack waits for the server's confirmation, so a batch's
// acks sent one after another take a round trip each. Behind a proxy that adds 80 ms to
// each round trip, the acks of a 150-message batch took 12 s one by one, the batch's
// ackTimeout (5 s) ran out after about 60, and the rest came back after the ack wait to be
// written again. Sent together, they are confirmed in about one round trip.
func TestSlowAcksAreNotRedelivered(t *testing.T) {
	const ackWait = 2 * time.Second
	proxy, q := proxiedQueue(t, ackWait)
	log := slog.New(slog.DiscardHandler)
	const n = 150
	for i := range n {
		if err := q.Publish(context.Background(), queue.SignalTraces, "p1", fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	proxy.Delay(40 * time.Millisecond) // each way

	st := &fakeStore{written: map[string]int{}}
	w := New(Config{BatchMsgs: 200, Linger: time.Second, WriteTimeout: time.Minute, AckProgress: ackWait / 4},
		func(ctx context.Context) (Source, error) { return q.Consumer(ctx, 400) },
		decodeNames, st, nil, nil, prometheus.NewRegistry(), log)
	runUntilCleanup(t, w)
	// Done when every message is acknowledged; one whose ack failed is acknowledged only
	// after its redelivery, written a second time.
	eventually(t, "every message to be written and acknowledged", func() bool {
		for i := range n {
			if st.count(fmt.Sprintf("m%d", i)) == 0 {
				return false
			}
		}
		stats, err := q.Stats(context.Background())
		return err == nil && stats.Pending == 0 && stats.AckPending == 0
	})
	for i := range n {
		if c := st.count(fmt.Sprintf("m%d", i)); c != 1 {
			t.Errorf("message m%d was written %d times, want 1", i, c)
		}
	}
}

// proxiedQueue opens a queue on a stream of its own, deleted when the test ends, through a
// proxy to the shared NATS.
func proxiedQueue(t *testing.T, ackWait time.Duration) (*testenv.Proxy, *queue.Queue) {
	t.Helper()
	raw := testenv.URL(t, testenv.NATSURL)
	proxy, proxied := testenv.ProxyURL(t, raw)
	name := strings.ToUpper(testenv.Name("LUMINA_WORKER_"))
	t.Cleanup(func() {
		if err := queue.DeleteStreams(context.Background(), raw, name); err != nil {
			t.Errorf("clean up streams: %v", err)
		}
	})
	q, err := queue.Open(context.Background(), queue.Config{URL: proxied, Stream: name, Subjects: strings.ToLower(name), AckWait: ackWait}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)
	return proxy, q
}
