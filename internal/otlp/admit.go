package otlp

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Admission is the daily trace quota's answer for one traces request.
type Admission struct {
	// Refused lists the request's trace ids (32 lower-case hex digits) that are not
	// admitted: new traces over the project's limit.
	Refused []string
	// Limit is the project's daily trace limit; 0 means unlimited.
	Limit int64
	// Count is the project's traces today, after this request.
	Count int64
	// Reset is when the count starts again (the next 00:00 UTC).
	Reset time.Time
	// Unknown says the count could not be read (the quota failed open): no rate-limit
	// headers are sent.
	Unknown bool
}

// AdmitFunc decides which traces of a request project may send; traceIDs are the request's
// distinct trace ids in hex. It is called on every traces request after decoding and
// before publishing. An error fails the request as retryable (503 / UNAVAILABLE).
type AdmitFunc func(ctx context.Context, projectID string, traceIDs []string) (Admission, error)

// quotaError says that every new trace of a request is over the project's daily limit and
// nothing is left to accept.
type quotaError struct {
	project string
	adm     Admission
}

func (e *quotaError) Error() string {
	return fmt.Sprintf("project %q reached its daily limit of %d traces (%d traces today); the limit resets at %s",
		e.project, e.adm.Limit, e.adm.Count, e.adm.Reset.UTC().Format(time.RFC3339))
}

// retryAfter is the whole seconds until the reset, at least 1.
func (e *quotaError) retryAfter(now time.Time) int64 {
	return max(int64(e.adm.Reset.Sub(now).Round(time.Second)/time.Second), 1)
}

// errQuotaUnavailable marks a quota that could not decide; the request is retryable.
var errQuotaUnavailable = errors.New("daily trace quota unavailable")

// admitAndCheck runs the daily quota over a decoded traces request, removing the spans of
// refused traces, then checkTraces. adm is the quota's answer when it was already asked
// (by the scan of the protobuf body); nil asks it here. It returns a *quotaError when
// nothing is left to accept because every new trace was over the limit, and the admission
// (nil without a quota) for the rate-limit headers. Partial admission: a request mixing
// admitted and refused traces is accepted, with the refused traces' spans counted in
// partial_success.
func (r *Receiver) admitAndCheck(ctx context.Context, project string, req ptraceotlp.ExportRequest, raw []byte, adm *Admission) (accepted, *Admission, error) {
	td := req.Traces()
	if adm == nil && r.cfg.Admit != nil && td.SpanCount() > 0 {
		var err error
		if adm, err = r.admit(ctx, project, traceIDs(td)); err != nil {
			return accepted{}, nil, err
		}
	}
	removed := 0
	if adm != nil {
		removed = removeRefused(td, adm.Refused)
	}
	if removed > 0 {
		raw = nil // changed: publish the remaining spans, re-encoded
	}
	a, err := checkTraces(req, raw)
	if err != nil || removed == 0 {
		return a, adm, err
	}
	a.items += removed
	a.rejected += removed
	reason := quotaReason(adm, removed)
	if a.reason != "" {
		reason += "; " + a.reason
	}
	a.reason = reason
	if a.body == nil {
		return a, adm, &quotaError{project: project, adm: *adm}
	}
	return a, adm, nil
}

// admit asks the daily quota about a request's distinct trace ids (hex).
func (r *Receiver) admit(ctx context.Context, project string, ids []string) (*Admission, error) {
	adm, err := r.cfg.Admit(ctx, project, ids)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errQuotaUnavailable, err)
	}
	return &adm, nil
}

// traceIDs lists td's distinct trace ids in hex, in the order first seen, leaving out the
// spans checkTraces rejects (a zero trace or span id: no trace).
func traceIDs(td ptrace.Traces) []string {
	seen := map[pcommon.TraceID]struct{}{}
	var ids []string
	forEachSpan(td, func(s ptrace.Span) {
		if s.TraceID().IsEmpty() || s.SpanID().IsEmpty() {
			return
		}
		if _, ok := seen[s.TraceID()]; !ok {
			seen[s.TraceID()] = struct{}{}
			id := s.TraceID()
			ids = append(ids, hex.EncodeToString(id[:]))
		}
	})
	return ids
}

