package limits

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// admitScript admits trace ids into one project's set for one day, atomically (Redis runs
// a script alone): ids already in the set are accepted, new ones are added while the set is
// under the limit (ARGV[1], 0 for none) and refused after. The key expires ARGV[2] seconds
// after it is created. It returns {count, {refused ids…}}.
var admitScript = redis.NewScript(`
local limit = tonumber(ARGV[1])
local count = redis.call('SCARD', KEYS[1])
local refused = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('SISMEMBER', KEYS[1], id) == 0 then
    if limit > 0 and count >= limit then
      refused[#refused + 1] = id
    else
      redis.call('SADD', KEYS[1], id)
      count = count + 1
    end
  end
end
if count > 0 and redis.call('TTL', KEYS[1]) < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return {count, refused}
`)

// keyTTL is how long a day's set lives after its first trace: past the end of its day
// whenever it was created, after which Redis reclaims its memory.
const keyTTL = 48 * time.Hour

// Redis is a Counter shared by every ingest process connected to one Redis: one set per
// project and UTC day under <prefix>quota:<YYYYMMDD>:<project>, updated by a Lua script
// so the count is exact under concurrency. Unlimited projects (limit 0) are counted in a
// Redis HyperLogLog under <prefix>quota-hll:<YYYYMMDD>:<project> instead (≤ 12 KB, 0.81 %
// standard error), so their memory does not grow with their traffic. Durability is Redis's
// own (AOF or snapshots).
type Redis struct {
	client *redis.Client
	prefix string
}

// NewRedis returns a counter on the Redis at url (redis://[user:pass@]host:port/db,
// rediss:// for TLS); keys start with prefix (e.g. "lumina:"), so one Redis can serve
// several installations or tests. It connects lazily: a Redis that is down at start-up
// only makes the quota fail open until it is up. Close releases the connections.
func NewRedis(url, prefix string) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	opts.ContextTimeoutEnabled = true // the caller's deadline bounds each call (see counterBudget)
	return &Redis{client: redis.NewClient(opts), prefix: prefix}, nil
}

func (r *Redis) key(project string, day time.Time) string {
	return r.prefix + "quota:" + dayKey(day) + ":" + project
}

func (r *Redis) sketchKey(project string, day time.Time) string {
	return r.prefix + "quota-hll:" + dayKey(day) + ":" + project
}

// Admit implements Counter.
func (r *Redis) Admit(ctx context.Context, project string, day time.Time, limit int64, traceIDs []string) ([]string, int64, error) {
	if limit <= 0 {
		n, err := r.admitUncapped(ctx, project, day, traceIDs)
		return nil, n, err
	}
	args := make([]any, 0, len(traceIDs)+2)
	args = append(args, max(limit, 0), int64(keyTTL/time.Second))
	for _, id := range traceIDs {
		args = append(args, id)
	}
	res, err := admitScript.Run(ctx, r.client, []string{r.key(project, day)}, args...).Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("admit traces in redis: %w", err)
	}
	if len(res) != 2 {
		return nil, 0, fmt.Errorf("admit traces in redis: unexpected reply %v", res)
	}
	count, ok := res[0].(int64)
	list, ok2 := res[1].([]any)
	if !ok || !ok2 {
		return nil, 0, fmt.Errorf("admit traces in redis: unexpected reply %v", res)
	}
	var refused []string
	for _, v := range list {
		s, ok := v.(string)
		if !ok {
			return nil, 0, fmt.Errorf("admit traces in redis: unexpected refused id %v", v)
		}
		refused = append(refused, s)
	}
	return refused, count, nil
}

// admitUncapped adds an unlimited project's trace ids to its HyperLogLog and returns the
// project's count. Ids its set holds from earlier in the day (when it had a limit) may be
// counted twice: an estimate either way.
func (r *Redis) admitUncapped(ctx context.Context, project string, day time.Time, traceIDs []string) (int64, error) {
	ids := make([]any, len(traceIDs))
	for i, id := range traceIDs {
		ids[i] = id
	}
	key := r.sketchKey(project, day)
	var set, sketch *redis.IntCmd
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.PFAdd(ctx, key, ids...)
		p.Expire(ctx, key, keyTTL) // the last write of the day sets when it goes
		set = p.SCard(ctx, r.key(project, day))
		sketch = p.PFCount(ctx, key)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("admit traces in redis: %w", err)
	}
	return set.Val() + sketch.Val(), nil
}

// Count implements Counter.
func (r *Redis) Count(ctx context.Context, project string, day time.Time) (int64, error) {
	var set, sketch *redis.IntCmd
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		set = p.SCard(ctx, r.key(project, day))
		sketch = p.PFCount(ctx, r.sketchKey(project, day))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("count traces in redis: %w", err)
	}
	return set.Val() + sketch.Val(), nil
}

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// Close closes the connections.
func (r *Redis) Close() error {
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("close redis: %w", err)
	}
	return nil
}
