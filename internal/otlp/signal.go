package otlp

import (
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// accepted is the outcome of checking one decoded export request.
type accepted struct {
	body     []byte // protobuf to publish; nil when nothing is left to publish
	items    int    // spans, log records or data points received
	rejected int    // of which were rejected
	reason   string // why, for partial_success.error_message
}

// checkTraces removes spans that cannot be stored (zero trace or span id) and returns the
// protobuf to publish. raw is reused when the request came as protobuf and nothing changed.
func checkTraces(req ptraceotlp.ExportRequest, raw []byte) (accepted, error) {
	td := req.Traces()
	a := accepted{items: td.SpanCount()}
	var reasons []string
	td.ResourceSpans().RemoveIf(func(rs ptrace.ResourceSpans) bool {
		rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
			ss.Spans().RemoveIf(func(s ptrace.Span) bool {
				switch {
				case s.TraceID().IsEmpty():
					reasons = appendReason(reasons, "span with an all-zero trace_id")
				case s.SpanID().IsEmpty():
					reasons = appendReason(reasons, "span with an all-zero span_id")
				default:
					return false
				}
				a.rejected++
				return true
			})
			return ss.Spans().Len() == 0
		})
		return rs.ScopeSpans().Len() == 0
	})
	if a.rejected > 0 {
		a.reason = fmt.Sprintf("%d of %d spans rejected: %s", a.rejected, a.items, strings.Join(reasons, "; "))
	}
	if a.rejected == a.items {
		return a, nil
	}
	if raw != nil && a.rejected == 0 {
		a.body = raw
		return a, nil
	}
	body, err := req.MarshalProto()
	if err != nil {
		return a, fmt.Errorf("encode traces: %w", err)
	}
	a.body = body
	return a, nil
}

func checkLogs(req plogotlp.ExportRequest, raw []byte) (accepted, error) {
	a := accepted{items: req.Logs().LogRecordCount()}
	if a.items == 0 {
		return a, nil
	}
	if raw != nil {
		a.body = raw
		return a, nil
	}
	body, err := req.MarshalProto()
	if err != nil {
		return a, fmt.Errorf("encode logs: %w", err)
	}
	a.body = body
	return a, nil
}

func appendReason(reasons []string, r string) []string {
	if slices.Contains(reasons, r) {
		return reasons
	}
	return append(reasons, r)
}

func tracesResponse(a accepted) ptraceotlp.ExportResponse {
	resp := ptraceotlp.NewExportResponse()
	if a.rejected > 0 {
		resp.PartialSuccess().SetRejectedSpans(int64(a.rejected))
		resp.PartialSuccess().SetErrorMessage(a.reason)
	}
	return resp
}

func logsResponse(a accepted) plogotlp.ExportResponse {
	resp := plogotlp.NewExportResponse()
	if a.rejected > 0 {
		resp.PartialSuccess().SetRejectedLogRecords(int64(a.rejected))
		resp.PartialSuccess().SetErrorMessage(a.reason)
	}
	return resp
}

func metricsResponse() pmetricotlp.ExportResponse { return pmetricotlp.NewExportResponse() }
