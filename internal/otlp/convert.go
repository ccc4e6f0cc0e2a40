package otlp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/use-lumina/lumina/internal/genai"
)

// unknownService is what OTel SDKs report when no service.name was configured; Lumina keeps
// the same word so a span without a resource is still findable.
const unknownService = "unknown_service"

// Spans converts decoded OTLP traces into Lumina spans of one project. Spans with an
// invalid trace or span id must have been removed first (see Validate).
func Spans(td ptrace.Traces, projectID string) []genai.Span {
	out := make([]genai.Span, 0, td.SpanCount())
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		resource := rs.Resource().Attributes()
		service := serviceName(resource)
		resRaw := resource.AsRaw()
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			scope := ss.Scope()
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				sp := spans.At(k)
				s := genai.Span{
					ProjectID:         projectID,
					TraceID:           traceHex(sp.TraceID()),
					SpanID:            spanHex(sp.SpanID()),
					TraceState:        sp.TraceState().AsRaw(),
					Name:              sp.Name(),
					Kind:              spanKind(sp.Kind()),
					ServiceName:       service,
					StartTime:         timestamp(sp.StartTimestamp()),
					EndTime:           timestamp(sp.EndTimestamp()),
					StatusCode:        statusCode(sp.Status().Code()),
					StatusMessage:     sp.Status().Message(),
					Attributes:        sp.Attributes().AsRaw(),
					Resource:          resRaw,
					ScopeName:         scope.Name(),
					ScopeVersion:      scope.Version(),
					DroppedAttributes: sp.DroppedAttributesCount(),
					DroppedEvents:     sp.DroppedEventsCount(),
					DroppedLinks:      sp.DroppedLinksCount(),
					ResourceSchemaURL: rs.SchemaUrl(),
					ScopeSchemaURL:    ss.SchemaUrl(),
				}
				if !sp.ParentSpanID().IsEmpty() {
					s.ParentSpanID = spanHex(sp.ParentSpanID())
				}
				s.Events = events(sp.Events())
				s.Links = links(sp.Links())
				out = append(out, s)
			}
		}
	}
	return out
}

// Logs converts decoded OTLP logs into Lumina log records of one project. Each record's ID
// is a hash of its content, so a redelivered request never stores a record twice.
func Logs(ld plog.Logs, projectID string) []genai.LogRecord {
	out := make([]genai.LogRecord, 0, ld.LogRecordCount())
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		resource := rl.Resource().Attributes()
		service := serviceName(resource)
		resRaw := resource.AsRaw()
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			records := sl.LogRecords()
			for k := 0; k < records.Len(); k++ {
				lr := records.At(k)
				r := genai.LogRecord{
					ProjectID:      projectID,
					Time:           timestamp(lr.Timestamp()),
					ObservedTime:   timestamp(lr.ObservedTimestamp()),
					EventName:      lr.EventName(),
					SeverityText:   lr.SeverityText(),
					SeverityNumber: int32(lr.SeverityNumber()),
					ServiceName:    service,
					ScopeName:      sl.Scope().Name(),
					Body:           lr.Body().AsRaw(),
					Attributes:     lr.Attributes().AsRaw(),
					Resource:       resRaw,
				}
				if r.EventName == "" {
					if v, ok := lr.Attributes().Get("event.name"); ok {
						r.EventName = v.AsString()
					}
				}
				if !lr.TraceID().IsEmpty() {
					r.TraceID = traceHex(lr.TraceID())
				}
				if !lr.SpanID().IsEmpty() {
					r.SpanID = spanHex(lr.SpanID())
				}
				r.ID = logID(rl.Resource(), sl.Scope().Name(), lr)
				out = append(out, r)
			}
		}
	}
	return out
}

// logID hashes everything that identifies a log record; encoding/json sorts map keys, so
// the same record always hashes the same.
func logID(res pcommon.Resource, scope string, lr plog.LogRecord) string {
	parts, _ := json.Marshal([]any{
		res.Attributes().AsRaw(), scope, uint64(lr.Timestamp()), uint64(lr.ObservedTimestamp()),
		lr.EventName(), lr.SeverityText(), lr.Body().AsRaw(), lr.Attributes().AsRaw(),
		traceHex(lr.TraceID()), spanHex(lr.SpanID()),
	})
	sum := sha256.Sum256(parts)
	return hex.EncodeToString(sum[:16])
}

func serviceName(resource pcommon.Map) string {
	if v, ok := resource.Get("service.name"); ok && v.AsString() != "" {
		return v.AsString()
	}
	return unknownService
}

func events(es ptrace.SpanEventSlice) []genai.Event {
	if es.Len() == 0 {
		return nil
	}
	out := make([]genai.Event, es.Len())
	for i := range out {
		e := es.At(i)
		out[i] = genai.Event{
			Time:              timestamp(e.Timestamp()),
			Name:              e.Name(),
			DroppedAttributes: e.DroppedAttributesCount(),
		}
		if e.Attributes().Len() > 0 {
			out[i].Attributes = e.Attributes().AsRaw()
		}
	}
	return out
}

func links(ls ptrace.SpanLinkSlice) []genai.Link {
	if ls.Len() == 0 {
		return nil
	}
	out := make([]genai.Link, ls.Len())
	for i := range out {
		l := ls.At(i)
		out[i] = genai.Link{
			TraceID:           traceHex(l.TraceID()),
			SpanID:            spanHex(l.SpanID()),
			TraceState:        l.TraceState().AsRaw(),
			DroppedAttributes: l.DroppedAttributesCount(),
		}
		if l.Attributes().Len() > 0 {
			out[i].Attributes = l.Attributes().AsRaw()
		}
	}
	return out
}

func traceHex(id pcommon.TraceID) string { return hex.EncodeToString(id[:]) }

func spanHex(id pcommon.SpanID) string { return hex.EncodeToString(id[:]) }

func timestamp(ts pcommon.Timestamp) time.Time {
	if ts == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(ts)).UTC()
}

func spanKind(k ptrace.SpanKind) string {
	switch k {
	case ptrace.SpanKindInternal:
		return "internal"
	case ptrace.SpanKindServer:
		return "server"
	case ptrace.SpanKindClient:
		return "client"
	case ptrace.SpanKindProducer:
		return "producer"
	case ptrace.SpanKindConsumer:
		return "consumer"
	}
	return "unspecified"
}

func statusCode(c ptrace.StatusCode) string {
	switch c {
	case ptrace.StatusCodeOk:
		return genai.StatusOK
	case ptrace.StatusCodeError:
		return genai.StatusError
	}
	return genai.StatusUnset
}
