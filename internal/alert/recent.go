package alert

// recentSet remembers the last n span ids observed, so a redelivered batch (committed, then
// not acknowledged before a crash or a timeout) is not counted twice. It forgets the oldest
// first; a redelivery older than n spans is counted again.
type recentSet struct {
	ids  map[string]struct{}
	ring []string
	next int
}

func newRecentSet(n int) *recentSet {
	return &recentSet{ids: make(map[string]struct{}, n), ring: make([]string, n)}
}

// add records id and reports whether it was new.
func (r *recentSet) add(id string) bool {
	if _, ok := r.ids[id]; ok {
		return false
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.ids, old)
	}
	r.ring[r.next] = id
	r.ids[id] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
	return true
}
