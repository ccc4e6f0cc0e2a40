package alert

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/use-lumina/lumina/internal/store"
)

// OutboxStore is what the Dispatcher needs of the store.
type OutboxStore interface {
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Delivery, error)
	UpdateDelivery(ctx context.Context, d store.Delivery) error
	Channels(ctx context.Context, projectID string) ([]store.Channel, error)
}

// SendFunc makes one delivery attempt (Sender.Send).
type SendFunc func(ctx context.Context, ch store.Channel, d store.Delivery) Result

// DispatcherConfig tunes the delivery loop; zero fields take the defaults.
type DispatcherConfig struct {
	Poll        time.Duration // how often the outbox is read without a Notify (default 1 s)
	MaxAttempts int           // attempts before an item is given up (default 8)
	BaseBackoff time.Duration // wait after the first failure, doubled each time (default 2 s)
	MaxBackoff  time.Duration // cap of the wait (default 10 min)
	Batch       int           // items read per round (default 100)
	// Registerer receives the delivery metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Lease is how long a claimed item is kept from other dispatchers (default 2 min): an
	// item whose process died is sent again after it.
	Lease time.Duration
}

func (c *DispatcherConfig) defaults() {
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = 2 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 10 * time.Minute
	}
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
}

// Dispatcher drains the delivery outbox. Each channel's items go out one at a time in a
// goroutine of their own, so a slow or dead channel delays only itself; failures are
// retried with exponential backoff on 5xx, 429 and timeouts, and every attempt is recorded
// on the item. It runs apart from the worker: ingestion never waits for a channel.
type Dispatcher struct {
	cfg   DispatcherConfig
	store OutboxStore
	send  SendFunc
	now   func() time.Time
	log   *slog.Logger
	wake  chan struct{}
	took  chan struct{} // Take was called
	m     *metrics

	mu     sync.Mutex
	taken  []claimed                   // items handed over by Take, not queued yet
	queue  map[string][]store.Delivery // claimed items waiting for their channel's sender
	queued map[string]bool             // ids in queue or being sent
	busy   map[string]bool             // channels whose sender goroutine runs
	wg     sync.WaitGroup
}

// NewDispatcher returns a dispatcher.
func NewDispatcher(cfg DispatcherConfig, st OutboxStore, send SendFunc, now func() time.Time, logger *slog.Logger) *Dispatcher {
	cfg.defaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{cfg: cfg, store: st, send: send, now: now, log: logger,
		wake: make(chan struct{}, 1), took: make(chan struct{}, 1),
		m:     &metrics{deliveries: deliveryMetric(cfg.Registerer)},
		queue: map[string][]store.Delivery{}, queued: map[string]bool{}, busy: map[string]bool{}}
}

// Notify asks for a round now; it never blocks.
func (d *Dispatcher) Notify() { poke(d.wake) }

// poke wakes the loop waiting on c without blocking.
func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// claimed is an item its process enqueued claimed for this dispatcher, with its channel.
type claimed struct {
	item    store.Delivery
	channel store.Channel
}

// LeaseEnd is until when an item enqueued now for Take must be claimed
// (store.AlertStore.EnqueueClaimed).
func (d *Dispatcher) LeaseEnd() time.Time { return d.now().Add(d.cfg.Lease) }

// Take hands over items that were enqueued claimed until LeaseEnd, with the channels of
// their projects (by project): Run sends them at once, without reading the outbox back. It
// never blocks; an item Run does not send before its lease ends is claimed again from the
// store.
func (d *Dispatcher) Take(items []store.Delivery, channels map[string][]store.Channel) {
	d.mu.Lock()
	for _, it := range items {
		c := claimed{item: it}
		if i := slices.IndexFunc(channels[it.ProjectID], func(ch store.Channel) bool { return ch.ID == it.ChannelID }); i >= 0 {
			c.channel = channels[it.ProjectID][i]
		}
		d.taken = append(d.taken, c)
	}
	d.mu.Unlock()
	poke(d.took)
}

// Run delivers until ctx ends, then waits for the sends in flight (which ctx cancels).
func (d *Dispatcher) Run(ctx context.Context) error {
	defer d.wg.Wait()
	t := time.NewTicker(d.cfg.Poll)
	defer t.Stop()
	d.Round(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			d.Round(ctx)
		case <-d.wake:
			d.Round(ctx)
		case <-d.took:
			d.mu.Lock()
			taken := d.taken
			d.taken = nil
			d.mu.Unlock()
			for _, c := range taken {
				d.queueItem(ctx, c.item, c.channel)
			}
		}
	}
}

