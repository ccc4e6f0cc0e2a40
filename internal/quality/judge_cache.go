package quality

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// Cache stores judge verdicts by content hash. Implementations are safe for concurrent
// use; a Redis-backed one can share verdicts between worker processes.
type Cache interface {
	Get(ctx context.Context, key string) (genai.Judgement, bool, error)
	Put(ctx context.Context, key string, j genai.Judgement, ttl time.Duration) error
}

// MemoryCache is an in-process LRU Cache with per-entry expiry.
type MemoryCache struct {
	size int
	now  func() time.Time

	mu    sync.Mutex
	order *list.List // of *cacheEntry, most recent at the front
	byKey map[string]*list.Element
}

type cacheEntry struct {
	key     string
	j       genai.Judgement
	expires time.Time
}

// NewMemoryCache returns a cache holding at most size verdicts (default 10,000).
func NewMemoryCache(size int, now func() time.Time) *MemoryCache {
	if size <= 0 {
		size = 10000
	}
	return &MemoryCache{size: size, now: now, order: list.New(), byKey: map[string]*list.Element{}}
}

// Get returns the verdict stored under key, unless it expired.
func (c *MemoryCache) Get(_ context.Context, key string) (genai.Judgement, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return genai.Judgement{}, false, nil
	}
	ent := e.Value.(*cacheEntry)
	if !c.now().Before(ent.expires) {
		c.order.Remove(e)
		delete(c.byKey, key)
		return genai.Judgement{}, false, nil
	}
	c.order.MoveToFront(e)
	return ent.j, true, nil
}

// Put stores j under key for ttl, evicting the least recently used verdict when full.
func (c *MemoryCache) Put(_ context.Context, key string, j genai.Judgement, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.order.Remove(e)
	}
	c.byKey[key] = c.order.PushFront(&cacheEntry{key: key, j: j, expires: c.now().Add(ttl)})
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*cacheEntry).key)
	}
	return nil
}
