package loadgen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Report is the outcome of one Run. Counts cover the whole run (warm-up included); the
// rates and latencies cover the measured window only.
type Report struct {
	// Config is the configuration the run used, defaults filled in.
	Config Config
	// RunID is the random id of the run, sent as the resource attribute loadgen.run_id.
	RunID string

	// Elapsed is the sending time from the first request to the last response.
	Elapsed time.Duration
	// Window is the measured part of Elapsed (after the warm-up).
	Window time.Duration

	// RequestsSent counts requests (not attempts); Attempts counts every try.
	RequestsSent, Attempts int64
	// RequestsAcked were answered with success; RequestsFailed were not, after retries.
	RequestsAcked, RequestsFailed int64
	// Retries counts retried attempts (retryable failures followed by another try).
	Retries int64
	// Failures counts failed requests by class: "http 400", "grpc InvalidArgument",
	// "retries exhausted: http 503", "transport", "timeout", "canceled".
	Failures map[string]int64
	// LastError is the detail of one failure, for the operator.
	LastError string

	// TracesAcked and SpansAcked are in the ledger; SpansRejected were acknowledged as
	// rejected through partial_success.
	TracesAcked, SpansAcked, SpansRejected int64
	// BytesAcked is the OTLP payload size (before compression) of acknowledged requests;
	// WireBytesAcked is what went on the wire over HTTP (gzip included; for gRPC it equals
	// BytesAcked, since grpc compresses inside the call).
	BytesAcked, WireBytesAcked int64

	// RequestsPerSec, SpansPerSec and MBPerSec are acknowledged requests, spans and payload
	// megabytes (10^6 bytes, before compression) per second of the measured window.
	RequestsPerSec, SpansPerSec, MBPerSec float64
	// Latency is the send-to-response time of acknowledged attempts in the window.
	Latency Latency

	// GeneratorCPU is the user+system CPU time this process spent while sending (pool
	// building excluded), so a same-box run can subtract it. GeneratorCPUPerSpan divides it
	// by SpansAcked.
	GeneratorCPU        time.Duration
	GeneratorCPUPerSpan time.Duration

	// Verify is the ledger check against the API; nil when no API URL was given.
	Verify *VerifyReport

	latencies              []time.Duration
	mAcked, mSpans, mBytes int64         // measured-window sums
	ledger                 []ledgerEntry // every acknowledged trace, for tests
}

// Latency summarises request latencies.
type Latency struct {
	Count                    int
	Mean, P50, P90, P99, Max time.Duration
}

// Lost reports whether verification found an acknowledged span that is not stored: a
// missing trace, a trace with a span count other than the one sent, or a trace the API
// could not be asked about before the timeout. Without verification it is false; check
// Verify to tell "verified" from "not checked".
func (r *Report) Lost() bool {
	return r.Verify != nil && (r.Verify.Missing > 0 || r.Verify.WrongCount > 0 || r.Verify.Unverified > 0)
}

func (r *Report) merge(results []clientResult) {
	r.Failures = map[string]int64{}
	for i := range results {
		c := &results[i]
		r.RequestsSent += c.sent
		r.Attempts += c.attempts
		r.RequestsAcked += c.acked
		r.RequestsFailed += c.failed
		r.Retries += c.retries
		for k, v := range c.failures {
			r.Failures[k] += v
		}
		if c.lastErr != "" {
			r.LastError = c.lastErr
		}
		r.TracesAcked += int64(len(c.ledger))
		r.ledger = append(r.ledger, c.ledger...)
		r.SpansAcked += c.spansAcked
		r.SpansRejected += c.spansRejected
		r.BytesAcked += c.bytesAcked
		r.WireBytesAcked += c.wireBytesAcked
		r.latencies = append(r.latencies, c.latencies...)
		r.mAcked += c.measuredAcked
		r.mSpans += c.measuredSpans
		r.mBytes += c.measuredBytes
	}
}

