package alert

import "time"

// window is a key's most recent requests, newest last, at most maxWindowRequests.
type window struct {
	buf  [maxWindowRequests]sample
	next int // where the next sample goes
	n    int
}

func (w *window) add(s sample) {
	w.buf[w.next] = s
	w.next = (w.next + 1) % len(w.buf)
	w.n = min(w.n+1, len(w.buf))
}

// each calls f on the last n samples that ended after since, newest first.
func (w *window) each(n int, since int64, f func(*sample)) {
	for i := 0; i < min(n, w.n); i++ {
		s := &w.buf[(w.next-1-i+2*len(w.buf))%len(w.buf)]
		if s.at <= since {
			return
		}
		f(s)
	}
}

// rolling is one metric over a rule's window.
type rolling struct {
	n        int
	sum      float64
	errors   int
	traceID  string // the newest request of the window with the metric
	spanID   string
	newestAt int64
}

func (r *rolling) mean() float64 {
	if r.n == 0 {
		return 0
	}
	return r.sum / float64(r.n)
}

// metric names, as baselines and alerts store them.
const (
	MetricCost    = "cost_usd"
	MetricLatency = "latency_ms"
	MetricTokens  = "tokens"
	MetricQuality = "quality"
	MetricErrors  = "error_rate"
	MetricSilence = "silence_minutes"
)

// value extracts a metric from a sample; ok is false when the sample lacks it.
func value(s *sample, metric string) (float64, bool) {
	switch metric {
	case MetricCost:
		return s.cost, s.hasCost
	case MetricLatency:
		return s.latencyMS, true
	case MetricTokens:
		return s.tokens, s.hasTokens
	case MetricQuality:
		return s.quality, s.hasQuality
	case MetricErrors:
		if s.failed {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// roll aggregates metric over the last n requests within d before now.
func (w *window) roll(metric string, n int, d time.Duration, now time.Time) rolling {
	var r rolling
	w.each(n, now.Add(-d).UnixNano(), func(s *sample) {
		v, ok := value(s, metric)
		if !ok {
			return
		}
		if r.n == 0 {
			r.traceID, r.spanID, r.newestAt = s.traceID, s.spanID, s.at
		}
		r.n++
		r.sum += v
		if s.failed {
			r.errors++
		}
	})
	return r
}

// idle reports whether no request at all ended within d before now.
func (w *window) idle(d time.Duration, now time.Time) bool {
	idle := true
	w.each(1, now.Add(-d).UnixNano(), func(*sample) { idle = false })
	return idle
}
