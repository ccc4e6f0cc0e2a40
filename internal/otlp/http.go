package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Signals, as passed to Publisher.Publish.
const (
	SignalTraces = "traces"
	SignalLogs   = "logs"
)

const (
	contentProto = "application/x-protobuf"
	contentJSON  = "application/json"
)

// retryAfter is what Lumina asks clients to wait after a retryable failure.
const retryAfter = "1"

// Register adds the OTLP/HTTP routes (POST /v1/traces, /v1/logs, /v1/metrics) to mux.
func (r *Receiver) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/traces", r.serveTraces)
	mux.HandleFunc("POST /v1/logs", r.serveLogs)
	mux.HandleFunc("POST /v1/metrics", r.serveMetrics)
}

// httpError is a failure answered with an OTLP Status body.
type httpError struct {
	status int
	code   codes.Code
	msg    string
	quota  *quotaError // set for a 429 over the daily trace limit
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) *httpError {
	return &httpError{status: http.StatusBadRequest, code: codes.InvalidArgument, msg: fmt.Sprintf(format, args...)}
}

// readBody checks the content type and encoding and reads the (decompressed) body within
// the size limit.
// isJSONRequest says whether an error answer should be JSON: the request says it sends
// OTLP/JSON.
func isJSONRequest(req *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	return mt == contentJSON
}

func (r *Receiver) readBody(w http.ResponseWriter, req *http.Request) (body []byte, isJSON bool, herr *httpError) {
	mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	switch {
	case err != nil && req.Header.Get("Content-Type") != "":
		return nil, false, &httpError{status: http.StatusUnsupportedMediaType, code: codes.InvalidArgument, msg: fmt.Sprintf("unparsable Content-Type %q", req.Header.Get("Content-Type"))}
	case mt == contentProto || mt == "application/protobuf":
	case mt == contentJSON:
		isJSON = true
	default:
		return nil, false, &httpError{status: http.StatusUnsupportedMediaType, code: codes.InvalidArgument, msg: fmt.Sprintf("unsupported Content-Type %q: use application/x-protobuf or application/json", req.Header.Get("Content-Type"))}
	}
	limit := r.cfg.MaxBodyBytes
	var src io.Reader = http.MaxBytesReader(w, req.Body, limit)
	compressed := false
	switch enc := req.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		compressed = true
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, isJSON, badRequest("invalid gzip body: %v", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, isJSON, &httpError{status: http.StatusUnsupportedMediaType, code: codes.InvalidArgument, msg: fmt.Sprintf("unsupported Content-Encoding %q: use gzip or none", enc)}
	}
	// An uncompressed body of known length is read into one buffer of that size: growing
	// a buffer by doubling copied and cleared a 1.5 MB request several times over.
	var buf bytes.Buffer
	if n := req.ContentLength; n > 0 && n <= limit && !compressed {
		buf.Grow(int(n) + bytes.MinRead) // MinRead spare: the final EOF read needs no growth
	}
	_, err = buf.ReadFrom(io.LimitReader(src, limit+1))
	body = buf.Bytes()
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge) || int64(len(body)) > limit:
		return nil, isJSON, &httpError{status: http.StatusRequestEntityTooLarge, code: codes.ResourceExhausted, msg: fmt.Sprintf("request body exceeds the %d-byte limit (checked before and after decompression)", limit)}
	case err != nil:
		return nil, isJSON, badRequest("read body: %v", err)
	}
	return body, isJSON, nil
}

func (r *Receiver) serveTraces(w http.ResponseWriter, req *http.Request) {
	r.serve(w, req, SignalTraces, func(ctx context.Context, project string, body []byte, isJSON bool) (accepted, func(bool) ([]byte, error), *httpError) {
		a, adm, err := r.acceptTraces(ctx, project, body, isJSON)
		setRateLimitHeaders(w.Header(), adm)
		var qe *quotaError
		var me *malformedError
		switch {
		case errors.As(err, &me):
			return accepted{}, nil, badRequest("malformed OTLP traces (%s): %v", encodingName(isJSON), me.err)
		case errors.As(err, &qe):
			return a, nil, &httpError{status: http.StatusTooManyRequests, code: codes.ResourceExhausted, msg: qe.Error(), quota: qe}
		case errors.Is(err, errQuotaUnavailable):
			w.Header().Set("Retry-After", retryAfter)
			return a, nil, &httpError{status: http.StatusServiceUnavailable, code: codes.Unavailable, msg: err.Error()}
		case err != nil:
			return accepted{}, nil, &httpError{status: http.StatusInternalServerError, code: codes.Internal, msg: err.Error()}
		}
		return a, marshaller(tracesResponse(a)), nil
	})
}

