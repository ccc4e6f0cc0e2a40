package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// WorkerSlot takes the first free slot "<prefix>-<i>" (i < n) among the processes sharing
// this schema and returns i: the slot's PostgreSQL advisory lock (the same lock TryLock
// takes for a job of that name) is held until release is called, on a connection of its
// own outside the pool, so holding it for a process's lifetime takes no pooled connection
// from the worker. If that connection breaks, PostgreSQL releases the lock with it.
func (s *Store) WorkerSlot(ctx context.Context, prefix string, n int) (slot int, release func(), err error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return 0, nil, fmt.Errorf("take a %s slot: %w", prefix, err)
	}
	for i := range n {
		key := lockKey(s.parts.schema, lockJobs+fmt.Sprintf("%s-%d", prefix, i))
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", lockClass, key).Scan(&ok); err != nil {
			_ = conn.Close(context.WithoutCancel(ctx))
			return 0, nil, fmt.Errorf("take a %s slot: %w", prefix, err)
		}
		if ok {
			return i, func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_, _ = conn.Exec(ctx, "SELECT pg_advisory_unlock($1, $2)", lockClass, key)
				_ = conn.Close(ctx) // closing releases the lock too
			}, nil
		}
	}
	_ = conn.Close(context.WithoutCancel(ctx))
	return 0, nil, fmt.Errorf("take a %s slot: all %d are held by other processes", prefix, n)
}
