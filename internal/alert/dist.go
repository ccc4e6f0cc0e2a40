package alert

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Baseline bounds: the window is cut into distBuckets time buckets, each keeping exact
// count and sum and a uniform reservoir of at most reservoirSize values, so a baseline costs
// at most distBuckets+1 reservoirs of memory however much traffic its key sees.
const (
	distBuckets   = 8
	reservoirSize = 64
	// statsEvery bounds how stale cached percentiles may get: they are recomputed after this
	// many new samples (the mean is always exact).
	statsEvery = 16
)

// dist is a baseline's distribution of one metric over a sliding time window.
type dist struct {
	Width   int64     `json:"w"` // bucket width, nanoseconds
	Buckets []*bucket `json:"b"` // oldest first
	// peer is the other worker processes' share of the baseline, merged (Config.Owner):
	// judged together with this one, never persisted with it, replaced on each refresh.
	peer   *dist
	cached stats
	stale  int // samples added since cached was computed
	fresh  bool
}

type bucket struct {
	Start int64     `json:"s"` // Unix nanoseconds
	N     int64     `json:"n"`
	Sum   float64   `json:"sum"`
	Res   []float64 `json:"r"`
}

// stats is a baseline's summary.
type stats struct {
	Count         int64
	Sum, Mean     float64
	P50, P95, P99 float64
}

func (s stats) stat(name string) float64 {
	switch name {
	case StatP50:
		return s.P50
	case StatP95:
		return s.P95
	case StatP99:
		return s.P99
	}
	return s.Mean
}

func newDist(window time.Duration) *dist {
	return &dist{Width: max(int64(window)/distBuckets, 1)}
}

// add records v observed at t (Unix nanoseconds). Values older than the window are dropped.
func (d *dist) add(t int64, v float64, rng *rand.Rand) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	start := t - t%d.Width
	var b *bucket
	switch n := len(d.Buckets); {
	case n > 0 && d.Buckets[n-1].Start == start:
		b = d.Buckets[n-1]
	case n == 0 || d.Buckets[n-1].Start < start:
		b = &bucket{Start: start}
		d.Buckets = append(d.Buckets, b)
		d.expire(start)
	default: // a late sample: into its bucket, while that is still in the window
		if start < d.Buckets[n-1].Start-distBuckets*d.Width {
			return
		}
		i, ok := slices.BinarySearchFunc(d.Buckets, start, func(b *bucket, s int64) int { return cmpInt(b.Start, s) })
		if ok {
			b = d.Buckets[i]
		} else {
			b = &bucket{Start: start}
			d.Buckets = slices.Insert(d.Buckets, i, b)
		}
	}
	b.N++
	b.Sum += v
	if len(b.Res) < reservoirSize {
		b.Res = append(b.Res, v)
	} else if j := rng.Int64N(b.N); j < reservoirSize {
		b.Res[j] = v
	}
	d.stale++
}

// expire drops the buckets that ended before the window that ends with newest, and
// reports whether it dropped any.
func (d *dist) expire(newest int64) bool {
	cut := newest - distBuckets*d.Width
	i := 0
	for i < len(d.Buckets) && d.Buckets[i].Start < cut {
		i++
	}
	if i > 0 {
		d.Buckets = slices.Delete(d.Buckets, 0, i)
		d.fresh = false
	}
	return i > 0
}

// setPeer sets the other processes' share judged with this one.
func (d *dist) setPeer(p *dist) {
	d.peer = p
	d.fresh = false
}

// summary returns the stats of the window that ends at now: count, sum and mean exact, percentiles from the
// reservoirs weighted by their buckets' counts, recomputed every statsEvery samples.
func (d *dist) summary(now int64) stats {
	d.expire(now)
	var s stats
	for _, b := range d.Buckets {
		s.Count += b.N
		s.Sum += b.Sum
	}
	if d.peer != nil {
		if d.peer.expire(now) {
			d.fresh = false
		}
		for _, b := range d.peer.Buckets {
			s.Count += b.N
			s.Sum += b.Sum
		}
	}
	if s.Count > 0 {
		s.Mean = s.Sum / float64(s.Count)
	}
	if !d.fresh || d.stale >= statsEvery {
		d.cached = d.percentiles()
		d.fresh, d.stale = true, 0
	}
	s.P50, s.P95, s.P99 = d.cached.P50, d.cached.P95, d.cached.P99
	return s
}

func (d *dist) percentiles() stats {
	type wv struct{ v, w float64 }
	var all []wv
	total := 0.0
	buckets := d.Buckets
	if d.peer != nil {
		buckets = slices.Concat(d.Buckets, d.peer.Buckets) // weighted alike: time order does not matter
	}
	for _, b := range buckets {
		if len(b.Res) == 0 {
			continue
		}
		w := float64(b.N) / float64(len(b.Res))
		for _, v := range b.Res {
			all = append(all, wv{v, w})
		}
		total += float64(b.N)
	}
	if len(all) == 0 {
		return stats{}
	}
	slices.SortFunc(all, func(a, b wv) int { return cmpFloat(a.v, b.v) })
	q := func(p float64) float64 {
		target, acc := p*total, 0.0
		for _, x := range all {
			acc += x.w
			if acc >= target {
				return x.v
			}
		}
		return all[len(all)-1].v
	}
	return stats{P50: q(0.50), P95: q(0.95), P99: q(0.99)}
}

func (d *dist) marshal() ([]byte, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode baseline state: %w", err)
	}
	return b, nil
}

func unmarshalDist(b []byte, window time.Duration) (*dist, error) {
	d := newDist(window)
	if err := json.Unmarshal(b, d); err != nil {
		return nil, fmt.Errorf("decode baseline state: %w", err)
	}
	if d.Width <= 0 {
		d.Width = newDist(window).Width
	}
	return d, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
