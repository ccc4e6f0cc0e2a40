package limits

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Counter keeps the set of traces admitted per project and UTC day.
type Counter interface {
	// Admit adds to the project's set for day, in order, each trace id it does not hold
	// yet, as long as the set has fewer than limit members (limit 0: no cap). It returns the
	// ids it refused (new ones over the limit) and the size of the set afterwards. It is
	// atomic: concurrent calls, also from other processes sharing the counter, never admit
	// more than limit traces between them, and an id is admitted once. It returns only
	// once the admission is durable as the counter defines it.
	Admit(ctx context.Context, project string, day time.Time, limit int64, traceIDs []string) (refused []string, count int64, err error)
	// Count is the size of the project's set for day.
	Count(ctx context.Context, project string, day time.Time) (int64, error)
}

// Decision is the quota's answer to one request.
type Decision struct {
	// Refused lists the request's trace ids that are not admitted: new traces over the
	// limit. Empty when everything is admitted.
	Refused []string
	// Limit is the project's daily limit, 0 for unlimited.
	Limit int64
	// Count is how many traces the project has today, after this request.
	Count int64
	// Reset is when the count starts again from zero: the next 00:00 UTC.
	Reset time.Time
	// Unknown says the counter could not be reached and the request was admitted without
	// being counted (the quota fails open); Count is then 0.
	Unknown bool
}

// Remaining is how many new traces the project may still send today; meaningless when
// Limit is 0 (unlimited).
func (d Decision) Remaining() int64 { return max(d.Limit-d.Count, 0) }

// Usage is a project's quota for today.
type Usage struct {
	ProjectID string
	Day       time.Time
	Count     int64
	Limit     int64 // 0: unlimited
	Reset     time.Time
}

// Quota enforces the daily trace limit of Policy with a Counter. It is safe for concurrent
// use.
type Quota struct {
	policy  Policy
	counter Counter
	now     func() time.Time
	log     *slog.Logger
	m       quotaMetrics

	mu      sync.Mutex
	warned  map[string]time.Time // project → the day its limit was last reported
	failing bool                 // the counter's last call failed
}

type quotaMetrics struct {
	refused     *prometheus.CounterVec
	limitHit    *prometheus.CounterVec
	unavailable prometheus.Counter
}

// NewQuota returns a quota counting with counter; now is the clock (time.Now in
// production) and reg receives its metrics.
func NewQuota(policy Policy, counter Counter, now func() time.Time, reg prometheus.Registerer, logger *slog.Logger) *Quota {
	q := &Quota{policy: policy, counter: counter, now: now, log: logger, warned: map[string]time.Time{}}
	q.m = quotaMetrics{
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lumina_quota_traces_refused_total", Help: "New traces refused because their project reached its daily limit.",
		}, []string{"project"}),
		limitHit: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lumina_quota_limit_reached_total", Help: "Times a project reached its daily trace limit (once per project and UTC day and process).",
		}, []string{"project"}),
		unavailable: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lumina_quota_counter_errors_total", Help: "Requests admitted without counting because the quota counter (Redis) failed.",
		}),
	}
	reg.MustRegister(q.m.refused, q.m.limitHit, q.m.unavailable)
	return q
}

// counterBudget bounds one request's wait for the counter. A healthy Redis answers in about a
// millisecond; one that stopped answering without closing the connection held every ingest
// request for 5 s without it (TestRedisStalledFailsOpenQuickly), half a sender's usual export
// timeout.
const counterBudget = 500 * time.Millisecond

// Admit decides which of a request's traces project may send. traceIDs are the distinct
// trace ids of the request. A counter failure does not fail the request: it is admitted
// uncounted (Decision.Unknown), logged when the counter starts failing and counted in
// lumina_quota_counter_errors_total, because refusing telemetry while the counter is down
// would lose data the quota was never meant to refuse. Only a done ctx is an error.
func (q *Quota) Admit(ctx context.Context, project string, traceIDs []string) (Decision, error) {
	now := q.now()
	day := Day(now)
	d := Decision{Limit: q.policy.Limit(project), Reset: day.Add(24 * time.Hour)}
	if len(traceIDs) == 0 {
		return d, nil
	}
	cctx, cancel := context.WithTimeout(ctx, counterBudget)
	refused, count, err := q.counter.Admit(cctx, project, day, d.Limit, traceIDs)
	cancel()
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return d, ctxErr
		}
		q.counterFailed(err)
		d.Unknown = true
		return d, nil
	}
	q.counterOK()
	d.Refused, d.Count = refused, count
	if len(refused) > 0 {
		q.m.refused.WithLabelValues(project).Add(float64(len(refused)))
	}
	if d.Limit > 0 && count >= d.Limit {
		q.reached(project, day, d)
	}
	return d, nil
}

// Usage reports project's count, limit and reset time for today.
func (q *Quota) Usage(ctx context.Context, project string) (Usage, error) {
	day := Day(q.now())
	count, err := q.counter.Count(ctx, project, day)
	if err != nil {
		return Usage{}, err
	}
	return Usage{ProjectID: project, Day: day, Count: count, Limit: q.policy.Limit(project), Reset: day.Add(24 * time.Hour)}, nil
}

// reached logs and counts, once per project and day in this process, that a project hit its
// limit.
func (q *Quota) reached(project string, day time.Time, d Decision) {
	q.mu.Lock()
	first := !q.warned[project].Equal(day)
	if first {
		q.warned[project] = day
	}
	q.mu.Unlock()
	if !first {
		return
	}
	q.m.limitHit.WithLabelValues(project).Inc()
	q.log.Warn("project reached its daily trace limit; new traces are refused until the reset",
		"project", project, "limit", d.Limit, "count", d.Count, "reset", d.Reset.Format(time.RFC3339))
}

func (q *Quota) counterFailed(err error) {
	q.m.unavailable.Inc()
	q.mu.Lock()
	first := !q.failing
	q.failing = true
	q.mu.Unlock()
	if first {
		q.log.Warn("quota counter unavailable: admitting traces without counting them until it recovers", "err", err)
	}
}

func (q *Quota) counterOK() {
	q.mu.Lock()
	recovered := q.failing
	q.failing = false
	q.mu.Unlock()
	if recovered {
		q.log.Info("quota counter available again")
	}
}
