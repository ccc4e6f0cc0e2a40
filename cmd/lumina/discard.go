package main

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/use-lumina/lumina/internal/queue"
	"github.com/use-lumina/lumina/internal/store"
)

// storeDiscard is the benchmark-only value of --store / LUMINA_STORE. Ingest still decodes
// and checks every request and publishes it durably to the queue before answering; the
// worker then acknowledges each queued request and drops it, without decoding, enriching,
// storing, alerting or judging. It exists so bench/side-by-side.sh can compare Lumina's
// ingest path with an OpenTelemetry Collector exporting to nop. Never use it in production:
// everything accepted is thrown away.
const storeDiscard = "discard"

func (c *config) validateStore() []error {
	if c.Store != "" && c.Store != storeDiscard {
		return []error{fmt.Errorf("--store %q: want empty (store normally) or %q (benchmark only: drops everything)", c.Store, storeDiscard)}
	}
	return nil
}

// startDiscardWorker runs the real consume loop (batching, ack) over a decoder that keeps
// nothing and a store that writes nothing. It counts the requests it dropped in
// lumina_worker_discarded_requests_total.
func (a *app) startDiscardWorker(ctx context.Context) error {
	a.log.Warn("LUMINA_STORE=discard: benchmark mode, every accepted request is acknowledged and dropped, nothing is stored")
	dropped := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "lumina_worker_discarded_requests_total",
		Help: "Queued requests acknowledged and dropped unread (--store discard, benchmark only).",
	})
	a.registry.MustRegister(dropped)
	concurrency := max(a.cfg.WorkerConcurrency, 1)
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.workerCancel = cancel
	a.runWorker(wctx, concurrency,
		func(*queue.Delivery) (store.Batch, error) { dropped.Inc(); return store.Batch{}, nil },
		discardStore{}, nil, nil)
	return nil
}

// discardStore is the worker's store in discard mode: every write succeeds and keeps nothing.
type discardStore struct{}

func (discardStore) Write(context.Context, store.Batch) error { return nil }
func (discardStore) Ping(context.Context) error               { return nil }
