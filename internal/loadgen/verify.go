package loadgen

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// VerifyReport is the ledger check: what the API returned for the acknowledged traces.
type VerifyReport struct {
	// Checked traces were looked up; Skipped came from requests with partial_success
	// rejections (which spans were rejected is not said, so no exact count is expected).
	Checked, Skipped int
	// Stored had exactly the span count sent.
	Stored int
	// Missing were still unknown to the API (404) when verification ended.
	Missing int
	// WrongCount were found with another span count: fewer when verification ended, or
	// more (duplicates) at any time.
	WrongCount int
	// Unverified could not be looked up (API errors) when verification ended.
	Unverified int
	// SpansMissing sums the acknowledged spans absent from missing and short traces.
	SpansMissing int64
	// TailStoredAfter is how long after the last acknowledgement the last trace each
	// client had acknowledged was stored: the worker lag at the end of the run. Zero when
	// they were not all stored in time.
	TailStoredAfter time.Duration
	// AllStoredAfter is how long after the last acknowledgement every checked trace was
	// seen complete (an upper bound: the scan itself takes time). Zero when not all were.
	AllStoredAfter time.Duration
	// Duration is how long verification ran.
	Duration time.Duration
	// Examples names up to ten failed traces with what was wrong.
	Examples []string
}

// check states of one trace.
type traceState int

const (
	stateUnknown  traceState = iota // not looked up yet
	stateComplete                   // expected span count
	stateMissing                    // 404
	stateShort                      // fewer spans than sent
	stateOver                       // more spans than sent: final
	stateError                      // API failure
)

type verifyItem struct {
	entry ledgerEntry
	state traceState
	count int
	err   string
}

func (it *verifyItem) done() bool { return it.state == stateComplete || it.state == stateOver }

type verifier struct {
	cfg    Config
	client *http.Client
	base   string
	// since is a bound below every span start of the run: the trace list from there on
	// holds all of its traces, so large rounds read the list instead of each trace.
	since time.Time
}

// bulkThreshold is the round size above which the verifier pages through the trace list
// (1,000 traces a request) rather than fetching each trace.
const bulkThreshold = 200

func newVerifier(cfg Config, client *http.Client) *verifier {
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &verifier{cfg: cfg, client: client, base: strings.TrimRight(cfg.APIURL, "/")}
}

// verify looks every sampled ledger entry up until each is complete or the timeout has
// passed (every trace is looked up at least once, however long the first pass takes).
func (v *verifier) verify(ctx context.Context, results []clientResult, sendEnd, since time.Time) (*VerifyReport, error) {
	v.since = since
	began := time.Now()
	deadline := began.Add(v.cfg.VerifyTimeout)
	rep := &VerifyReport{}
	sample := rand.New(rand.NewPCG(v.cfg.Seed, 0x766572696679))
	var items, tail []*verifyItem
	for i := range results {
		var last *verifyItem
		for _, e := range results[i].ledger {
			if e.partial {
				rep.Skipped++
				continue
			}
			it := &verifyItem{entry: e}
			last = it
			if v.cfg.VerifySample >= 1 || sample.Float64() < v.cfg.VerifySample {
				items = append(items, it)
			}
		}
		if last != nil {
			tail = append(tail, last)
		}
	}

	// The tail first, polled quickly: the worker drains the queue in order, so when the
	// last acknowledged traces are stored, the backlog is gone.
	defer func() {
		rep.Duration = time.Since(began)
		rep.tally(items)
	}()
	stored, err := v.poll(ctx, tail, deadline, 20*time.Millisecond, 20*time.Millisecond)
	if err != nil {
		return rep, err
	}
	if stored && len(tail) > 0 {
		rep.TailStoredAfter = time.Since(sendEnd)
	}
	stored, err = v.poll(ctx, items, deadline, 250*time.Millisecond, time.Second)
	if err != nil {
		return rep, err
	}
	if stored && len(items) > 0 {
		rep.AllStoredAfter = time.Since(sendEnd)
	}
	return rep, nil
}

// poll checks items in rounds until all are done or deadline passes, pausing between
// rounds from pause up to maxPause. It reports whether all items are complete.
func (v *verifier) poll(ctx context.Context, items []*verifyItem, deadline time.Time, pause, maxPause time.Duration) (bool, error) {
	pending := make([]*verifyItem, 0, len(items))
	for _, it := range items {
		if !it.done() {
			pending = append(pending, it)
		}
	}
	for first := true; len(pending) > 0; first = false {
		if !first && !time.Now().Before(deadline) {
			break
		}
		v.round(ctx, pending)
		if err := ctx.Err(); err != nil {
			return false, fmt.Errorf("verify stored traces: %w", err)
		}
		next := pending[:0]
		for _, it := range pending {
			if !it.done() {
				next = append(next, it)
			}
		}
		pending = next
		if len(pending) == 0 {
			break
		}
		if wait := min(pause, time.Until(deadline)); wait > 0 {
			if sleep(ctx, wait) != nil {
				return false, fmt.Errorf("verify stored traces: %w", ctx.Err())
			}
		}
		pause = min(2*pause, maxPause)
	}
	for _, it := range items {
		if it.state != stateComplete {
			return false, nil
		}
	}
	return true, nil
}

