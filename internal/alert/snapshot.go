package alert

import (
	"context"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// snapshotChunk bounds the baselines written in one transaction.
const snapshotChunk = 256

// snapshot writes the baselines and spend (as this process knows the shared totals) changed since the last snapshot, when one is due
// (or always, with force). A failed write leaves them marked for the next one.
func (e *Engine) snapshot(ctx context.Context, force bool) {
	e.mu.Lock()
	now := e.now()
	if !force && now.Sub(e.lastSnap) < e.cfg.SnapshotEvery {
		e.mu.Unlock()
		return
	}
	e.lastSnap = now
	var bs []store.Baseline
	var parts []store.BaselinePart
	var keys []*keyState
	for _, ks := range e.keys {
		if !ks.dirty {
			continue
		}
		for metric, d := range ks.dists {
			st := d.summary(now.UnixNano())
			state, err := d.marshal()
			if err != nil {
				e.log.Warn("encode baseline failed", "err", err)
				continue
			}
			bs = append(bs, store.Baseline{
				ProjectID: ks.key.Project, Service: ks.key.Service, Endpoint: ks.key.Endpoint, Model: ks.key.Model,
				Metric: metric, WindowStart: now.Add(-e.cfg.BaselineWindow).UTC(), Count: st.Count, Sum: st.Sum,
				Mean: st.Mean, P50: st.P50, P95: st.P95, P99: st.P99, UpdatedAt: now.UTC(), State: state,
			})
			if e.cfg.Owner != "" {
				parts = append(parts, store.BaselinePart{Owner: e.cfg.Owner, ProjectID: ks.key.Project, Service: ks.key.Service,
					Endpoint: ks.key.Endpoint, Model: ks.key.Model, Metric: metric, Arrived: ks.arrived.UTC(), UpdatedAt: now.UTC(), State: state})
			}
		}
		ks.dirty = false
		keys = append(keys, ks)
	}
	var spends []*spend
	for bk, sp := range e.budgets {
		if !sp.dirty {
			continue
		}
		sp.dirty = false
		spends = append(spends, sp)
		endpoint := ""
		if bk.user != "" {
			endpoint = "user:" + bk.user
		}
		bs = append(bs, store.Baseline{
			ProjectID: bk.project, Service: bk.service, Endpoint: endpoint, Model: bk.model, Metric: "spend_" + bk.period,
			WindowStart: time.Unix(0, bk.start).UTC(), Count: sp.n(), Sum: sp.usd(), Mean: sp.usd() / float64(max(sp.n(), 1)),
			UpdatedAt: now.UTC(),
		})
	}
	e.mu.Unlock()
	if len(bs) == 0 {
		return
	}
	// In chunks, so a snapshot of many keys never holds the store's writer for long.
	var err error
	for i := 0; i < len(bs) && err == nil; i += snapshotChunk {
		err = e.store.PutBaselines(ctx, bs[i:min(i+snapshotChunk, len(bs))])
	}
	for i := 0; i < len(parts) && err == nil; i += snapshotChunk {
		err = e.store.PutBaselineParts(ctx, parts[i:min(i+snapshotChunk, len(parts))])
	}
	if err != nil {
		e.log.Warn("store baselines failed; retrying at the next snapshot", "baselines", len(bs), "err", err)
		e.mu.Lock()
		for _, ks := range keys {
			ks.dirty = true
		}
		for _, sp := range spends {
			sp.dirty = true
		}
		e.mu.Unlock()
	}
}

// restore resumes one stored baseline. Spend rows are the API's view of the shared
// accumulators (restoreSpend resumes those); a baseline whose state cannot be decoded
// starts again empty.
func (e *Engine) restore(b store.Baseline, now time.Time) {
	if strings.HasPrefix(b.Metric, "spend_") {
		return
	}
	if len(b.State) == 0 {
		return
	}
	d, err := unmarshalDist(b.State, e.cfg.BaselineWindow)
	if err != nil {
		e.log.Warn("baseline state unreadable; it starts again", "project", b.ProjectID, "metric", b.Metric, "err", err)
		return
	}
	ks := e.state(Key{Project: b.ProjectID, Service: b.Service, Endpoint: b.Endpoint, Model: b.Model})
	ks.dists[b.Metric] = d
}
