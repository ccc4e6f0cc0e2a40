package alert

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// fakeStore is an in-memory Store and OutboxStore that records every write. It keeps the
// forward-only status rule of store.AlertStore.PutAlert.
type fakeStore struct {
	mu         sync.Mutex
	rules      []store.AlertRule
	alerts     map[string]store.Alert
	baselines  map[string]store.Baseline
	parts      map[string]store.BaselinePart
	channels   []store.Channel
	deliveries []store.Delivery
	spend      map[store.Spend]struct {
		Requests int64
		USD      float64
	} // keyed with zero Requests and USD
	writes int
	claims int    // ClaimDeliveries calls
	fail   error  // returned by every write while set
	stall  func() // called by RecordAlert before it writes, while set
}

func newFakeStore() *fakeStore {
	return &fakeStore{alerts: map[string]store.Alert{}, baselines: map[string]store.Baseline{}, parts: map[string]store.BaselinePart{},
		spend: map[store.Spend]struct {
			Requests int64
			USD      float64
		}{}}
}

func (f *fakeStore) AlertRules(_ context.Context, p string) ([]store.AlertRule, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.AlertRule
	for _, r := range f.rules {
		if p == "" || r.ProjectID == p {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeStore) PutAlertRule(_ context.Context, r store.AlertRule) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.rules = slices.DeleteFunc(f.rules, func(o store.AlertRule) bool { return o.ProjectID == r.ProjectID && o.ID == r.ID })
	f.rules = append(f.rules, r)
	return nil
}

func (f *fakeStore) PutAlert(_ context.Context, a store.Alert) error {
	_, err := f.put(a, a.Count, false)
	return err
}

func (f *fakeStore) RecordAlert(_ context.Context, a store.Alert, repeats int) (store.Alert, error) {
	f.mu.Lock()
	stall := f.stall
	f.mu.Unlock()
	if stall != nil {
		stall()
	}
	return f.put(a, repeats, true)
}

// put keeps the contract of store.AlertStore.RecordAlert: one open alert per dedup key,
// forward-only status, counts added (or the greater kept), the later last-seen time.
func (f *fakeStore) put(a store.Alert, count int, add bool) (store.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return store.Alert{}, f.fail
	}
	old, ok := f.alerts[a.ID]
	target := a
	if !ok && a.Status != store.AlertResolved {
		for _, o := range f.alerts {
			if o.ProjectID == a.ProjectID && o.DedupKey == a.DedupKey && a.DedupKey != "" && o.Status != store.AlertResolved {
				old, ok, target, add = o, true, o, true
			}
		}
	}
	if !ok {
		f.alerts[a.ID] = a
		return a, nil
	}
	if store.AlertStatusRank(old.Status) >= store.AlertStatusRank(a.Status) {
		target.Status, target.AcknowledgedAt, target.ResolvedAt, target.ResolvedBy = old.Status, old.AcknowledgedAt, old.ResolvedAt, old.ResolvedBy
	} else {
		target.Status = a.Status
		if old.AcknowledgedAt.IsZero() {
			target.AcknowledgedAt = a.AcknowledgedAt
		}
		target.ResolvedAt, target.ResolvedBy = a.ResolvedAt, a.ResolvedBy
	}
	if add {
		target.Count = old.Count + count
	} else {
		target.Count = max(old.Count, count)
	}
	target.LastSeenAt = later(old.LastSeenAt, a.LastSeenAt)
	f.alerts[target.ID] = target
	f.writes++
	return target, nil
}

func (f *fakeStore) AddSpend(_ context.Context, ds []store.Spend) ([]store.Spend, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	out := slices.Clone(ds)
	for i, d := range ds {
		k := d
		k.Requests, k.USD = 0, 0
		t := f.spend[k]
		t.Requests += d.Requests
		t.USD += d.USD
		f.spend[k] = t
		out[i].Requests, out[i].USD = t.Requests, t.USD
	}
	return out, nil
}

