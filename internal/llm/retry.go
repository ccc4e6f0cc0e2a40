package llm

import (
	"context"
	"math/rand/v2"
	"time"
)

// Retry is the retry policy for transient failures. Zero values take the defaults.
type Retry struct {
	MaxAttempts int           // attempts in all; default 3
	BaseDelay   time.Duration // first backoff; default 500 ms, doubling, with jitter
	MaxDelay    time.Duration // longest wait; a Retry-After beyond it ends the retries; default 30 s
	// Sleep waits d or until ctx ends; tests replace it to record the waits.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (r Retry) withDefaults() Retry {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 3
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = 500 * time.Millisecond
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 30 * time.Second
	}
	if r.Sleep == nil {
		r.Sleep = sleep
	}
	return r
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// do runs attempt until it succeeds, fails for good, or the attempts run out. Each attempt
// gets its own timeout. The wait before a retry is the provider's Retry-After when it sent
// one, else exponential backoff with jitter.
func (r Retry) do(ctx context.Context, timeout time.Duration, attempt func(ctx context.Context) (Response, *Error)) (Response, error) {
	r = r.withDefaults()
	for n := 1; ; n++ {
		actx, cancel := context.WithTimeout(ctx, timeout)
		start := time.Now()
		resp, err := attempt(actx)
		cancel()
		if err == nil {
			resp.Latency = time.Since(start)
			resp.Attempts = n
			return resp, nil
		}
		err.Attempts = n
		if !err.Retryable || n >= r.MaxAttempts || err.RetryAfter > r.MaxDelay {
			return Response{}, err
		}
		wait := err.RetryAfter
		if wait == 0 {
			backoff := min(r.MaxDelay, r.BaseDelay<<(n-1))
			wait = backoff/2 + rand.N(backoff/2+1)
		}
		if serr := r.Sleep(ctx, wait); serr != nil {
			err.Retryable = false
			return Response{}, err
		}
	}
}