// finish computes the rates and percentiles once Window is set.
func (r *Report) finish() {
	if w := r.Window.Seconds(); w > 0 {
		r.RequestsPerSec = float64(r.mAcked) / w
		r.SpansPerSec = float64(r.mSpans) / w
		r.MBPerSec = float64(r.mBytes) / 1e6 / w
	}
	r.Latency = summarise(r.latencies)
	if r.SpansAcked > 0 {
		r.GeneratorCPUPerSpan = r.GeneratorCPU / time.Duration(r.SpansAcked)
	}
}

// summarise computes nearest-rank percentiles.
func summarise(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return Latency{Count: len(s), Mean: sum / time.Duration(len(s)), P50: rank(0.50), P90: rank(0.90), P99: rank(0.99), Max: s[len(s)-1]}
}

// Print writes a readable summary.
func (r *Report) Print(w io.Writer) {
	c := r.Config
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	gz := ""
	if c.Gzip {
		gz = " + gzip"
	}
	p("lumina loadgen run %s: %s%s to %s", r.RunID, c.Protocol, gz, c.Endpoint)
	p("  load         %d clients, %d spans/request, %d spans/trace, ~%d B prompt text per chat span, %s",
		c.Clients, c.SpansPerRequest, c.SpansPerTrace, c.PromptBytes, offered(c))
	p("  sent         %d requests in %s (window %s after %s warm-up), %d attempts",
		r.RequestsSent, round(r.Elapsed), round(r.Window), c.Warmup, r.Attempts)
	p("  acked        %d requests, %d traces, %d spans (%d rejected by partial_success)",
		r.RequestsAcked, r.TracesAcked, r.SpansAcked, r.SpansRejected)
	p("  failed       %d requests, %d retries%s", r.RequestsFailed, r.Retries, failureList(r.Failures))
	if r.LastError != "" {
		p("  last error   %s", r.LastError)
	}
	p("  throughput   %.0f spans/s, %.1f req/s, %.2f MB/s payload (wire %.2f MB total)",
		r.SpansPerSec, r.RequestsPerSec, r.MBPerSec, float64(r.WireBytesAcked)/1e6)
	l := r.Latency
	p("  latency      p50 %s  p90 %s  p99 %s  max %s  (mean %s, %d acked requests)",
		ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max), ms(l.Mean), l.Count)
	p("  generator    %s CPU, %.2f µs per acked span", round(r.GeneratorCPU), float64(r.GeneratorCPUPerSpan.Nanoseconds())/1e3)
	v := r.Verify
	if v == nil {
		p("  verify       not run (no API URL): storage of acknowledged spans NOT checked")
		return
	}
	p("  verify       %d traces checked (sample %.0f%%, %d skipped for partial_success) in %s",
		v.Checked, 100*c.VerifySample, v.Skipped, round(v.Duration))
	p("  stored       %d complete, %d missing, %d wrong span count, %d unverified (API errors), %d spans missing",
		v.Stored, v.Missing, v.WrongCount, v.Unverified, v.SpansMissing)
	if v.TailStoredAfter > 0 {
		p("  worker lag   last acknowledged traces stored %s after the last ack", ms(v.TailStoredAfter))
	}
	if v.AllStoredAfter > 0 {
		p("  end to end   every checked trace stored %s after the last ack", ms(v.AllStoredAfter))
	}
	if len(v.Examples) > 0 {
		p("  examples     %s", strings.Join(v.Examples, ", "))
	}
	if r.Lost() {
		p("  RESULT       LOST: acknowledged spans are not all stored")
	} else {
		p("  RESULT       ok: every checked acknowledged span is stored")
	}
}

func offered(c Config) string {
	if c.Rate > 0 {
		return fmt.Sprintf("offered %.1f req/s (%.0f spans/s)", c.Rate, c.Rate*float64(c.SpansPerRequest))
	}
	return "flat out"
}

func failureList(f map[string]int64) string {
	if len(f) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(f)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, f[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1e3) }
