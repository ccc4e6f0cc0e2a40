package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Consumer pulls messages from the durable consumer that all worker processes share. One
// Consumer belongs to one goroutine.
//
// It fetches on demand, one batch per Next, and never prefetches: a delivered message's ack
// wait starts when the server delivers it, so a message waiting in a client-side buffer
// behind a slow batch would be redelivered to another worker before this one even saw it.
// The one exception is a fetch that Next cuts short because its writer became free: what
// that fetch still delivers (within the linger) opens the next batch, which the worker asks
// for as soon as it handed the current one over. Once Next has returned a message, the
// worker keeps it alive with InProgress.
type Consumer struct {
	q    *Queue
	cons jetstream.Consumer
	open jetstream.MessageBatch // a fetch the last Next cut short, read first by the next
	// stored and body are the bytes of the messages delivered lately as stored (compressed)
	// and decoded: a fetch's byte limit counts stored bytes, a batch's counts body bytes.
	stored, body int64
}

// pollWait bounds one long poll for the first message of a batch; Next polls again after it.
const pollWait = 5 * time.Second

// Consumer attaches to (creating or updating) the shared durable pull consumer. The
// consumer never gives up on a message by itself: the worker decides when a message is
// poison and moves it to the dead-letter stream, so a long store outage loses nothing.
// maxAckPending bounds the messages delivered and not yet acknowledged across every worker
// process (the last process to start sets it).
func (q *Queue) Consumer(ctx context.Context, maxAckPending int) (*Consumer, error) {
	c, err := q.js.CreateOrUpdateConsumer(ctx, q.cfg.Stream, jetstream.ConsumerConfig{
		Durable:       q.cfg.Consumer,
		Description:   "Lumina workers",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: maxAckPending,
		Replicas:      q.cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", q.cfg.Consumer, err)
	}
	return &Consumer{q: q, cons: c}, nil
}

// Delivery is one delivered request.
type Delivery struct {
	msg          jetstream.Msg
	Signal       string
	ProjectID    string
	NumDelivered uint64
	Published    time.Time // when the stream stored the message
}

// Data is the request body as published (decompressed). An error means the message is
// corrupt: it can never be processed.
func (d *Delivery) Data() ([]byte, error) { return decode(d.msg.Headers(), d.msg.Data()) }

// Size is the request body's size in bytes.
func (d *Delivery) Size() int { return bodySize(d.msg.Headers(), d.msg.Data()) }

// Ack acknowledges the message; it waits for the server's confirmation so an ack is never
// lost silently.
func (d *Delivery) Ack(ctx context.Context) error { return d.msg.DoubleAck(ctx) }

// InProgress tells the server the message is still being worked on, which restarts its ack
// wait: the worker sends it while a batch waits for the writer or takes long to commit.
func (d *Delivery) InProgress() error { return d.msg.InProgress() }

// Nak asks for redelivery after delay.
func (d *Delivery) Nak(delay time.Duration) error { return d.msg.NakWithDelay(delay) }

// lingerStep is how often a lingering Next asks whether to keep waiting.
const lingerStep = 2 * time.Millisecond

// Next waits for up to max messages (and about maxBytes): it blocks until the first arrives
// (or ctx ends), then takes whatever follows within linger, so a busy stream yields full
// batches. wait, when not nil, says whether lingering is still worth it (the writer the
// batch is for is busy): once it reports false the batch is what has arrived, so a quiet
// stream answers at once and a free writer never waits for a batch to fill. One fetch
// covers the whole linger; a fetch cut short stays open for the next call.
func (c *Consumer) Next(ctx context.Context, max int, maxBytes int, linger time.Duration, wait func() bool) ([]*Delivery, error) {
	var out []*Delivery
	size := 0
	add := func(m jetstream.Msg) {
		d := c.delivery(m)
		out = append(out, d)
		n := d.Size()
		size += n
		c.stored += int64(storedSize(m))
		c.body += int64(n)
		if c.body > ratioWindow { // older messages count for less
			c.stored, c.body = c.stored/2, c.body/2
		}
	}
	for len(out) == 0 {
		if c.open != nil { // the first message of what the last call left open, if any
			m, err := c.fromOpen(ctx, nil)
			if err != nil {
				return out, err
			}
			if m != nil {
				add(m)
			}
			continue
		}
		poll, cancel := context.WithTimeout(ctx, pollWait)
		b, err := c.cons.Fetch(1, jetstream.FetchContext(poll))
		if err == nil {
			for m := range b.Messages() {
				add(m)
			}
			err = b.Error()
		}
		cancel()
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return out, fmt.Errorf("next message: %w", err)
		}
	}
	deadline := time.Now().Add(linger)
	var tick <-chan time.Time
	if wait != nil {
		t := time.NewTicker(lingerStep)
		defer t.Stop()
		tick = t.C
	}
	fresh, got := false, 0 // whether c.open was fetched by this call, and what it delivered
	// A fetch is read to its end even once the batch has its bytes (a little more, when the
	// stored bytes asked for held more body than expected): what it delivered and the batch
	// left behind would wait unread, and not kept alive, while the worker writes this batch
	// and the one before it, which can outlast the ack wait.
	for len(out) < max && (size < maxBytes || c.open != nil) {
		if wait != nil && !wait() {
			// The writer is free: what the open fetch already holds joins this batch
			// (its ack wait is running), what is still to come opens the next one.
			for c.open != nil && len(out) < max && size < maxBytes {
				m := c.readyFromOpen()
				if m == nil {
					break
				}
				add(m)
			}
			break
		}
		if c.open == nil {
			left := time.Until(deadline)
			if left <= 0 || (fresh && got == 0) {
				break // the linger ran out, or nothing else is there
			}
			b, err := c.cons.Fetch(max-len(out), jetstream.FetchMaxBytes(c.storedBytes(maxBytes-size)), jetstream.FetchMaxWait(left))
			if err != nil {
				break
			}
			c.open, fresh, got = b, true, 0
		}
		m, err := c.fromOpen(ctx, tick)
		if err != nil {
			return out, nil // what arrived is still a batch
		}
		if m != nil {
			add(m)
			got++
		}
	}
	return out, nil
}

