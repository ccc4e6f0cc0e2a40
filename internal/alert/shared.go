package alert

import (
	"context"
	"maps"
	"math"
	mrand "math/rand/v2"
	"slices"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// Baselines across worker processes (Config.Owner): each process sees a random share of
// the traffic, keeps its own share of every baseline as before, and writes it under its
// owner with its snapshots. Every Refresh it reads the other owners' shares, merges them
// per key and metric (counts and sums add; reservoirs are merged by weighted sampling) and
// judges its own share together with that merge. The latest arrival of each key among the
// other owners travels with their shares, for no_data.

// keyMetric names one baseline of one key.
type keyMetric struct {
	key    Key
	metric string
}

// decodedParts is what the stored shares say: this owner's own (used by Load only) and
// the other owners' merged.
type decodedParts struct {
	own           map[keyMetric]*dist
	others        map[keyMetric]*dist
	othersArrived map[Key]time.Time
}

// decodeParts decodes and merges stored shares; it takes no lock. Shares of another
// window length (a process configured differently) are skipped.
func (e *Engine) decodeParts(parts []store.BaselinePart, withOwn bool) decodedParts {
	out := decodedParts{own: map[keyMetric]*dist{}, others: map[keyMetric]*dist{}, othersArrived: map[Key]time.Time{}}
	if len(parts) == 0 {
		return out
	}
	width := newDist(e.cfg.BaselineWindow).Width
	groups := map[keyMetric][]*dist{}
	for _, p := range parts {
		k := Key{Project: p.ProjectID, Service: p.Service, Endpoint: p.Endpoint, Model: p.Model}
		own := p.Owner == e.cfg.Owner
		if own && !withOwn {
			continue
		}
		d, err := unmarshalDist(p.State, e.cfg.BaselineWindow)
		if err != nil || d.Width != width {
			e.log.Warn("baseline share unreadable or of another window; skipped", "owner", p.Owner, "key", k.String(), "metric", p.Metric, "err", err)
			continue
		}
		km := keyMetric{key: k, metric: p.Metric}
		if own {
			out.own[km] = d
			continue
		}
		groups[km] = append(groups[km], d)
		if p.Arrived.After(out.othersArrived[k]) {
			out.othersArrived[k] = p.Arrived
		}
	}
	rng := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 0x6d65726765))
	for km, ds := range groups {
		out.others[km] = mergeDists(ds, width, rng)
	}
	return out
}

// applyParts installs decoded shares; the caller holds mu. The other owners' merge
// replaces the previous one everywhere, so a share that aged out stops counting.
func (e *Engine) applyParts(sh decodedParts) {
	for km, d := range sh.own {
		e.state(km.key).dists[km.metric] = d
	}
	for _, ks := range e.keys {
		ks.othersArrived = time.Time{}
		for _, d := range ks.dists {
			if d.peer != nil {
				d.setPeer(nil)
			}
		}
	}
	for km, peer := range sh.others {
		ks := e.stateQuiet(km.key)
		if ks == nil {
			continue
		}
		d := ks.dists[km.metric]
		if d == nil {
			d = newDist(e.cfg.BaselineWindow)
			ks.dists[km.metric] = d
		}
		d.setPeer(peer)
	}
	for k, t := range sh.othersArrived {
		if ks := e.keys[k]; ks != nil {
			ks.othersArrived = t
		}
	}
}

// stateQuiet is state for a key another process saw: a new key goes to the back of the
// LRU and only while there is room, so other processes' keys never push out this one's.
func (e *Engine) stateQuiet(k Key) *keyState {
	if ks, ok := e.keys[k]; ok {
		return ks
	}
	if len(e.keys) >= e.cfg.MaxKeys {
		return nil
	}
	ks := &keyState{key: k, dists: map[string]*dist{}}
	ks.elem = e.lru.PushBack(ks)
	e.keys[k] = ks
	return ks
}

// refresh merges the other owners' shares again, when one is due.
func (e *Engine) refresh(ctx context.Context) {
	if e.cfg.Owner == "" {
		return
	}
	e.mu.Lock()
	now := e.now()
	if now.Sub(e.lastRefresh) < e.cfg.Refresh {
		e.mu.Unlock()
		return
	}
	e.lastRefresh = now
	e.mu.Unlock()
	parts, err := e.store.BaselineParts(ctx, now.Add(-e.cfg.BaselineWindow))
	if err != nil {
		e.log.Warn("read the other processes' baselines failed; retrying at the next refresh", "err", err)
		return
	}
	sh := e.decodeParts(parts, false)
	e.mu.Lock()
	e.applyParts(sh)
	e.mu.Unlock()
}

// mergeDists merges distributions of one window: buckets of the same start add their
// counts and sums, and their reservoirs are merged into one of at most reservoirSize values
// by weighted sampling without replacement (Efraimidis–Spirakis), each value weighing the
// requests it stands for, so the merge is a uniform sample of the union.
func mergeDists(ds []*dist, width int64, rng *mrand.Rand) *dist {
	out := &dist{Width: width}
	byStart := map[int64][]*bucket{}
	for _, d := range ds {
		for _, b := range d.Buckets {
			byStart[b.Start] = append(byStart[b.Start], b)
		}
	}
	type keyed struct{ v, key float64 }
	var cand []keyed
	for _, start := range slices.Sorted(maps.Keys(byStart)) {
		nb := &bucket{Start: start}
		cand = cand[:0]
		for _, b := range byStart[start] {
			nb.N += b.N
			nb.Sum += b.Sum
			if len(b.Res) == 0 {
				continue
			}
			w := float64(b.N) / float64(len(b.Res))
			for _, v := range b.Res {
				cand = append(cand, keyed{v: v, key: math.Log(rng.Float64()) / w})
			}
		}
		if len(cand) > reservoirSize {
			slices.SortFunc(cand, func(a, b keyed) int { return cmpFloat(b.key, a.key) })
			cand = cand[:reservoirSize]
		}
		for _, c := range cand {
			nb.Res = append(nb.Res, c.v)
		}
		out.Buckets = append(out.Buckets, nb)
	}
	if n := len(out.Buckets); n > 0 {
		out.expire(out.Buckets[n-1].Start)
	}
	return out
}