// round looks up each item once with VerifyConcurrency workers, or, for a large round,
// reads the span counts of the whole run from the trace list.
func (v *verifier) round(ctx context.Context, items []*verifyItem) {
	if len(items) > bulkThreshold && !v.since.IsZero() {
		if err := v.scan(ctx, items); err == nil {
			return
		}
		// The list failed: fall back to one request per trace, which reports errors per item.
	}
	work := make(chan *verifyItem)
	var wg sync.WaitGroup
	for range min(v.cfg.VerifyConcurrency, len(items)) {
		wg.Go(func() {
			for it := range work {
				v.check(ctx, it)
			}
		})
	}
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		work <- it
	}
	close(work)
	wg.Wait()
}

// check asks the API for one trace: GET {api}/api/v1/traces/{trace_id}.
func (v *verifier) check(ctx context.Context, it *verifyItem) {
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	id := traceIDHex(it.entry.id)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.base+"/api/v1/traces/"+id, nil)
	if err != nil {
		it.state, it.err = stateError, err.Error()
		return
	}
	req.Header.Set("Accept", "application/json")
	for k, val := range v.cfg.Headers {
		req.Header.Set(k, val)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		it.state, it.err = stateError, err.Error()
		return
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		it.state = stateMissing
		return
	default:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		it.state, it.err = stateError, fmt.Sprintf("GET trace %s: %s: %s", id, resp.Status, strings.TrimSpace(string(body)))
		return
	}
	var tr struct {
		SpanCount *int `json:"span_count"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(&tr); err != nil || tr.SpanCount == nil {
		it.state, it.err = stateError, fmt.Sprintf("GET trace %s: no span_count in the response (%v)", id, err)
		return
	}
	it.count = *tr.SpanCount
	switch want := int(it.entry.spans); {
	case it.count == want:
		it.state = stateComplete
	case it.count > want:
		it.state = stateOver
	default:
		it.state = stateShort
	}
}

// scan pages through GET {api}/api/v1/traces?since=…&order=asc and sets the state of every
// item from the span counts listed: an item absent from the list is missing.
func (v *verifier) scan(ctx context.Context, items []*verifyItem) error {
	counts := make(map[[16]byte]int, len(items))
	cursor := ""
	for {
		q := url.Values{"since": {v.since.UTC().Format(time.RFC3339Nano)}, "order": {"asc"}, "limit": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		page, err := v.listPage(ctx, q)
		if err != nil {
			return err
		}
		for _, tr := range page.Traces {
			var id [16]byte
			if b, err := hex.DecodeString(tr.TraceID); err == nil && len(b) == 16 {
				copy(id[:], b)
				counts[id] = tr.SpanCount
			}
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	for _, it := range items {
		n, ok := counts[it.entry.id]
		it.count = n
		switch want := int(it.entry.spans); {
		case !ok:
			it.state = stateMissing
		case n == want:
			it.state = stateComplete
		case n > want:
			it.state = stateOver
		default:
			it.state = stateShort
		}
	}
	return nil
}

type listPage struct {
	Traces []struct {
		TraceID   string `json:"trace_id"`
		SpanCount int    `json:"span_count"`
	} `json:"traces"`
	NextCursor string `json:"next_cursor"`
}

func (v *verifier) listPage(ctx context.Context, q url.Values) (listPage, error) {
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	var page listPage
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.base+"/api/v1/traces?"+q.Encode(), nil)
	if err != nil {
		return page, err
	}
	req.Header.Set("Accept", "application/json")
	for k, val := range v.cfg.Headers {
		req.Header.Set(k, val)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return page, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return page, fmt.Errorf("list traces: %s", resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&page); err != nil {
		return page, fmt.Errorf("decode trace list: %w", err)
	}
	return page, nil
}

// tally counts the final states.
func (r *VerifyReport) tally(items []*verifyItem) {
	r.Checked = len(items)
	example := func(format string, args ...any) {
		if len(r.Examples) < 10 {
			r.Examples = append(r.Examples, fmt.Sprintf(format, args...))
		}
	}
	for _, it := range items {
		id, want := traceIDHex(it.entry.id), int(it.entry.spans)
		switch it.state {
		case stateComplete:
			r.Stored++
		case stateMissing:
			r.Missing++
			r.SpansMissing += int64(want)
			example("%s missing", id)
		case stateShort:
			r.WrongCount++
			r.SpansMissing += int64(want - it.count)
			example("%s has %d of %d spans", id, it.count, want)
		case stateOver:
			r.WrongCount++
			example("%s has %d spans, %d were sent", id, it.count, want)
		default:
			r.Unverified++
			example("%s unverified: %s", id, it.err)
		}
	}
}
