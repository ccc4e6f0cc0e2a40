package otlp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Publisher durably stores one accepted request. It returns nil only once the request is
// safe; errors are retryable for the client (the queue is unavailable or full). An error
// that wraps one with a QueueFull() bool method returning true (queue.ErrFull) says the
// queue is full: the receiver then refuses the requests of the next fullHold unread (see
// Receiver.refuseFull).
type Publisher interface {
	Publish(ctx context.Context, signal, projectID string, body []byte) error
}

// ProjectFunc says which project a request belongs to, from its headers. It returns an
// error wrapping ErrUnauthenticated when the request carries no valid credentials (401 /
// UNAUTHENTICATED); any other error means they could not be checked (503 / UNAVAILABLE).
type ProjectFunc func(ctx context.Context, header http.Header) (string, error)

// ErrUnauthenticated marks a request without valid credentials.
var ErrUnauthenticated = errors.New("unauthenticated")

// DefaultProject puts every request in project "default" (AUTH_REQUIRED=false).
func DefaultProject(context.Context, http.Header) (string, error) { return "default", nil }

// Config configures the receivers.
type Config struct {
	// MaxBodyBytes limits a request body, checked both as sent and after decompression,
	// so a gzip bomb is refused. Default 16 MiB.
	MaxBodyBytes int64
	Project      ProjectFunc
	// MaxPendingBytes bounds the request bodies held at once while they wait for the queue's
	// acknowledgement (up to the publish timeout each when NATS stalls); past it requests
	// are refused as retryable, before their body is read when its length is known. One
	// request alone always fits. Default 256 MiB.
	MaxPendingBytes int64
	// Admit is the daily trace quota, asked on every traces request; nil admits everything.
	Admit AdmitFunc
	// Now is the clock for Retry-After and for how long a full queue refuses requests
	// unread; nil means time.Now.
	Now func() time.Time
}

// Receiver accepts OTLP traces, logs and metrics over HTTP and gRPC.
type Receiver struct {
	cfg     Config
	pub     Publisher
	log     *slog.Logger
	metrics *metrics
	// fullUntil is when (Unix nanoseconds of cfg.Now) the queue was last found full plus
	// fullHold: until then requests are refused before their body is read.
	fullUntil atomic.Int64
	// pending is the bytes of the request bodies being checked or published (see
	// Config.MaxPendingBytes).
	pending atomic.Int64
}

// fitsOn reports whether n more bytes fit in the pending budget with cur taken: one
// request alone always fits.
func (r *Receiver) fitsOn(cur, n int64) bool { return cur == 0 || cur+n <= r.cfg.MaxPendingBytes }

// fits reports whether a body of n bytes fits in the pending budget now.
func (r *Receiver) fits(n int64) bool { return r.fitsOn(r.pending.Load(), n) }

// hold takes n bytes of the pending budget, unless they do not fit; release gives them back.
func (r *Receiver) hold(n int64) bool {
	for {
		cur := r.pending.Load()
		if !r.fitsOn(cur, n) {
			return false
		}
		if r.pending.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

func (r *Receiver) release(n int64) { r.pending.Add(-n) }

// errBusyMsg answers a request refused because too many bytes wait for the queue.
const errBusyMsg = "too many requests waiting for the queue's acknowledgement (the queue is slow or unreachable), retry later"

// fullHold is how long a full queue refuses requests unread before the next one is tried
// again. While the queue is full every publish fails after the whole request was read and
// decoded, and under a flood that work took the CPU the workers needed to drain the queue:
// in the side-by-side benchmark's flat-out phase the storing modes stored 2–3× less than
// they sustain. A refusal is a retryable 503 / UNAVAILABLE, as the failed publish was.
const fullHold = 100 * time.Millisecond

// refuseFull reports whether the queue was found full less than fullHold ago.
func (r *Receiver) refuseFull() bool {
	return r.cfg.Now().UnixNano() < r.fullUntil.Load()
}

// published notes a publish error: a full queue holds off the next requests.
func (r *Receiver) published(err error) {
	var full interface{ QueueFull() bool }
	if errors.As(err, &full) && full.QueueFull() {
		r.fullUntil.Store(r.cfg.Now().Add(fullHold).UnixNano())
	}
}

// errFullMsg answers a request refused unread.
const errFullMsg = "queue full (the workers are behind), retry later"

// New returns a receiver publishing to pub, registering its metrics with reg.
func New(cfg Config, pub Publisher, reg prometheus.Registerer, logger *slog.Logger) *Receiver {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 16 << 20
	}
	if cfg.Project == nil {
		cfg.Project = DefaultProject
	}
	if cfg.MaxPendingBytes <= 0 {
		cfg.MaxPendingBytes = 256 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Receiver{cfg: cfg, pub: pub, log: logger, metrics: newMetrics(reg)}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lumina_ingest_pending_bytes", Help: "Bytes of OTLP request bodies being checked or waiting for the queue's acknowledgement.",
	}, func() float64 { return float64(r.pending.Load()) }))
	return r
}

type metrics struct {
	requests *prometheus.CounterVec
	items    *prometheus.CounterVec
	rejected *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lumina_ingest_requests_total", Help: "OTLP export requests by signal, transport and outcome.",
		}, []string{"signal", "transport", "outcome"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lumina_ingest_items_received_total", Help: "Spans, log records and metric points received (before rejection).",
		}, []string{"signal"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lumina_ingest_items_rejected_total", Help: "Spans or log records rejected in partial_success.",
		}, []string{"signal"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lumina_ingest_bytes_total", Help: "Decompressed OTLP bytes received.",
		}, []string{"signal"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lumina_ingest_request_duration_seconds", Help: "Time from request received to answer, including the queue acknowledgement.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"signal", "transport"}),
	}
	reg.MustRegister(m.requests, m.items, m.rejected, m.bytes, m.latency)
	return m
}
