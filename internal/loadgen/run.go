package loadgen

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ledgerEntry is one acknowledged trace.
type ledgerEntry struct {
	id    [16]byte
	spans int32
	// partial marks a trace from a request whose response rejected some spans: which
	// ones is not said, so its stored count cannot be checked exactly.
	partial bool
}

// clientResult is what one client saw. Only its own goroutine writes it.
type clientResult struct {
	ledger    []ledgerEntry
	latencies []time.Duration // acked attempts of measured requests
	failures  map[string]int64
	lastErr   string

	sent, acked, failed, retries, attempts int64
	spansAcked, spansRejected              int64
	bytesAcked, wireBytesAcked             int64

	measuredAcked, measuredSpans, measuredBytes int64
}

// live are the counters the progress printer reads while clients run.
type live struct {
	acked, failed, retries, spans atomic.Int64
}

// Run sends load as cfg describes, then verifies the ledger through the API when
// cfg.APIURL is set, and returns the report. It prints progress lines to out (nil: none).
//
// Sending stops after cfg.Warmup+cfg.Duration, after cfg.Requests requests, or when ctx
// is done; in-flight requests then finish (each attempt is bounded by cfg.Timeout, each
// request by cfg.MaxRetries). Only setup failures and ctx cancellation are errors; failed
// requests are counted in the report. On cancellation the partial report is returned with
// the error, and verification is skipped.
func Run(ctx context.Context, cfg Config, out io.Writer) (*Report, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if out == nil {
		out = io.Discard
	}
	idRNG, runID, err := freshIDSource()
	if err != nil {
		return nil, err
	}
	built := time.Now()
	p, err := buildPool(cfg, idRNG, runID, built)
	if err != nil {
		return nil, fmt.Errorf("build request pool: %w", err)
	}
	senders, err := newSenders(cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, s := range senders {
			_ = s.close()
		}
	}()

	rep := &Report{Config: cfg, RunID: runID}
	cpu0 := processCPU()
	start := time.Now()
	measureStart := start.Add(cfg.Warmup)
	sendCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.Duration > 0 {
		sendCtx, cancel = context.WithDeadline(sendCtx, measureStart.Add(cfg.Duration))
		defer cancel()
	}
	var (
		lv      live
		tickets atomic.Int64
		wg      sync.WaitGroup
		results = make([]clientResult, cfg.Clients)
	)
	pace := pacer{start: start}
	if cfg.Rate > 0 {
		pace.interval = time.Duration(float64(time.Second) / cfg.Rate)
	}
	for i := range cfg.Clients {
		c := &client{
			cfg: cfg, pool: p, sender: senders[i], pace: pace, tickets: &tickets, live: &lv,
			measureStart: measureStart, res: &results[i],
			idRNG:   rand.New(rand.NewPCG(idRNG.Uint64(), idRNG.Uint64())),
			jitter:  rand.New(rand.NewPCG(cfg.Seed, uint64(i))),
			variant: i,
		}
		wg.Go(func() { c.run(ctx, sendCtx) })
	}
	stopProgress := startProgress(cfg.Progress, out, start, &lv)
	wg.Wait()
	stopProgress()
	sendEnd := time.Now()
	cpu1 := processCPU()

	rep.merge(results)
	rep.Elapsed = sendEnd.Sub(start)
	if sendEnd.After(measureStart) {
		rep.Window = sendEnd.Sub(measureStart)
	}
	rep.GeneratorCPU = cpu1 - cpu0
	rep.finish()
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("load run interrupted: %w", err)
	}
	if cfg.APIURL != "" {
		tr := newHTTPTransport(cfg.VerifyConcurrency)
		defer tr.CloseIdleConnections()
		vr, err := newVerifier(cfg, &http.Client{Transport: tr}).verify(ctx, results, sendEnd, built.Add(-time.Minute))
		rep.Verify = vr
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// freshIDSource seeds the trace-id generator from crypto/rand, never from Config.Seed, so
// repeated runs with one seed still send new ids.
func freshIDSource() (*rand.Rand, string, error) {
	var seed [24]byte
	if _, err := crand.Read(seed[:]); err != nil {
		return nil, "", fmt.Errorf("seed trace ids: %w", err)
	}
	r := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[0:8]), binary.LittleEndian.Uint64(seed[8:16])))
	return r, hex.EncodeToString(seed[16:24]), nil
}

func newSenders(cfg Config) ([]sender, error) {
	senders := make([]sender, 0, cfg.Clients)
	var tr *http.Transport
	for range cfg.Clients {
		switch cfg.Protocol {
		case ProtocolGRPC:
			s, err := newGRPCSender(cfg)
			if err != nil {
				for _, s := range senders {
					_ = s.close()
				}
				return nil, err
			}
			senders = append(senders, s)
		default:
			if tr == nil {
				tr = newHTTPTransport(cfg.Clients)
			}
			senders = append(senders, newHTTPSender(cfg, tr))
		}
	}
	return senders, nil
}

