package worker

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/use-lumina/lumina/internal/queue"
)

type metrics struct {
	batches      *prometheus.CounterVec
	spans        prometheus.Counter
	logs         prometheus.Counter
	duration     prometheus.Histogram
	lag          prometheus.Histogram
	deadLetters  *prometheus.CounterVec
	redeliveries prometheus.Counter
	redelivered  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lumina_worker_batches_total", Help: "Worker batches by outcome.",
		}, []string{"outcome"}),
		spans: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lumina_worker_spans_stored_total", Help: "Spans committed to the store (redeliveries included).",
		}),
		logs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lumina_worker_logs_stored_total", Help: "Log records committed to the store.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "lumina_worker_batch_duration_seconds", Help: "Time to decode, enrich, commit and acknowledge one batch.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "lumina_worker_lag_seconds", Help: "Time from a request's acceptance into the queue to its commit.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lumina_worker_dead_letters_total", Help: "Messages moved to the dead-letter stream.",
		}, []string{"signal"}),
		redeliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lumina_worker_naks_total", Help: "Messages handed back for redelivery after a failure.",
		}),
		redelivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lumina_worker_redelivered_total", Help: "Messages committed that had been delivered before (after a failure, a crash or an expired ack wait).",
		}),
	}
	reg.MustRegister(m.batches, m.spans, m.logs, m.duration, m.lag, m.deadLetters, m.redeliveries, m.redelivered)
	return m
}

func (m *metrics) observeBatch(spans, logs int, ds []*queue.Delivery, took time.Duration, now time.Time) {
	m.batches.WithLabelValues("committed").Inc()
	m.spans.Add(float64(spans))
	m.logs.Add(float64(logs))
	m.duration.Observe(took.Seconds())
	for _, d := range ds {
		if d.NumDelivered > 1 {
			m.redelivered.Inc()
		}
		if !d.Published.IsZero() {
			m.lag.Observe(now.Sub(d.Published).Seconds())
		}
	}
}
