package loadgen

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

// attempt is the outcome of one try of one request.
type attempt struct {
	acked      bool
	rejected   int64         // partial_success.rejected_spans of an acked request
	retryable  bool          // the failure may succeed when retried
	retryAfter time.Duration // server-advised wait before retrying, 0 when none
	class      string        // failure class for the report ("http 503", "grpc Unavailable", …)
	msg        string        // failure detail
}

// sender sends prepared request bodies. Each client owns one; it is not shared.
type sender interface {
	// prepare turns a marshalled request into what goes on the wire (gzip for HTTP) and
	// runs before the latency clock starts.
	prepare(body []byte) ([]byte, error)
	// send makes one attempt.
	send(ctx context.Context, wire []byte) attempt
	close() error
}

// newHTTPTransport is the keep-alive transport shared by the HTTP clients. It never uses a
// proxy from the environment: traffic goes to the configured endpoint only.
func newHTTPTransport(clients int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * clients,
		MaxIdleConnsPerHost: 2 * clients,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

type httpSender struct {
	client  *http.Client
	url     string
	isJSON  bool
	gzip    bool
	headers map[string]string
	zbuf    bytes.Buffer
	zw      *gzip.Writer
}

func newHTTPSender(cfg Config, tr *http.Transport) *httpSender {
	s := &httpSender{
		client: &http.Client{
			Transport: tr,
			// A redirect could lead anywhere; load goes to the configured endpoint only.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		url:     cfg.tracesURL(),
		isJSON:  cfg.Protocol == ProtocolHTTPJSON,
		gzip:    cfg.Gzip,
		headers: cfg.Headers,
	}
	if cfg.Gzip {
		// BestSpeed keeps the generator's CPU share small; the receiver's decompression
		// cost barely depends on the level.
		s.zw, _ = gzip.NewWriterLevel(&s.zbuf, gzip.BestSpeed) // BestSpeed is a valid level
	}
	return s
}

func (s *httpSender) prepare(body []byte) ([]byte, error) {
	if !s.gzip {
		return body, nil
	}
	s.zbuf.Reset()
	s.zw.Reset(&s.zbuf)
	if _, err := s.zw.Write(body); err != nil {
		return nil, fmt.Errorf("gzip request body: %w", err)
	}
	if err := s.zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip request body: %w", err)
	}
	return bytes.Clone(s.zbuf.Bytes()), nil
}

func (s *httpSender) send(ctx context.Context, wire []byte) attempt {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(wire))
	if err != nil {
		return attempt{class: "request", msg: err.Error()}
	}
	if s.isJSON {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "application/x-protobuf")
	}
	if s.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	req.Header.Set("User-Agent", "lumina-loadgen")
	for k, v := range s.headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return attempt{retryable: true, class: "timeout", msg: err.Error()}
		case ctx.Err() != nil:
			return attempt{class: "canceled", msg: err.Error()}
		}
		return attempt{retryable: true, class: "transport", msg: err.Error()}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	_ = resp.Body.Close()
	if err != nil {
		return attempt{retryable: true, class: "transport", msg: fmt.Sprintf("read response: %v", err)}
	}
	if resp.StatusCode == http.StatusOK {
		rejected, err := decodeHTTPResponse(resp.Header.Get("Content-Type"), body)
		if err != nil {
			// The data was accepted; an unreadable body only hides partial_success.
			return attempt{acked: true, msg: err.Error()}
		}
		return attempt{acked: true, rejected: rejected}
	}
	a := attempt{class: "http " + strconv.Itoa(resp.StatusCode), msg: statusMessage(resp.Header.Get("Content-Type"), body)}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		a.retryable = true
		a.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return a
}

func (s *httpSender) close() error {
	s.client.CloseIdleConnections()
	return nil
}

func isJSONContent(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/json"
}

// decodeHTTPResponse reads partial_success.rejected_spans from an ExportTraceServiceResponse.
func decodeHTTPResponse(contentType string, body []byte) (int64, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return 0, nil
	}
	resp := ptraceotlp.NewExportResponse()
	var err error
	if isJSONContent(contentType) {
		err = resp.UnmarshalJSON(body)
	} else {
		err = resp.UnmarshalProto(body)
	}
	if err != nil {
		return 0, fmt.Errorf("decode export response: %w", err)
	}
	return resp.PartialSuccess().RejectedSpans(), nil
}

// statusMessage extracts the message of an OTLP error body (a google.rpc.Status).
func statusMessage(contentType string, body []byte) string {
	if !isJSONContent(contentType) {
		var st statuspb.Status
		if proto.Unmarshal(body, &st) == nil && st.GetMessage() != "" {
			return st.GetMessage()
		}
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
