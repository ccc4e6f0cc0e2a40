// Package qualityredis is the tier-2 judge's verdict cache in Redis, shared by every
// worker process connected to one Redis (quality.Cache). cmd/lumina uses it when
// REDIS_URL is set, and quality.MemoryCache otherwise.
package qualityredis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/use-lumina/lumina/internal/genai"
)

// Cache stores verdicts under <prefix>judge:<content hash>, each expiring after its TTL.
// It is safe for concurrent use.
type Cache struct {
	client *redis.Client
	prefix string
}

// New returns a cache on the Redis at url with keys under prefix. It connects lazily: a
// Redis that is down only costs cache misses.
func New(url, prefix string) (*Cache, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	opts.ContextTimeoutEnabled = true // callBudget bounds each call
	return &Cache{client: redis.NewClient(opts), prefix: prefix}, nil
}

// callBudget bounds one Get or Put. A healthy Redis answers in about a millisecond; one that
// stops answering without closing the connection would otherwise hold the judge job for the
// client's timeouts. Past the budget a Get is a miss (the judge is asked) and a Put is lost.
const callBudget = 500 * time.Millisecond

func (c *Cache) key(k string) string { return c.prefix + "judge:" + k }

// Get implements quality.Cache.
func (c *Cache) Get(ctx context.Context, key string) (genai.Judgement, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, callBudget)
	defer cancel()
	b, err := c.client.Get(ctx, c.key(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return genai.Judgement{}, false, nil
	}
	if err != nil {
		return genai.Judgement{}, false, fmt.Errorf("read judge cache: %w", err)
	}
	var j genai.Judgement
	if err := json.Unmarshal(b, &j); err != nil {
		return genai.Judgement{}, false, fmt.Errorf("decode judge cache entry: %w", err)
	}
	return j, true, nil
}

// Put implements quality.Cache.
func (c *Cache) Put(ctx context.Context, key string, j genai.Judgement, ttl time.Duration) error {
	b, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("encode judge cache entry: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, callBudget)
	defer cancel()
	if err := c.client.Set(ctx, c.key(key), b, ttl).Err(); err != nil {
		return fmt.Errorf("write judge cache: %w", err)
	}
	return nil
}

// Close releases the connections.
func (c *Cache) Close() error { return c.client.Close() }
