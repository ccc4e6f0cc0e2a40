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
type Consumer struct {
	q  *Queue
	it jetstream.MessagesContext
}

// Consumer attaches to (creating or updating) the shared durable pull consumer. The
// consumer never gives up on a message by itself: the worker decides when a message is
// poison and moves it to the dead-letter stream, so a long store outage loses nothing.
func (q *Queue) Consumer(ctx context.Context, maxMessages, maxBytes int) (*Consumer, error) {
	c, err := q.js.CreateOrUpdateConsumer(ctx, q.cfg.Stream, jetstream.ConsumerConfig{
		Durable:       q.cfg.Consumer,
		Description:   "Lumina workers",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: 4 * maxMessages,
		Replicas:      q.cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", q.cfg.Consumer, err)
	}
	it, err := c.Messages(jetstream.PullMaxMessagesWithBytesLimit(maxMessages, maxBytes))
	if err != nil {
		return nil, fmt.Errorf("pull from consumer %s: %w", q.cfg.Consumer, err)
	}
	return &Consumer{q: q, it: it}, nil
}

// Delivery is one delivered request.
type Delivery struct {
	msg          jetstream.Msg
	Signal       string
	ProjectID    string
	NumDelivered uint64
	Published    time.Time // when the stream stored the message
}

// Data is the request body as published.
func (d *Delivery) Data() []byte { return d.msg.Data() }

// Size is the message's size in bytes.
func (d *Delivery) Size() int { return len(d.msg.Data()) }

// Ack acknowledges the message; it waits for the server's confirmation so an ack is never
// lost silently.
func (d *Delivery) Ack(ctx context.Context) error { return d.msg.DoubleAck(ctx) }

// Nak asks for redelivery after delay.
func (d *Delivery) Nak(delay time.Duration) error { return d.msg.NakWithDelay(delay) }

// Next waits for up to max messages: it blocks until the first arrives (or ctx ends), then
// takes whatever follows within linger, so a busy stream yields full batches and a quiet
// one answers at once.
func (c *Consumer) Next(ctx context.Context, max int, maxBytes int, linger time.Duration) ([]*Delivery, error) {
	first, err := c.it.Next(jetstream.NextContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("next message: %w", err)
	}
	out := []*Delivery{c.delivery(first)}
	size := len(first.Data())
	deadline := time.Now().Add(linger)
	for len(out) < max && size < maxBytes {
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		m, err := c.it.Next(jetstream.NextMaxWait(wait))
		if err != nil {
			break // timeout: the batch is what arrived in time
		}
		out = append(out, c.delivery(m))
		size += len(m.Data())
	}
	return out, nil
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
// dropped silently.
func (c *Consumer) DeadLetter(ctx context.Context, d *Delivery, reason string) error {
	subject := fmt.Sprintf("%s.dead.%s.%s", c.q.cfg.Subjects, d.Signal, d.ProjectID)
	msg := nats.NewMsg(subject)
	msg.Data = d.msg.Data()
	msg.Header.Set(headerSignal, d.Signal)
	msg.Header.Set(headerProject, d.ProjectID)
	msg.Header.Set(headerReason, reason)
	if _, err := c.q.js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("publish dead letter: %w", err)
	}
	return d.msg.DoubleAck(ctx)
}

// Stop ends the pull; undelivered prefetched messages are redelivered after the ack wait.
func (c *Consumer) Stop() { c.it.Stop() }

// IsClosed reports whether err means the consumer can no longer deliver.
func IsClosed(err error) bool {
	return errors.Is(err, jetstream.ErrMsgIteratorClosed) || errors.Is(err, nats.ErrConnectionClosed)
}
