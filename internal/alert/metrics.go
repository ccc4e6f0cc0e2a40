package alert

import "github.com/prometheus/client_golang/prometheus"

// metrics counts what the engine and the dispatcher do, per span and per delivery, so
// nothing needs logging at that rate. A nil registerer leaves them unregistered.
type metrics struct {
	spans      *prometheus.CounterVec // by outcome: evaluated, redelivered, ignored
	fired      *prometheus.CounterVec // by rule type
	resolved   *prometheus.CounterVec // by resolved_by
	failures   prometheus.Counter     // store writes that failed (retried)
	merged     prometheus.Counter     // opens that found the dedup key open in another process
	evaluation prometheus.Histogram
	deliveries *prometheus.CounterVec // the dispatcher's: by channel type and outcome
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		spans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lumina_alert_spans_total", Help: "Spans seen by the alert engine, by outcome (evaluated, redelivered: skipped as already seen, ignored: neither a model call nor a root span).",
		}, []string{"outcome"}),
		fired: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lumina_alerts_fired_total", Help: "Alerts opened, by rule type.",
		}, []string{"type"}),
		resolved: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lumina_alerts_resolved_total", Help: "Alerts resolved, by who resolved them (auto, user, replaced).",
		}, []string{"by"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lumina_alert_write_failures_total", Help: "Alert store writes that failed and were kept for the next tick.",
		}),
		merged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lumina_alerts_merged_total", Help: "Alerts this process opened that another process had already opened for the same dedup key: stored as repeats of that alert.",
		}),
		evaluation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "lumina_alert_evaluation_seconds", Help: "Time to evaluate one committed batch (in memory, before the store writes).",
			Buckets: prometheus.ExponentialBuckets(0.00001, 4, 10),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.spans, m.fired, m.resolved, m.failures, m.merged, m.evaluation)
	}
	return m
}

// deliveryMetric is the dispatcher's counter, registered apart from the engine's metrics so
// the two may share one registry.
func deliveryMetric(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lumina_alert_delivery_attempts_total", Help: "Delivery attempts, by channel type and outcome (delivered, retry, failed).",
	}, []string{"channel", "outcome"})
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}
