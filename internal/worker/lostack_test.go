package worker

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/use-lumina/lumina/internal/queue"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/testenv"
)

// TestLostAckDoesNotStallTheWriter: an ack written just as the connection to NATS breaks is
// never answered. The worker must go on committing the batches behind it instead of waiting
// for that answer until WriteTimeout (a minute), which is what it did: an outage of a few
// seconds stalled the store writer for a minute after NATS came back.
func TestLostAckDoesNotStallTheWriter(t *testing.T) {
	raw := testenv.URL(t, testenv.NATSURL)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	name := strings.ToUpper(testenv.Name("LUMINA_WORKER_"))
	t.Cleanup(func() { deleteStreams(t, raw, name) })
	log := slog.New(slog.DiscardHandler)
	q, err := queue.Open(context.Background(), queue.Config{URL: u.String(), Stream: name, Subjects: strings.ToLower(name), AckWait: 30 * time.Second}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)

	st := &fakeStore{written: map[string]int{}}
	stalled := make(chan struct{})
	var once sync.Once
	stallAfterCommit := func(_ context.Context, b store.Batch) { // hooks run between commit and ack
		for _, s := range b.Spans {
			if s.Name == "before" {
				once.Do(func() { proxy.Stall(); close(stalled) })
			}
		}
	}
	w := New(Config{BatchMsgs: 50, Linger: 5 * time.Millisecond, WriteTimeout: time.Minute},
		func(ctx context.Context) (Source, error) { return q.Consumer(ctx, 400) },
		decodeNames, st, nil, []Hook{stallAfterCommit}, prometheus.NewRegistry(), log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})

	if err := q.Publish(context.Background(), queue.SignalTraces, "p1", []byte("before")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stalled: // "before" is committed and its ack is being lost
	case <-time.After(15 * time.Second):
		t.Fatal("the first message was never committed")
	}
	proxy.Cut() // the client notices, reconnects, and the lost ack's answer never comes
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
	eventually(t, "the message published after the reconnect to be committed", func() bool { return st.count("after") == 1 })
}

// deleteStreams removes a test's streams from the shared NATS.
func deleteStreams(t *testing.T, raw, name string) {
	nc, err := nats.Connect(raw)
	if err != nil {
		t.Errorf("clean up streams: %v", err)
		return
	}
	defer nc.Close()
	js, _ := nc.JetStream()
	_ = js.DeleteStream(name)
	_ = js.DeleteStream(name + "_DEAD")
}