// storedBytes is about the stored bytes of messages with body bytes of body, at the ratio
// of the messages delivered lately. A fetch's byte limit counts stored bytes, so asking
// for body bytes of compressed messages delivered several batches' worth (3.5 times more
// with the loadgen's requests). When the next message compresses worse than those, the
// fetch may end before it, and it opens the next batch.
func (c *Consumer) storedBytes(body int) int {
	if c.body == 0 {
		return body
	}
	return max(int(int64(body)*c.stored/c.body), 1)
}

// storedSize is what m counts against a fetch's byte limit: its subject, ack reply subject,
// headers as sent ("NATS/1.0", then a "key: value" line each, then an empty line) and data.
func storedSize(m jetstream.Msg) int {
	n := len(m.Subject()) + len(m.Reply()) + len(m.Data()) + len("NATS/1.0\r\n\r\n")
	for k, vs := range m.Headers() {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// ratioWindow is about how many body bytes the ratio of storedBytes reflects.
const ratioWindow = 256 << 20

// readyFromOpen returns the open fetch's next message if it has already arrived, without
// waiting; nil otherwise (dropping the fetch once it has ended).
func (c *Consumer) readyFromOpen() jetstream.Msg {
	select {
	case m, ok := <-c.open.Messages():
		if !ok {
			c.open = nil
			return nil
		}
		return m
	default:
		return nil
	}
}

// fromOpen waits for the next message of the open fetch until tick fires (a nil tick never
// does) or ctx ends. It returns no message when tick fired or the fetch has ended, which it
// then drops.
func (c *Consumer) fromOpen(ctx context.Context, tick <-chan time.Time) (jetstream.Msg, error) {
	select {
	case m, ok := <-c.open.Messages():
		if !ok {
			c.open = nil
			return nil, nil
		}
		return m, nil
	case <-tick:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *Consumer) delivery(m jetstream.Msg) *Delivery {
	d := &Delivery{msg: m, Signal: m.Headers().Get(headerSignal), ProjectID: m.Headers().Get(headerProject), NumDelivered: 1}
	if md, err := m.Metadata(); err == nil {
		d.NumDelivered, d.Published = md.NumDelivered, md.Timestamp
	}
	return d
}

// DeadLetter moves a message that cannot be processed to the dead-letter stream, with the
// reason, and only then acknowledges it (the dead-letter copy now owns it), so nothing is
// dropped silently. Each step waits at most the publish timeout for the server's answer,
// which a request written as the connection broke never gets.
func (c *Consumer) DeadLetter(ctx context.Context, d *Delivery, reason string) error {
	ctx, cancel := context.WithTimeout(ctx, c.q.cfg.PublishTimeout)
	defer cancel()
	subject := fmt.Sprintf("%s.dead.%s.%s", c.q.cfg.Subjects, d.Signal, d.ProjectID)
	msg := nats.NewMsg(subject)
	msg.Data = d.msg.Data() // as stored: compressed or not, with the headers that say so
	for _, h := range []string{headerEncoding, headerSize} {
		if v := d.msg.Headers().Get(h); v != "" {
			msg.Header.Set(h, v)
		}
	}
	msg.Header.Set(headerSignal, d.Signal)
	msg.Header.Set(headerProject, d.ProjectID)
	msg.Header.Set(headerReason, reason)
	if _, err := c.q.js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("publish dead letter: %w", err)
	}
	return d.msg.DoubleAck(ctx)
}

// Stop releases the consumer. Nothing is prefetched, so nothing is left behind: a fetch in
// progress ends with the context given to Next.
func (c *Consumer) Stop() {}

// IsClosed reports whether err means the consumer can no longer deliver.
func IsClosed(err error) bool {
	return errors.Is(err, nats.ErrConnectionClosed)
}
