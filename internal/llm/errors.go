package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// ErrMissingKey is returned when a provider's API key is not configured; the message names
// the variable to set.
var ErrMissingKey = errors.New("API key not set")

// Error is a failed provider call, classified once: Retryable is true for rate limits
// (429), overload and server errors (5xx, 408, 409) and timeouts or broken connections;
// RetryAfter is the provider's Retry-After, when it sent one.
type Error struct {
	Provider   string
	StatusCode int // 0 when no HTTP response arrived
	Retryable  bool
	RetryAfter time.Duration
	Attempts   int
	Err        error
}

func (e *Error) Error() string {
	kind := "permanent"
	if e.Retryable {
		kind = "retryable"
	}
	status := "no response"
	if e.StatusCode != 0 {
		status = "status " + strconv.Itoa(e.StatusCode)
	}
	return fmt.Sprintf("%s chat: %s (%s, %d attempt(s)): %v", e.Provider, status, kind, e.Attempts, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether retrying later may succeed; callers that cannot import this
// package (the judge) test for it through an interface.
func (e *Error) Temporary() bool { return e.Retryable }

// IsRetryable reports whether err is a provider error worth retrying later.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable
}

// classify turns an attempt's error into an *Error. status and header come from the SDK's
// API error when there was an HTTP response. parent is the caller's context: when it is
// done, the failure is the caller's, never retryable.
func classify(parent context.Context, provider string, err error, status int, header http.Header) *Error {
	e := &Error{Provider: provider, StatusCode: status, Err: err}
	if parent.Err() != nil {
		e.Err = fmt.Errorf("%w (%w)", parent.Err(), err)
		return e
	}
	switch {
	case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout, status == http.StatusConflict, status >= 500:
		e.Retryable = true
		e.RetryAfter = retryAfter(header)
	case status != 0:
	default:
		var ne net.Error
		e.Retryable = errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) ||
			errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
	}
	return e
}

// retryAfter reads retry-after-ms (Anthropic, OpenAI) or Retry-After (seconds or an HTTP
// date).
func retryAfter(h http.Header) time.Duration {
	if h == nil {
		return 0
	}
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}