// pacer spaces request starts interval apart over all clients (open loop: a client that
// fell behind sends at once). A zero interval means flat out.
type pacer struct {
	start    time.Time
	interval time.Duration
}

func (p pacer) wait(ctx context.Context, n int64) error {
	if p.interval <= 0 {
		return ctx.Err()
	}
	d := time.Until(p.start.Add(time.Duration(n) * p.interval))
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// client is one sender loop.
type client struct {
	cfg          Config
	pool         *pool
	sender       sender
	pace         pacer
	tickets      *atomic.Int64
	live         *live
	measureStart time.Time
	res          *clientResult
	idRNG        *rand.Rand
	jitter       *rand.Rand
	variant      int
}

// run sends requests until sendCtx ends or the request budget is used up. In-flight
// requests and their retries run under ctx, so stopping does not cut them off half-way.
func (c *client) run(ctx, sendCtx context.Context) {
	c.res.failures = map[string]int64{}
	for {
		n := c.tickets.Add(1) - 1
		if c.cfg.Requests > 0 && n >= int64(c.cfg.Requests) {
			return
		}
		if c.pace.wait(sendCtx, n) != nil {
			return
		}
		t := &c.pool.templates[c.variant%len(c.pool.templates)]
		c.variant++
		ids := make([][16]byte, len(t.offsets))
		body := t.instance(c.sender.buffer(len(t.body)), c.idRNG, ids, time.Now())
		o, err := c.sender.prepare(body)
		if err != nil {
			c.fail("prepare", err.Error())
			continue
		}
		c.res.sent++
		c.request(ctx, t, ids, o)
		o.release()
	}
}

func (c *client) fail(class, msg string) {
	c.res.failed++
	c.res.failures[class]++
	c.res.lastErr = class + ": " + msg
	c.live.failed.Add(1)
}

// request sends one request with retries and records the outcome.
func (c *client) request(ctx context.Context, t *template, ids [][16]byte, o *outgoing) {
	measured := !time.Now().Before(c.measureStart)
	for try := 0; ; try++ {
		actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		began := time.Now()
		a := c.sender.send(actx, o)
		took := time.Since(began)
		cancel()
		c.res.attempts++
		if a.acked {
			c.ack(t, ids, o, a, measured, took)
			return
		}
		if !a.retryable || try >= c.cfg.MaxRetries || a.retryAfter > MaxRetryWait || ctx.Err() != nil {
			class := a.class
			switch {
			case !a.retryable || ctx.Err() != nil:
			case a.retryAfter > MaxRetryWait:
				class += " (retry-after over " + MaxRetryWait.String() + ")"
			default:
				class = "retries exhausted: " + class
			}
			c.fail(class, a.msg)
			return
		}
		c.res.retries++
		c.live.retries.Add(1)
		if sleep(ctx, c.backoff(try, a.retryAfter)) != nil {
			c.fail("canceled", "context done while waiting to retry")
			return
		}
	}
}

func (c *client) ack(t *template, ids [][16]byte, o *outgoing, a attempt, measured bool, took time.Duration) {
	spans := int64(0)
	for _, n := range t.spans {
		spans += int64(n)
	}
	r := c.res
	r.acked++
	r.spansAcked += spans - a.rejected
	r.spansRejected += a.rejected
	r.bytesAcked += int64(o.rawSize)
	r.wireBytesAcked += int64(len(o.wire))
	for i, id := range ids {
		r.ledger = append(r.ledger, ledgerEntry{id: id, spans: int32(t.spans[i]), partial: a.rejected > 0})
	}
	if measured {
		r.measuredAcked++
		r.measuredSpans += spans - a.rejected
		r.measuredBytes += int64(o.rawSize)
		r.latencies = append(r.latencies, took)
	}
	c.live.acked.Add(1)
	c.live.spans.Add(spans - a.rejected)
}

// backoff is the wait before retry number try+1: the server's advice when given (at most
// MaxRetryWait, so a run stays bounded), else exponential from 100 ms to 5 s with jitter.
func (c *client) backoff(try int, advised time.Duration) time.Duration {
	if advised > 0 {
		return min(advised, MaxRetryWait)
	}
	d := 100 * time.Millisecond << min(try, 6)
	d = min(d, 5*time.Second)
	return d/2 + time.Duration(c.jitter.Int64N(int64(d/2)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// startProgress prints a line every interval until the returned stop is called; stop
// waits for the printer goroutine.
func startProgress(interval time.Duration, out io.Writer, start time.Time, lv *live) (stop func()) {
	if interval <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tk := time.NewTicker(interval)
		defer tk.Stop()
		var lastSpans int64
		last := start
		for {
			select {
			case <-done:
				return
			case now := <-tk.C:
				spans := lv.spans.Load()
				rate := float64(spans-lastSpans) / now.Sub(last).Seconds()
				fmt.Fprintf(out, "%6.1fs  acked %d requests, %d spans (%.0f spans/s)  failed %d  retried %d\n",
					now.Sub(start).Seconds(), lv.acked.Load(), spans, rate, lv.failed.Load(), lv.retries.Load())
				lastSpans, last = spans, now
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
