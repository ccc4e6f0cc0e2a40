package alert

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// outboxHarness is a dispatcher on a fake store with a hand-moved clock.
type outboxHarness struct {
	store *fakeStore
	clock *clock
	d     *Dispatcher
}

func newOutbox(t *testing.T, channels ...store.Channel) *outboxHarness {
	h := &outboxHarness{store: newFakeStore(), clock: &clock{t: t0}}
	h.store.channels = channels
	sender := &Sender{Now: h.clock.now, Timeout: 2 * time.Second}
	h.d = NewDispatcher(DispatcherConfig{BaseBackoff: time.Second, MaxAttempts: 4}, h.store, sender.Send, h.clock.now, nil)
	return h
}

func (h *outboxHarness) enqueue(channel string) {
	a := fixedAlert()
	_ = h.store.EnqueueDeliveries(context.Background(), []store.Delivery{{
		ID: a.ID + ":trigger:" + channel, ProjectID: "default", AlertID: a.ID, ChannelID: channel, Event: store.EventTrigger,
		Alert: a, Status: store.DeliveryPending, NextAttempt: h.clock.now(), CreatedAt: h.clock.now(),
	}})
}

func (h *outboxHarness) round() {
	h.d.Round(context.Background())
	h.d.Wait()
}

// delivery is the stored item of a channel.
func (f *fakeStore) delivery(channel string) store.Delivery {
	for _, d := range f.deliveriesOf("") {
		if d.ChannelID == channel {
			return d
		}
	}
	return store.Delivery{}
}

func TestRetryAfter500s(t *testing.T) {
	rcv := newReceiver(t, 500, 503)
	h := newOutbox(t, store.Channel{ID: "hook", ProjectID: "default", Type: store.ChannelWebhook, URL: rcv.URL, Enabled: true})
	h.enqueue("hook")
	h.round()
	d := h.store.delivery("hook")
	if d.Status != store.DeliveryPending || d.Attempts != 1 || d.LastStatus != 500 || !d.NextAttempt.Equal(t0.Add(time.Second)) {
		t.Fatalf("after a 500: got %+v, want pending, 1 attempt, next in 1 s", d)
	}
	h.round() // not due yet: nothing is sent
	if bodies, _ := rcv.requests(); len(bodies) != 1 {
		t.Fatalf("before the backoff: got %d requests, want 1", len(bodies))
	}
	h.clock.add(time.Second)
	h.round()
	d = h.store.delivery("hook")
	if d.Attempts != 2 || d.LastStatus != 503 || !d.NextAttempt.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("after a 503: got %+v, want 2 attempts, next 2 s later", d)
	}
	h.clock.add(2 * time.Second)
	h.round()
	d = h.store.delivery("hook")
	if d.Status != store.DeliveryDelivered || d.Attempts != 3 || d.LastStatus != 200 || d.LastError != "" {
		t.Fatalf("third attempt: got %+v, want delivered after 3 attempts", d)
	}
	if bodies, _ := rcv.requests(); len(bodies) != 3 {
		t.Errorf("got %d requests, want 3", len(bodies))
	}
}

func TestGiveUp(t *testing.T) {
	perm := newReceiver(t, 400)
	flaky := newReceiver(t, 500, 500, 500, 500, 500)
	h := newOutbox(t,
		store.Channel{ID: "perm", ProjectID: "default", Type: store.ChannelSlack, URL: perm.URL, Enabled: true},
		store.Channel{ID: "flaky", ProjectID: "default", Type: store.ChannelSlack, URL: flaky.URL, Enabled: true},
		store.Channel{ID: "off", ProjectID: "default", Type: store.ChannelSlack, URL: perm.URL})
	h.enqueue("perm")
	h.enqueue("flaky")
	h.enqueue("off")
	h.enqueue("deleted")
	for range 4 {
		h.round()
		h.clock.add(time.Hour)
	}
	for _, tc := range []struct {
		ch       string
		attempts int
	}{{"perm", 1}, {"flaky", 4}, {"off", 0}, {"deleted", 0}} {
		if d := h.store.delivery(tc.ch); d.Status != store.DeliveryFailed || d.Attempts != tc.attempts || d.LastError == "" {
			t.Errorf("%s: got %+v, want failed after %d attempts with an error", tc.ch, d, tc.attempts)
		}
	}
}

