package limits

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/use-lumina/lumina/internal/testenv"
)

// testRedis returns a counter on LUMINA_TEST_REDIS_URL under a key prefix of its own,
// whose keys are deleted when the test ends.
func testRedis(t *testing.T, prefix string) *Redis {
	t.Helper()
	url := testenv.URL(t, testenv.RedisURL)
	r, err := NewRedis(url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		var keys []string
		iter := r.client.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			if err := r.client.Del(ctx, keys...).Err(); err != nil {
				t.Errorf("clean up redis keys: %v", err)
			}
		}
		r.Close()
	})
	return r
}

func TestRedisQuota(t *testing.T) {
	testQuotaEdges(t, testRedis(t, testenv.Name("lumina-test-")+":"))
}

// TestRedisSharedExact runs two quotas (two ingest processes) on one Redis, each with its
// own connection pool, admitting overlapping traces concurrently: exactly limit distinct
// traces are admitted between them, and every admitted trace's later spans are accepted.
func TestRedisSharedExact(t *testing.T) {
	prefix := testenv.Name("lumina-test-") + ":"
	a, b := testRedis(t, prefix), testRedis(t, prefix)
	start := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	const limit = 100
	qa := newQuotaFixture(t, Policy{Default: limit}, a, start).q
	qb := newQuotaFixture(t, Policy{Default: limit}, b, start).q

	var mu sync.Mutex
	admitted := map[string]int{} // trace → times it was admitted as new or seen
	refused := map[string]bool{}
	var wg sync.WaitGroup
	for w := range 8 {
		q := qa
		if w%2 == 1 {
			q = qb
		}
		wg.Go(func() {
			// Workers overlap: worker w sends traces w*20 .. w*20+39, three at a time.
			for i := w * 20; i < w*20+40; i += 3 {
				batch := ids("t", i, i+2)
				d, err := q.Admit(context.Background(), "p", batch)
				if err != nil || d.Unknown {
					t.Errorf("Admit: %v (unknown %v)", err, d.Unknown)
					return
				}
				mu.Lock()
				for _, id := range batch {
					if !contains(d.Refused, id) {
						admitted[id]++
					} else {
						refused[id] = true
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	n, err := a.Count(context.Background(), "p", Day(start))
	if err != nil || n != limit {
		t.Fatalf("count: got %d, %v, want exactly %d", n, err, limit)
	}
	if len(admitted) != limit {
		t.Errorf("distinct admitted traces: got %d, want %d", len(admitted), limit)
	}
	// Once refused, the set is full: a refused trace was never admitted, before or after.
	for id := range refused {
		if admitted[id] > 0 {
			t.Errorf("trace %s was both admitted and refused", id)
		}
	}
	// Every admitted trace is accepted again through either process.
	var all []string
	for id := range admitted {
		all = append(all, id)
	}
	for _, q := range []*Quota{qa, qb} {
		if d, err := q.Admit(context.Background(), "p", all); err != nil || len(d.Refused) != 0 || d.Count != limit {
			t.Errorf("admitted traces again: got %d refused, count %d, %v, want none refused", len(d.Refused), d.Count, err)
		}
	}
}

// TestRedisKeyExpires checks that a day's set is created with an expiry.
func TestRedisKeyExpires(t *testing.T) {
	prefix := testenv.Name("lumina-test-") + ":"
	r := testRedis(t, prefix)
	day := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	if _, _, err := r.Admit(context.Background(), "p", day, 10, ids("a", 1, 2)); err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("%squota:20261203:p", prefix)
	ttl, err := r.client.TTL(context.Background(), key).Result()
	if err != nil || ttl <= 24*time.Hour || ttl > keyTTL {
		t.Errorf("TTL of %s: got %v, %v, want between 24h and %v", key, ttl, err, keyTTL)
	}
	if _, err := r.client.Get(context.Background(), key).Result(); err == redis.Nil {
		t.Errorf("%s: missing", key)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// proxiedQuota is a quota of 5 a day on a Redis counter reached through a proxy that the
// test can cut or stall, with two traces of project p already counted.
func proxiedQuota(t *testing.T) (*testenv.Proxy, quotaFixture) {
	t.Helper()
	proxy, url := testenv.ProxyURL(t, testenv.URL(t, testenv.RedisURL))
	prefix := testenv.Name("lumina-test-") + ":"
	testRedis(t, prefix) // cleans the prefix up through the real address
	r, err := NewRedis(url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	f := newQuotaFixture(t, Policy{Default: 5}, r, time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC))
	if d := admit(t, f.q, "p", ids("a", 1, 2)); d.Unknown || d.Count != 2 {
		t.Fatalf("Redis up: got %+v, want counted", d)
	}
	return proxy, f
}

// TestRedisDownFailsOpen cuts the connection to Redis: the quota admits without counting
// (Unknown) instead of failing ingestion, and counts again once Redis is back.
func TestRedisDownFailsOpen(t *testing.T) {
	proxy, f := proxiedQuota(t)
	proxy.Cut()
	d := admit(t, f.q, "p", ids("a", 3, 20))
	if !d.Unknown || len(d.Refused) != 0 {
		t.Errorf("Redis down: got %+v, want everything admitted, uncounted", d)
	}
	if got := value(t, f.q.m.unavailable); got != 1 {
		t.Errorf("lumina_quota_counter_errors_total: got %v, want 1", got)
	}
	proxy.Restore()
	d = admit(t, f.q, "p", ids("a", 3, 9))
	if d.Unknown || d.Count != 5 || len(d.Refused) != 4 {
		t.Errorf("Redis back: got %+v, want counted again: 5 of 5, 4 refused", d)
	}
	if !strings.Contains(f.log.String(), "quota counter available again") {
		t.Errorf("no recovery log line:\n%s", f.log)
	}
}

// TestRedisStalledFailsOpenQuickly: a Redis that stops answering without closing the
// connection (a network that drops packets) must not hold ingestion up: the quota gives up
// on it within its budget and admits uncounted. Before the budget, the request waited 5 s.
func TestRedisStalledFailsOpenQuickly(t *testing.T) {
	proxy, f := proxiedQuota(t)
	proxy.Stall()
	t0 := time.Now()
	d := admit(t, f.q, "p", ids("a", 3, 4))
	if took := time.Since(t0); took > 4*counterBudget {
		t.Errorf("a stalled Redis held the request for %v; the quota's budget is %v", took, counterBudget)
	}
	if !d.Unknown || len(d.Refused) != 0 {
		t.Errorf("Redis stalled: got %+v, want everything admitted, uncounted", d)
	}
	proxy.Cut()
	proxy.Restore()
	d = admit(t, f.q, "p", ids("a", 3, 9))
	if d.Unknown || d.Count != 5 || len(d.Refused) != 4 {
		t.Errorf("Redis back: got %+v, want counted again: 5 of 5, 4 refused", d)
	}
}

// TestRedisUncapped: an unlimited project is counted in a HyperLogLog, not a set.
func TestRedisUncapped(t *testing.T) {
	r := testRedis(t, testenv.Name("lumina-test-")+":")
	day := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	testUncapped(t, r, "unlimited", day)
	ctx := context.Background()
	if n, err := r.client.Exists(ctx, r.key("unlimited", day)).Result(); err != nil || n != 0 {
		t.Errorf("a set of ids exists for the unlimited project (%d, %v)", n, err)
	}
	if ttl, err := r.client.TTL(ctx, r.sketchKey("unlimited", day)).Result(); err != nil || ttl <= 0 {
		t.Errorf("sketch TTL %v, %v: want it to expire", ttl, err)
	}
}