// malformedError is a request body that does not decode.
type malformedError struct{ err error }

func (e *malformedError) Error() string { return e.err.Error() }

// acceptTraces decides what of a traces request to publish, with the daily quota. A
// protobuf body whose scan is clean is published as received without being decoded (see
// scanTraces); anything else, or a request the quota admits only in part, is decoded
// with pdata.
func (r *Receiver) acceptTraces(ctx context.Context, project string, body []byte, isJSON bool) (accepted, *Admission, error) {
	var adm *Admission
	if !isJSON {
		if sc, ok := scanTraces(body, r.cfg.Admit != nil); ok {
			a := accepted{items: sc.spans}
			if a.items == 0 {
				return a, nil, nil
			}
			if r.cfg.Admit != nil {
				var err error
				if adm, err = r.admit(ctx, project, sc.traceIDs); err != nil {
					return accepted{}, nil, err
				}
			}
			if adm == nil || len(adm.Refused) == 0 {
				a.body = body
				return a, adm, nil
			}
		}
	}
	er := ptraceotlp.NewExportRequest()
	raw, err := unmarshal(er, body, isJSON)
	if err != nil {
		return accepted{}, nil, &malformedError{err}
	}
	return r.admitAndCheck(ctx, project, er, raw, adm)
}

func (r *Receiver) serveLogs(w http.ResponseWriter, req *http.Request) {
	r.serve(w, req, SignalLogs, func(_ context.Context, _ string, body []byte, isJSON bool) (accepted, func(bool) ([]byte, error), *httpError) {
		er := plogotlp.NewExportRequest()
		raw, err := unmarshal(er, body, isJSON)
		if err != nil {
			return accepted{}, nil, badRequest("malformed OTLP logs (%s): %v", encodingName(isJSON), err)
		}
		a, err := checkLogs(er, raw)
		if err != nil {
			return accepted{}, nil, &httpError{status: http.StatusInternalServerError, code: codes.Internal, msg: err.Error()}
		}
		return a, marshaller(logsResponse(a)), nil
	})
}

// serveMetrics accepts OTLP metrics so a standard collector pipeline that also exports
// metrics does not fail; Lumina counts the data points and does not store them.
func (r *Receiver) serveMetrics(w http.ResponseWriter, req *http.Request) {
	r.serve(w, req, "metrics", func(_ context.Context, _ string, body []byte, isJSON bool) (accepted, func(bool) ([]byte, error), *httpError) {
		er := pmetricotlp.NewExportRequest()
		if _, err := unmarshal(er, body, isJSON); err != nil {
			return accepted{}, nil, badRequest("malformed OTLP metrics (%s): %v", encodingName(isJSON), err)
		}
		return accepted{items: er.Metrics().DataPointCount()}, marshaller(metricsResponse()), nil
	})
}

