package quality

import (
	"sync"
	"time"
)

// budget tracks each project's judge spend for the current UTC day, in process. Calls in
// flight hold a reservation (their estimated cost) so concurrent calls cannot overshoot.
type budget struct {
	mu       sync.Mutex
	day      string
	spent    map[string]float64
	reserved map[string]float64
}

func newBudget() *budget {
	return &budget{spent: map[string]float64{}, reserved: map[string]float64{}}
}

// roll resets the counters when the UTC day changed. Callers hold mu.
func (b *budget) roll(now time.Time) {
	if d := now.UTC().Format(time.DateOnly); d != b.day {
		b.day = d
		clear(b.spent)
		clear(b.reserved)
	}
}

// reserve books est against project's limit; it reports false, booking nothing, when the
// spend plus reservations plus est would exceed limit. A negative limit is unlimited.
func (b *budget) reserve(project string, limit, est float64, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(now)
	if limit >= 0 && b.spent[project]+b.reserved[project]+est > limit {
		return false
	}
	b.reserved[project] += est
	return true
}

// settle replaces a reservation by the actual cost.
func (b *budget) settle(project string, est, actual float64, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d := now.UTC().Format(time.DateOnly); d != b.day {
		b.roll(now) // the reservation belonged to yesterday
	} else {
		b.reserved[project] = max(0, b.reserved[project]-est)
	}
	b.spent[project] += actual
}

// spentToday is project's spend so far today.
func (b *budget) spentToday(project string, now time.Time) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(now)
	return b.spent[project]
}