// removeRefused removes the spans of the refused traces (hex ids) and returns how many.
func removeRefused(td ptrace.Traces, refusedIDs []string) int {
	if len(refusedIDs) == 0 {
		return 0
	}
	refused := map[pcommon.TraceID]bool{}
	for _, h := range refusedIDs {
		var id pcommon.TraceID
		if b, err := hex.DecodeString(h); err == nil && len(b) == len(id) {
			copy(id[:], b)
			refused[id] = true
		}
	}
	removed := 0
	td.ResourceSpans().RemoveIf(func(rs ptrace.ResourceSpans) bool {
		rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
			ss.Spans().RemoveIf(func(s ptrace.Span) bool {
				if refused[s.TraceID()] {
					removed++
					return true
				}
				return false
			})
			return ss.Spans().Len() == 0
		})
		return rs.ScopeSpans().Len() == 0
	})
	return removed
}

func forEachSpan(td ptrace.Traces, fn func(ptrace.Span)) {
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				fn(spans.At(k))
			}
		}
	}
}

// quotaReason is the partial_success message for spans of refused traces.
func quotaReason(adm *Admission, spans int) string {
	return fmt.Sprintf("%d spans of %d new traces refused: the project reached its daily limit of %d traces; it resets at %s",
		spans, len(adm.Refused), adm.Limit, adm.Reset.UTC().Format(time.RFC3339))
}

// setRateLimitHeaders sets the X-RateLimit-* headers of an admission with a limit.
func setRateLimitHeaders(h http.Header, adm *Admission) {
	if adm == nil || adm.Unknown || adm.Limit <= 0 {
		return
	}
	h.Set("X-RateLimit-Limit", strconv.FormatInt(adm.Limit, 10))
	h.Set("X-RateLimit-Remaining", strconv.FormatInt(max(adm.Limit-adm.Count, 0), 10))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(adm.Reset.Unix(), 10))
}

// quotaJSON is the body of a 429 to an OTLP/JSON client: Lumina's API error shape plus the
// limit, today's count and the reset time.
type quotaJSON struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Limit int64  `json:"limit"`
	Count int64  `json:"count"`
	Reset string `json:"reset"`
}

// quotaCode is the error code of a refused request, in JSON bodies and ErrorInfo.reason.
const quotaCode = "daily_trace_limit_exceeded"

// quotaStatus is the google.rpc.Status of a refused request, for protobuf and gRPC clients:
// RESOURCE_EXHAUSTED with an ErrorInfo carrying the limit, count and reset, and a RetryInfo
// with the time until the reset.
func quotaStatus(e *quotaError, now time.Time) *statuspb.Status {
	st := &statuspb.Status{Code: int32(codes.ResourceExhausted), Message: e.Error()}
	info, err1 := anypb.New(&errdetails.ErrorInfo{Reason: quotaCode, Domain: "lumina", Metadata: map[string]string{
		"limit": strconv.FormatInt(e.adm.Limit, 10),
		"count": strconv.FormatInt(e.adm.Count, 10),
		"reset": e.adm.Reset.UTC().Format(time.RFC3339),
	}})
	retry, err2 := anypb.New(&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Duration(e.retryAfter(now)) * time.Second)})
	if err1 == nil && err2 == nil {
		st.Details = []*anypb.Any{info, retry}
	}
	return st
}

// quotaBody is the 429 body: JSON for JSON clients, a google.rpc.Status for protobuf ones.
func quotaBody(e *quotaError, isJSON bool, now time.Time) []byte {
	if !isJSON {
		out, _ := proto.Marshal(quotaStatus(e, now))
		return out
	}
	var b quotaJSON
	b.Error.Code, b.Error.Message = quotaCode, e.Error()
	b.Limit, b.Count, b.Reset = e.adm.Limit, e.adm.Count, e.adm.Reset.UTC().Format(time.RFC3339)
	out, _ := json.Marshal(b)
	return append(out, '\n')
}

// grpcQuotaError is the RESOURCE_EXHAUSTED status of a refused gRPC request.
func grpcQuotaError(e *quotaError, now time.Time) error {
	return status.ErrorProto(quotaStatus(e, now))
}
