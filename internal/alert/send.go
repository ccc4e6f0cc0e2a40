package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// SignatureHeader carries a generic webhook's signature: "t=<unix seconds>,v1=<hex>", where
// the hex is HMAC-SHA256 over "<unix seconds>.<body>" keyed with the channel's secret.
const SignatureHeader = "X-Lumina-Signature"

// Sign returns the SignatureHeader value for body sent at ts.
func Sign(secret string, ts time.Time, body []byte) string {
	t := strconv.FormatInt(ts.Unix(), 10)
	return "t=" + t + ",v1=" + hex.EncodeToString(mac(secret, t, body))
}

func mac(secret, t string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(t))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// VerifySignature checks a SignatureHeader value against body: the MAC must match and the
// timestamp be within tolerance of now (against replays). Receivers can copy it.
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var t, v1 string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			t = v
		case "v1":
			v1 = v
		}
	}
	sec, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v1 == "" {
		return errors.New("signature header: want t=<unix seconds>,v1=<hex>")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("signature timestamp is %s away from now", d.Round(time.Second))
	}
	got, err := hex.DecodeString(v1)
	if err != nil || !hmac.Equal(got, mac(secret, t, body)) {
		return errors.New("signature does not match")
	}
	return nil
}

// Result is the outcome of one delivery attempt.
type Result struct {
	Status int // HTTP status; 0 when no response arrived
	Err    error
	// Retryable is set for 5xx, 429, timeouts and network errors: worth another attempt.
	Retryable bool
	// RetryAfter is the receiver's Retry-After, when it sent one.
	RetryAfter time.Duration
}

// Sender delivers one outbox item to its channel over HTTP.
type Sender struct {
	Client   *http.Client
	Payloads Payloads
	Now      func() time.Time
	// Timeout bounds one attempt (default 10 s).
	Timeout time.Duration
}

// Send renders d for ch's type and posts it. It never retries; the Dispatcher does.
func (s *Sender) Send(ctx context.Context, ch store.Channel, d store.Delivery) Result {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	var (
		body []byte
		err  error
		url  = ch.URL
	)
	switch ch.Type {
	case store.ChannelWebhook:
		body, err = s.Payloads.Webhook(&d, now())
	case store.ChannelSlack:
		body, err = s.Payloads.Slack(&d)
	case store.ChannelDiscord:
		body, err = s.Payloads.Discord(&d)
	case store.ChannelPagerDuty:
		if url == "" {
			url = PagerDutyEventsURL
		}
		body, err = s.Payloads.PagerDuty(&d, ch.RoutingKey)
	default:
		err = fmt.Errorf("unknown channel type %q", ch.Type)
	}
	if err != nil {
		return Result{Err: fmt.Errorf("render %s payload: %w", ch.Type, err)}
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Result{Err: fmt.Errorf("build request to channel %s: %w", ch.ID, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Lumina-Alerts/1")
	if ch.Type == store.ChannelWebhook {
		req.Header.Set("X-Lumina-Event", d.Event)
		req.Header.Set("X-Lumina-Delivery", d.ID)
		if ch.Secret != "" {
			req.Header.Set(SignatureHeader, Sign(ch.Secret, now(), body))
		}
	}
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Result{Err: fmt.Errorf("post to channel %s: %w", ch.ID, err), Retryable: true}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	r := Result{Status: resp.StatusCode}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return r
	}
	r.Err = fmt.Errorf("channel %s answered %s: %s", ch.ID, resp.Status, strings.TrimSpace(string(snippet)))
	r.Retryable = resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout
	if sec, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && sec > 0 {
		r.RetryAfter = time.Duration(sec) * time.Second
	}
	return r
}