func (f *fakeStore) Spends(_ context.Context, since time.Time) ([]store.Spend, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Spend
	for k, t := range f.spend {
		if !k.Start.Before(since) {
			k.Requests, k.USD = t.Requests, t.USD
			out = append(out, k)
		}
	}
	return out, nil
}

func (f *fakeStore) OpenAlerts(context.Context) ([]store.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Alert
	for _, a := range f.alerts {
		if a.Status != store.AlertResolved {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fakeStore) PutBaselines(_ context.Context, bs []store.Baseline) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	for _, b := range bs {
		f.baselines[fmt.Sprint(b.ProjectID, b.Service, b.Endpoint, b.Model, b.Metric)] = b
	}
	return nil
}

func (f *fakeStore) Baselines(_ context.Context, p string) ([]store.Baseline, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Baseline
	for _, b := range f.baselines {
		if p == "" || b.ProjectID == p {
			out = append(out, b)
		}
	}
	return out, nil
}

func (f *fakeStore) Channels(_ context.Context, p string) ([]store.Channel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Channel
	for _, c := range f.channels {
		if p == "" || c.ProjectID == p {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeStore) EnqueueDeliveries(_ context.Context, ds []store.Delivery) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	for _, d := range ds {
		if !slices.ContainsFunc(f.deliveries, func(o store.Delivery) bool { return o.ID == d.ID }) {
			f.deliveries = append(f.deliveries, d)
		}
	}
	return nil
}

func (f *fakeStore) EnqueueClaimed(_ context.Context, ds []store.Delivery, until time.Time) ([]store.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	var added []store.Delivery
	for _, d := range ds {
		if !slices.ContainsFunc(f.deliveries, func(o store.Delivery) bool { return o.ID == d.ID }) {
			added = append(added, d)
			d.NextAttempt = until // the fake keeps the lease in NextAttempt, as ClaimDeliveries does
			f.deliveries = append(f.deliveries, d)
		}
	}
	return added, nil
}

func (f *fakeStore) DueDeliveries(_ context.Context, now time.Time, limit int) ([]store.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Delivery
	for _, d := range f.deliveries {
		if d.Status == store.DeliveryPending && !d.NextAttempt.After(now) && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *fakeStore) ClaimDeliveries(_ context.Context, now time.Time, lease time.Duration, limit int) ([]store.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.claims++
	var out []store.Delivery
	for i, d := range f.deliveries {
		if d.Status == store.DeliveryPending && !d.NextAttempt.After(now) && len(out) < limit {
			out = append(out, d)
			f.deliveries[i].NextAttempt = now.Add(lease)
		}
	}
	return out, nil
}

func (f *fakeStore) UpdateDelivery(_ context.Context, d store.Delivery) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.deliveries {
		if f.deliveries[i].ID == d.ID {
			f.deliveries[i] = d
			return nil
		}
	}
	return store.ErrNotFound
}

// snapshot returns copies of the alerts by type and the deliveries.
func (f *fakeStore) alertsOf(typ string) []store.Alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Alert
	for _, a := range f.alerts {
		if typ == "" || a.Type == typ {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b store.Alert) int { return a.FiredAt.Compare(b.FiredAt) })
	return out
}

func (f *fakeStore) deliveriesOf(event string) []store.Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Delivery
	for _, d := range f.deliveries {
		if event == "" || d.Event == event {
			out = append(out, d)
		}
	}
	return out
}

var errDown = errors.New("store down")

// clock is an injected clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// harness is an engine on a fake store with a hand-moved clock.
type harness struct {
	t     *testing.T
	store *fakeStore
	clock *clock
	e     *Engine
	n     int // spans made so far, for unique ids
}