func TestDeadChannelDoesNotBlockOthers(t *testing.T) {
	release := make(chan struct{})
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // hangs until the test ends or the sender gives up
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer dead.Close()
	good := newReceiver(t)
	h := newOutbox(t,
		store.Channel{ID: "dead", ProjectID: "default", Type: store.ChannelWebhook, URL: dead.URL, Enabled: true},
		store.Channel{ID: "good", ProjectID: "default", Type: store.ChannelWebhook, URL: good.URL, Enabled: true})
	// A sender timeout far beyond the test, so the hung send cannot end on its own.
	h.d.send = (&Sender{Now: h.clock.now, Timeout: 10 * time.Minute}).Send
	h.enqueue("dead")
	h.d.Round(context.Background()) // the dead channel's send is now in flight
	h.enqueue("good")
	h.d.Round(context.Background()) // the dead channel is busy: skipped; the good one goes out
	done := make(chan struct{})
	go func() {
		for {
			if h.store.delivery("good").Status == store.DeliveryDelivered {
				close(done)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the good channel's delivery never completed while the dead one hung")
	}
	if d := h.store.delivery("dead"); d.Attempts != 0 {
		t.Errorf("dead channel: got %d attempts recorded while its send hangs, want 0", d.Attempts)
	}
	close(release)
	h.d.Wait()
}

func TestDispatcherRunStopsWithItsContext(t *testing.T) {
	rcv := newReceiver(t)
	h := newOutbox(t, store.Channel{ID: "hook", ProjectID: "default", Type: store.ChannelWebhook, URL: rcv.URL, Enabled: true})
	h.enqueue("hook")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- h.d.Run(ctx) }()
	h.d.Notify()
	for h.store.delivery("hook").Status != store.DeliveryDelivered {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// An engine hands the deliveries of its alerts to its process's dispatcher: they are stored
// claimed and go out without the dispatcher reading the outbox; when that dispatcher never
// runs (its process died), another one sends them once the lease ends.
func TestEngineHandsDeliveriesToItsDispatcher(t *testing.T) {
	setup := func(t *testing.T) (*harness, *receiver, *Dispatcher) {
		rcv := newReceiver(t)
		h := &harness{t: t, store: newFakeStore(), clock: &clock{t: t0}}
		h.store.channels = []store.Channel{{ID: "hook", ProjectID: "p", Type: store.ChannelWebhook, URL: rcv.URL, Enabled: true}}
		sender := &Sender{Now: h.clock.now, Timeout: 2 * time.Second}
		d := NewDispatcher(DispatcherConfig{Poll: time.Hour, Lease: time.Minute}, h.store, sender.Send, h.clock.now, nil)
		h.e = New(Config{}, h.store, h.clock.now, d, nil)
		if err := h.e.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		return h, rcv, d
	}
	spike := func(h *harness) {
		h.observe(repeat(20, call{cost: 1})...)
		h.observe(call{cost: 10})
	}

	t.Run("its dispatcher sends at once", func(t *testing.T) {
		h, rcv, d := setup(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		spike(h)
		deadline := time.Now().Add(5 * time.Second)
		for h.store.delivery("hook").Status != store.DeliveryDelivered {
			if time.Now().After(deadline) {
				t.Fatalf("no delivery within 5 s: %+v", h.store.deliveriesOf(""))
			}
			time.Sleep(time.Millisecond)
		}
		cancel()
		<-done
		if bodies, _ := rcv.requests(); len(bodies) != 1 {
			t.Errorf("got %d webhook requests, want 1", len(bodies))
		}
		h.store.mu.Lock()
		claims := h.store.claims
		h.store.mu.Unlock()
		if claims > 1 { // the round Run starts with; the poll is an hour
			t.Errorf("the dispatcher read the outbox %d times, want only its first round", claims)
		}
	})

	t.Run("another dispatcher sends after the lease", func(t *testing.T) {
		h, rcv, _ := setup(t) // its dispatcher never runs
		spike(h)
		d := h.store.delivery("hook")
		if d.Status != store.DeliveryPending || d.Event != store.EventTrigger {
			t.Fatalf("stored delivery: got %+v, want a pending trigger", d)
		}
		sender := &Sender{Now: h.clock.now, Timeout: 2 * time.Second}
		other := NewDispatcher(DispatcherConfig{Lease: time.Minute}, h.store, sender.Send, h.clock.now, nil)
		other.Round(context.Background())
		other.Wait()
		if bodies, _ := rcv.requests(); len(bodies) != 0 {
			t.Fatalf("within the lease: got %d webhook requests, want 0", len(bodies))
		}
		h.clock.add(time.Minute)
		other.Round(context.Background())
		other.Wait()
		if bodies, _ := rcv.requests(); len(bodies) != 1 || h.store.delivery("hook").Status != store.DeliveryDelivered {
			t.Errorf("after the lease: got %d webhook requests and %+v, want 1, delivered", len(bodies), h.store.delivery("hook"))
		}
	})
}
