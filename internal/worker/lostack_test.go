package worker

import (
	"context"
	"errors"
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
	raw := testenv.URL(t, testenv.NATSURL)
	proxy, proxied := testenv.ProxyURL(t, raw)
	name := strings.ToUpper(testenv.Name("LUMINA_WORKER_"))
	t.Cleanup(func() {
		if err := queue.DeleteStreams(context.Background(), raw, name); err != nil {
			t.Errorf("clean up streams: %v", err)
		}
	})
	log := slog.New(slog.DiscardHandler)
	q, err := queue.Open(context.Background(), queue.Config{URL: proxied, Stream: name, Subjects: strings.ToLower(name), AckWait: 30 * time.Second}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)
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
