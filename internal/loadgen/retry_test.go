package loadgen

import (
	"context"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{"-1", 0},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestBackoffHonoursServerAdvice(t *testing.T) {
	c := &client{jitter: rand.New(rand.NewPCG(1, 1))}
	if got := c.backoff(0, 2*time.Second); got != 2*time.Second {
		t.Errorf("backoff with Retry-After 2s = %v, want 2s", got)
	}
	if got := c.backoff(0, time.Hour); got != MaxRetryWait {
		t.Errorf("backoff with Retry-After 1h = %v, want the %v cap", got, MaxRetryWait)
	}
	for try := range 10 {
		d := 100 * time.Millisecond << min(try, 6)
		d = min(d, 5*time.Second)
		if got := c.backoff(try, 0); got < d/2 || got > d {
			t.Errorf("backoff(%d) = %v, want %v..%v", try, got, d/2, d)
		}
	}
}

func TestGRPCFailureClassification(t *testing.T) {
	withRetryInfo := func(c codes.Code, d time.Duration) error {
		st, err := status.New(c, "slow down").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
		if err != nil {
			t.Fatalf("status with details: %v", err)
		}
		return st.Err()
	}
	for _, tc := range []struct {
		name       string
		err        error
		retryable  bool
		retryAfter time.Duration
		class      string
	}{
		{"unavailable", status.Error(codes.Unavailable, "queue full"), true, 0, "grpc Unavailable"},
		{"unavailable with delay", withRetryInfo(codes.Unavailable, 2*time.Second), true, 2 * time.Second, "grpc Unavailable"},
		{"exhausted without RetryInfo", status.Error(codes.ResourceExhausted, "too big"), false, 0, "grpc ResourceExhausted"},
		{"exhausted with RetryInfo", withRetryInfo(codes.ResourceExhausted, time.Second), true, time.Second, "grpc ResourceExhausted"},
		{"invalid argument", status.Error(codes.InvalidArgument, "bad"), false, 0, "grpc InvalidArgument"},
		{"unauthenticated", status.Error(codes.Unauthenticated, "no key"), false, 0, "grpc Unauthenticated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := grpcFailure(context.Background(), tc.err)
			if a.retryable != tc.retryable || a.retryAfter != tc.retryAfter || a.class != tc.class {
				t.Errorf("grpcFailure = retryable %v, after %v, class %q; want %v, %v, %q",
					a.retryable, a.retryAfter, a.class, tc.retryable, tc.retryAfter, tc.class)
			}
		})
	}
}