type decodeFunc func(ctx context.Context, project string, body []byte, isJSON bool) (accepted, func(isJSON bool) ([]byte, error), *httpError)

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request, signal string, decode decodeFunc) {
	start := time.Now()
	defer func() { r.metrics.latency.WithLabelValues(signal, "http").Observe(time.Since(start).Seconds()) }()
	// Credentials first: an unauthenticated client costs no body read or decode.
	project, err := r.cfg.Project(req.Context(), req.Header)
	if err != nil {
		isJSON := isJSONRequest(req)
		if !errors.Is(err, ErrUnauthenticated) {
			r.log.Warn("credentials could not be checked", "signal", signal, "err", err)
			r.retryLater(w, signal, isJSON, "credentials could not be checked, retry later: "+err.Error())
			return
		}
		r.fail(w, signal, isJSON, &httpError{status: http.StatusUnauthorized, code: codes.Unauthenticated, msg: err.Error()})
		return
	}
	if r.refuseFull() {
		r.retryLater(w, signal, isJSONRequest(req), errFullMsg)
		return
	}
	if n := req.ContentLength; n > 0 && !r.fits(n) {
		r.retryLater(w, signal, isJSONRequest(req), errBusyMsg)
		return
	}
	body, isJSON, herr := r.readBody(w, req)
	if herr != nil {
		r.fail(w, signal, isJSON, herr)
		return
	}
	if !r.hold(int64(len(body))) {
		r.retryLater(w, signal, isJSON, errBusyMsg)
		return
	}
	defer r.release(int64(len(body)))
	r.metrics.bytes.WithLabelValues(signal).Add(float64(len(body)))
	a, respond, herr := decode(req.Context(), project, body, isJSON)
	if herr != nil {
		r.fail(w, signal, isJSON, herr)
		return
	}
	r.metrics.items.WithLabelValues(signal).Add(float64(a.items))
	r.metrics.rejected.WithLabelValues(signal).Add(float64(a.rejected))
	if a.body != nil {
		if err := r.pub.Publish(req.Context(), signal, project, a.body); err != nil {
			r.published(err)
			r.log.Warn("queue publish failed", "signal", signal, "project", project, "err", err)
			r.retryLater(w, signal, isJSON, "queue unavailable, retry later: "+err.Error())
			return
		}
	}
	out, err := respond(isJSON)
	if err != nil {
		r.fail(w, signal, isJSON, &httpError{status: http.StatusInternalServerError, code: codes.Internal, msg: err.Error()})
		return
	}
	r.metrics.requests.WithLabelValues(signal, "http", "accepted").Inc()
	w.Header().Set("Content-Type", contentType(isJSON))
	_, _ = w.Write(out)
}

// retryLater answers a retryable 503 with Retry-After.
func (r *Receiver) retryLater(w http.ResponseWriter, signal string, isJSON bool, msg string) {
	w.Header().Set("Retry-After", retryAfter)
	r.fail(w, signal, isJSON, &httpError{status: http.StatusServiceUnavailable, code: codes.Unavailable, msg: msg})
}

// fail answers with an OTLP Status message in the request's encoding; a request over the
// daily trace limit gets Retry-After and, for JSON clients, a JSON body with the limit, the
// count and the reset time (protobuf clients keep the Status, with those in an ErrorInfo).
func (r *Receiver) fail(w http.ResponseWriter, signal string, isJSON bool, e *httpError) {
	r.metrics.requests.WithLabelValues(signal, "http", outcome(e.status)).Inc()
	st := &statuspb.Status{Code: int32(e.code), Message: e.msg}
	var out []byte
	if e.quota != nil {
		now := r.cfg.Now()
		w.Header().Set("Retry-After", strconv.FormatInt(e.quota.retryAfter(now), 10))
		out = quotaBody(e.quota, isJSON, now)
	} else if isJSON {
		out, _ = protojson.Marshal(st)
	} else {
		out, _ = proto.Marshal(st)
	}
	w.Header().Set("Content-Type", contentType(isJSON))
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(e.status)
	_, _ = w.Write(out)
}

func outcome(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "over_quota"
	case status == http.StatusServiceUnavailable:
		return "retryable"
	case status == http.StatusUnauthorized:
		return "unauthenticated"
	default:
		return "invalid"
	}
}

type protoJSON interface {
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
}

// unmarshal decodes body and returns it again when it is protobuf, so an unchanged request
// is published as received.
func unmarshal(req protoJSON, body []byte, isJSON bool) ([]byte, error) {
	if isJSON {
		return nil, req.UnmarshalJSON(bytes.TrimSpace(body))
	}
	return body, req.UnmarshalProto(body)
}

type protoJSONMarshaler interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

func marshaller(m protoJSONMarshaler) func(bool) ([]byte, error) {
	return func(isJSON bool) ([]byte, error) {
		if isJSON {
			return m.MarshalJSON()
		}
		return m.MarshalProto()
	}
}

func contentType(isJSON bool) string {
	if isJSON {
		return contentJSON
	}
	return contentProto
}

func encodingName(isJSON bool) string {
	if isJSON {
		return "json"
	}
	return "protobuf"
}