// Round claims the due items and hands them to their channels' senders, starting a sender
// goroutine for each channel that has none; it does not wait for the sends (Wait does).
func (d *Dispatcher) Round(ctx context.Context) {
	due, err := d.store.ClaimDeliveries(ctx, d.now(), d.cfg.Lease, d.cfg.Batch)
	if err != nil || len(due) == 0 {
		if err != nil && ctx.Err() == nil {
			d.log.Warn("read alert outbox failed", "err", err)
		}
		return
	}
	channels, err := d.store.Channels(ctx, "")
	if err != nil {
		d.log.Warn("read alert channels failed; the claimed items are retried after their lease", "err", err)
		return
	}
	byID := map[[2]string]store.Channel{}
	for _, c := range channels {
		byID[[2]string{c.ProjectID, c.ID}] = c
	}
	for _, item := range due {
		d.queueItem(ctx, item, byID[[2]string{item.ProjectID, item.ChannelID}])
	}
}

// queueItem hands a claimed item to its channel's sender, starting one when the channel has
// none; ch is the zero Channel when the item's channel no longer exists.
func (d *Dispatcher) queueItem(ctx context.Context, item store.Delivery, ch store.Channel) {
	if ch.ID == "" || !ch.Enabled {
		d.giveUp(ctx, item, "channel deleted or disabled")
		return
	}
	k := item.ProjectID + "\x00" + item.ChannelID
	d.mu.Lock()
	if d.queued[item.ID] {
		d.mu.Unlock()
		return // its lease ran out while it waited behind a slow send
	}
	d.queued[item.ID] = true
	d.queue[k] = append(d.queue[k], item)
	start := !d.busy[k]
	d.busy[k] = true
	d.mu.Unlock()
	if start {
		d.wg.Add(1)
		go d.drain(ctx, k, ch)
	}
}

// drain sends a channel's queued items one at a time until the queue is empty.
func (d *Dispatcher) drain(ctx context.Context, k string, ch store.Channel) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		if len(d.queue[k]) == 0 || ctx.Err() != nil {
			for _, item := range d.queue[k] {
				delete(d.queued, item.ID) // left to their lease
			}
			delete(d.queue, k)
			delete(d.busy, k)
			d.mu.Unlock()
			return
		}
		item := d.queue[k][0]
		d.queue[k] = d.queue[k][1:]
		d.mu.Unlock()
		d.attempt(ctx, ch, item)
		d.mu.Lock()
		delete(d.queued, item.ID)
		d.mu.Unlock()
	}
}

// Wait blocks until the sends started by earlier rounds are done.
func (d *Dispatcher) Wait() { d.wg.Wait() }

// attempt sends one item and records the outcome on it.
func (d *Dispatcher) attempt(ctx context.Context, ch store.Channel, item store.Delivery) {
	res := d.send(ctx, ch, item)
	if ctx.Err() != nil {
		return // shutting down: the attempt does not count, the item stays due
	}
	now := d.now()
	item.Attempts++
	item.UpdatedAt, item.LastStatus, item.LastError = now.UTC(), res.Status, ""
	outcome := "retry"
	defer func() { d.m.deliveries.WithLabelValues(ch.Type, outcome).Inc() }()
	switch {
	case res.Err == nil:
		item.Status, outcome = store.DeliveryDelivered, "delivered"
	case res.Retryable && item.Attempts < d.cfg.MaxAttempts:
		item.Status, item.LastError = store.DeliveryPending, res.Err.Error()
		item.NextAttempt = now.Add(max(d.backoff(item.Attempts), res.RetryAfter)).UTC()
	default:
		item.Status, item.LastError, outcome = store.DeliveryFailed, res.Err.Error(), "failed"
		d.log.Warn("alert delivery failed for good", "channel", ch.ID, "alert", item.AlertID, "attempts", item.Attempts, "err", res.Err)
	}
	d.update(ctx, item)
}

func (d *Dispatcher) giveUp(ctx context.Context, item store.Delivery, why string) {
	item.Status, item.LastError, item.UpdatedAt = store.DeliveryFailed, why, d.now().UTC()
	d.update(ctx, item)
}

func (d *Dispatcher) update(ctx context.Context, item store.Delivery) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := d.store.UpdateDelivery(uctx, item); err != nil {
		d.log.Warn("record alert delivery attempt failed; it may be sent again", "delivery", item.ID, "err", err)
	}
}

// backoff is the wait after the n-th failed attempt: BaseBackoff × 2^(n-1), capped.
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.cfg.BaseBackoff
	for i := 1; i < n && b < d.cfg.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, d.cfg.MaxBackoff)
}