// newHarness starts an engine whose project "p" has exactly the given rules (none: the
// defaults), and a webhook channel.
func newHarness(t *testing.T, rules ...store.AlertRule) *harness {
	t.Helper()
	h := &harness{t: t, store: newFakeStore(), clock: &clock{t: t0}}
	for _, r := range rules {
		r.ProjectID = "p"
		if r.ID == "" {
			r.ID = r.Type
		}
		r.Enabled = true
		if err := ValidateRule(&r); err != nil {
			t.Fatalf("rule %+v: %v", r, err)
		}
		h.store.rules = append(h.store.rules, r)
	}
	h.store.channels = []store.Channel{{ID: "hook", ProjectID: "p", Type: store.ChannelWebhook, URL: "http://example.invalid", Enabled: true}}
	h.e = New(Config{}, h.store, h.clock.now, nil, nil)
	if err := h.e.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

// call describes one synthetic LLM call.
type call struct {
	cost     float64
	unpriced bool
	latency  time.Duration
	quality  *float64
	failed   bool
	model    string
	service  string
	user     string
}

func q(v float64) *float64 { return &v }

// span builds the LLM span of c ending now.
func (h *harness) span(c call) genai.Span {
	h.n++
	end := h.clock.now()
	if c.latency == 0 {
		c.latency = 100 * time.Millisecond
	}
	if c.model == "" {
		c.model = "gpt-4o"
	}
	if c.service == "" {
		c.service = "chat-svc"
	}
	s := genai.Span{
		ProjectID: "p", TraceID: fmt.Sprintf("%032x", h.n), SpanID: fmt.Sprintf("%016x", h.n),
		ParentSpanID: "00000000000000ff", Name: "chat " + c.model, ServiceName: c.service,
		StartTime: end.Add(-c.latency), EndTime: end, StatusCode: genai.StatusOK,
		GenAI: &genai.Call{Type: genai.TypeLLM, Operation: "chat", RequestModel: c.model,
			Usage: genai.Usage{InputTokens: 100, OutputTokens: 50, TotalTokens: 150, Reported: true}},
	}
	if !c.unpriced {
		s.GenAI.Cost = genai.Cost{TotalUSD: q(c.cost), Source: genai.CostComputed}
	}
	if c.failed {
		s.StatusCode = genai.StatusError
	}
	s.GenAI.UserID = c.user
	if c.quality != nil {
		s.GenAI.Quality = &genai.Quality{Score: c.quality, Tier: genai.QualityTier1}
	}
	return s
}

// observe sends one batch of the calls, a second apart.
func (h *harness) observe(cs ...call) store.Batch {
	var b store.Batch
	for _, c := range cs {
		h.clock.add(time.Second)
		b.Spans = append(b.Spans, h.span(c))
	}
	h.e.Observe(context.Background(), b)
	return b
}

// repeat is n copies of c.
func repeat(n int, c call) []call {
	out := make([]call, n)
	for i := range out {
		out[i] = c
	}
	return out
}

// open returns the alerts of a type that are not resolved.
func (h *harness) open(typ string) []store.Alert {
	var out []store.Alert
	for _, a := range h.store.alertsOf(typ) {
		if a.Status != store.AlertResolved {
			out = append(out, a)
		}
	}
	return out
}

func (f *fakeStore) Alerts(_ context.Context, q store.AlertQuery) (store.AlertPage, error) {
	var page store.AlertPage
	for _, a := range f.alertsOf(q.Type) {
		if a.ProjectID == q.ProjectID && (q.Status == "" || a.Status == q.Status) {
			page.Alerts = append(page.Alerts, a)
		}
	}
	slices.Reverse(page.Alerts)
	return page, nil
}

func (f *fakeStore) PutChannel(_ context.Context, c store.Channel) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.channels = append(f.channels, c)
	return nil
}

func (f *fakeStore) PutBaselineParts(_ context.Context, ps []store.BaselinePart) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	for _, p := range ps {
		f.parts[fmt.Sprint(p.ProjectID, p.Service, p.Endpoint, p.Model, p.Metric, p.Owner)] = p
	}
	return nil
}

func (f *fakeStore) BaselineParts(_ context.Context, since time.Time) ([]store.BaselinePart, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.BaselinePart
	for _, p := range f.parts {
		if !p.UpdatedAt.Before(since) {
			out = append(out, p)
		}
	}
	return out, nil
}
