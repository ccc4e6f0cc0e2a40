package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// sender posts OTLP/HTTP requests to one endpoint, retrying what OTLP calls retryable (429,
// 502, 503, 504 and the other 5xx, and network errors) with exponential backoff, honouring
// Retry-After. Other 4xx answers are permanent. It is safe for concurrent use.
type sender struct {
	client     *http.Client
	base       string // endpoint without the signal path
	header     http.Header
	json       bool // send application/json rather than protobuf
	gzip       bool
	retries    int           // retries after the first attempt
	initial    time.Duration // first backoff
	maxBackoff time.Duration // backoff cap
	maxWait    time.Duration // longest Retry-After honoured; a longer one fails the request
	sleep      func(ctx context.Context, d time.Duration) error
	onRetry    func(attempt int, wait time.Duration, why error)
}

// sendResult is what an accepted request reports.
type sendResult struct {
	Rejected int64 // spans or log records refused in a partial success
	Message  string
}

// permanentError is a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// statusError is a non-2xx answer.
type statusError struct {
	url        string
	code       int
	message    string
	retryAfter time.Duration // 0 when absent
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("POST %s: %d %s", e.url, e.code, http.StatusText(e.code))
	if e.message != "" {
		msg += ": " + e.message
	}
	if e.code == http.StatusRequestEntityTooLarge {
		msg += " (export with a smaller --spans-per-line or --bytes-per-line, or raise the endpoint's body limit)"
	}
	return msg
}

// send posts body (an OTLP request of signal, encoded as s.json says) and retries until it is accepted, a permanent error, or the retries are spent.
func (s *sender) send(ctx context.Context, signal string, body []byte) (sendResult, error) {
	url := s.base + "/v1/" + signal
	payload, err := s.encode(body)
	if err != nil {
		return sendResult{}, &permanentError{err}
	}
	backoff := s.initial
	for attempt := 0; ; attempt++ {
		res, err := s.post(ctx, url, signal, payload)
		if err == nil {
			return res, nil
		}
		var se *statusError
		retryable := true
		wait := backoff/2 + rand.N(backoff/2+1) // jitter, so many importers do not retry in step
		switch {
		case ctx.Err() != nil:
			return sendResult{}, ctx.Err()
		case errors.As(err, &se):
			retryable = se.code == http.StatusTooManyRequests || se.code >= 500
			if se.retryAfter > 0 {
				wait = se.retryAfter
			}
		}
		if !retryable {
			return sendResult{}, &permanentError{err}
		}
		if attempt >= s.retries {
			return sendResult{}, fmt.Errorf("gave up after %d attempts: %w", attempt+1, err)
		}
		if wait > s.maxWait {
			return sendResult{}, fmt.Errorf("endpoint asks to retry after %s, longer than --max-retry-wait %s (a daily trace limit? raise it on the target for the migration): %w", wait, s.maxWait, err)
		}
		if s.onRetry != nil {
			s.onRetry(attempt+1, wait, err)
		}
		if err := s.sleep(ctx, wait); err != nil {
			return sendResult{}, err
		}
		backoff = min(backoff*2, s.maxBackoff)
	}
}

// encode compresses body when the sender gzips.
func (s *sender) encode(body []byte) ([]byte, error) {
	if !s.gzip {
		return body, nil
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(body)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *sender) post(ctx context.Context, url, signal string, payload []byte) (sendResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return sendResult{}, &permanentError{fmt.Errorf("POST %s: %w", url, err)}
	}
	for k, vs := range s.header {
		req.Header[k] = vs
	}
	if s.json {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "application/x-protobuf")
	}
	if s.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *neturl.Error // it repeats the method and URL
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return sendResult{}, fmt.Errorf("POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return sendResult{}, &statusError{url: url, code: resp.StatusCode, message: errorMessage(resp.Header.Get("Content-Type"), body),
			retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}
	return partialSuccess(signal, resp.Header.Get("Content-Type"), body), nil
}

// partialSuccess reads the rejected count of an OTLP export response; a body that is not
// one (some backends answer 200 with nothing or with text) counts as full success.
func partialSuccess(signal, contentType string, body []byte) sendResult {
	if len(body) == 0 {
		return sendResult{}
	}
	isJSON := strings.Contains(contentType, "json")
	switch signal {
	case "traces":
		r := ptraceotlp.NewExportResponse()
		if err := unmarshalResponse(r, isJSON, body); err != nil {
			return sendResult{}
		}
		return sendResult{Rejected: r.PartialSuccess().RejectedSpans(), Message: r.PartialSuccess().ErrorMessage()}
	default:
		r := plogotlp.NewExportResponse()
		if err := unmarshalResponse(r, isJSON, body); err != nil {
			return sendResult{}
		}
		return sendResult{Rejected: r.PartialSuccess().RejectedLogRecords(), Message: r.PartialSuccess().ErrorMessage()}
	}
}

func unmarshalResponse(r interface {
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
}, isJSON bool, body []byte) error {
	if isJSON {
		return r.UnmarshalJSON(body)
	}
	return r.UnmarshalProto(body)
}

// errorMessage is the message of an OTLP error body (a google.rpc.Status, protobuf or
// JSON), else the body's text, shortened.
func errorMessage(contentType string, body []byte) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	st := &statuspb.Status{}
	switch {
	case mt == "application/x-protobuf" || mt == "application/protobuf":
		if proto.Unmarshal(body, st) == nil && st.GetMessage() != "" {
			return st.GetMessage()
		}
	case mt == "application/json":
		if protojson.Unmarshal(body, st) == nil && st.GetMessage() != "" {
			return st.GetMessage()
		}
	}
	text := strings.TrimSpace(strings.ToValidUTF8(string(body), "?"))
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	return text
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; 0 when absent or invalid.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
