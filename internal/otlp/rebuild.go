package otlp

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/use-lumina/lumina/internal/genai"
)

// Traces rebuilds OTLP traces from stored spans: the inverse of Spans, for export. Spans
// that shared a resource (same attributes and schema URL) and a scope (same name, version
// and schema URL) share them again, in the order the spans are given.
//
// Stored values are JSON, so two things come back in another form than they were sent:
// numbers are float64 (a whole number within ±2^53 becomes an OTLP int, any other a
// double, so a double attribute 1.0 comes back as the int 1), and byte values come back as
// their base64 text (a string).
func Traces(spans []genai.Span) ptrace.Traces {
	td := ptrace.NewTraces()
	resources := map[string]ptrace.ResourceSpans{}
	scopes := map[string]ptrace.ScopeSpans{}
	for i := range spans {
		s := &spans[i]
		rkey := resourceKey(s.Resource, s.ResourceSchemaURL)
		rs, ok := resources[rkey]
		if !ok {
			rs = td.ResourceSpans().AppendEmpty()
			rs.SetSchemaUrl(s.ResourceSchemaURL)
			putMap(rs.Resource().Attributes(), s.Resource)
			resources[rkey] = rs
		}
		skey := rkey + "\x00" + s.ScopeName + "\x00" + s.ScopeVersion + "\x00" + s.ScopeSchemaURL
		ss, ok := scopes[skey]
		if !ok {
			ss = rs.ScopeSpans().AppendEmpty()
			ss.SetSchemaUrl(s.ScopeSchemaURL)
			ss.Scope().SetName(s.ScopeName)
			ss.Scope().SetVersion(s.ScopeVersion)
			scopes[skey] = ss
		}
		putSpan(ss.Spans().AppendEmpty(), s)
	}
	return td
}

func putSpan(sp ptrace.Span, s *genai.Span) {
	sp.SetTraceID(traceID(s.TraceID))
	sp.SetSpanID(spanID(s.SpanID))
	if s.ParentSpanID != "" {
		sp.SetParentSpanID(spanID(s.ParentSpanID))
	}
	sp.TraceState().FromRaw(s.TraceState)
	sp.SetName(s.Name)
	sp.SetKind(kindOf(s.Kind))
	sp.SetStartTimestamp(fromTime(s.StartTime))
	sp.SetEndTimestamp(fromTime(s.EndTime))
	sp.Status().SetCode(statusOf(s.StatusCode))
	sp.Status().SetMessage(s.StatusMessage)
	putMap(sp.Attributes(), s.Attributes)
	sp.SetDroppedAttributesCount(s.DroppedAttributes)
	sp.SetDroppedEventsCount(s.DroppedEvents)
	sp.SetDroppedLinksCount(s.DroppedLinks)
	for _, e := range s.Events {
		ev := sp.Events().AppendEmpty()
		ev.SetTimestamp(fromTime(e.Time))
		ev.SetName(e.Name)
		putMap(ev.Attributes(), e.Attributes)
		ev.SetDroppedAttributesCount(e.DroppedAttributes)
	}
	for _, l := range s.Links {
		lk := sp.Links().AppendEmpty()
		lk.SetTraceID(traceID(l.TraceID))
		lk.SetSpanID(spanID(l.SpanID))
		lk.TraceState().FromRaw(l.TraceState)
		putMap(lk.Attributes(), l.Attributes)
		lk.SetDroppedAttributesCount(l.DroppedAttributes)
	}
}

// LogRecords rebuilds OTLP logs from stored log records: the inverse of Logs, for export,
// with the same value forms as Traces. Records are grouped by resource and scope name. The
// store keeps neither a record's flags, its dropped-attribute count, its scope's version
// and attributes, nor schema URLs, so those come back empty. A record whose event name
// came from its event.name attribute gets it back there only, as it was sent.
func LogRecords(records []genai.LogRecord) plog.Logs {
	ld := plog.NewLogs()
	resources := map[string]plog.ResourceLogs{}
	scopes := map[string]plog.ScopeLogs{}
	for i := range records {
		r := &records[i]
		rkey := resourceKey(r.Resource, "")
		rl, ok := resources[rkey]
		if !ok {
			rl = ld.ResourceLogs().AppendEmpty()
			putMap(rl.Resource().Attributes(), r.Resource)
			resources[rkey] = rl
		}
		skey := rkey + "\x00" + r.ScopeName
		sl, ok := scopes[skey]
		if !ok {
			sl = rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(r.ScopeName)
			scopes[skey] = sl
		}
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(fromTime(r.Time))
		lr.SetObservedTimestamp(fromTime(r.ObservedTime))
		if ev, _ := r.Attributes["event.name"].(string); ev != r.EventName {
			lr.SetEventName(r.EventName)
		}
		lr.SetSeverityText(r.SeverityText)
		lr.SetSeverityNumber(plog.SeverityNumber(r.SeverityNumber))
		putValue(lr.Body(), r.Body)
		putMap(lr.Attributes(), r.Attributes)
		if r.TraceID != "" {
			lr.SetTraceID(traceID(r.TraceID))
		}
		if r.SpanID != "" {
			lr.SetSpanID(spanID(r.SpanID))
		}
	}
	return ld
}

// resourceKey identifies a resource; encoding/json sorts map keys, so equal maps give
// equal keys.
func resourceKey(attrs map[string]any, schemaURL string) string {
	b, err := json.Marshal(attrs)
	if err != nil {
		b = fmt.Appendf(nil, "%v", attrs)
	}
	return schemaURL + "\x00" + string(b)
}

// putMap fills m with attrs, keys sorted so the same map always encodes the same.
func putMap(m pcommon.Map, attrs map[string]any) {
	if len(attrs) == 0 {
		return
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	m.EnsureCapacity(len(keys))
	for _, k := range keys {
		putValue(m.PutEmpty(k), attrs[k])
	}
}

// maxExactInt is the largest magnitude below which every whole float64 is an exact int.
const maxExactInt = 1 << 53

func putValue(v pcommon.Value, x any) {
	switch x := x.(type) {
	case nil:
	case string:
		v.SetStr(x)
	case bool:
		v.SetBool(x)
	case int64:
		v.SetInt(x)
	case int:
		v.SetInt(int64(x))
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < maxExactInt {
			v.SetInt(int64(x))
		} else {
			v.SetDouble(x)
		}
	case []byte:
		v.SetEmptyBytes().FromRaw(x)
	case []any:
		s := v.SetEmptySlice()
		s.EnsureCapacity(len(x))
		for _, e := range x {
			putValue(s.AppendEmpty(), e)
		}
	case map[string]any:
		putMap(v.SetEmptyMap(), x)
	default:
		if b, err := json.Marshal(x); err == nil {
			v.SetStr(string(b))
		} else {
			v.SetStr(fmt.Sprint(x))
		}
	}
}

func traceID(h string) pcommon.TraceID {
	var id pcommon.TraceID
	_, _ = hex.Decode(id[:], []byte(h))
	return id
}

func spanID(h string) pcommon.SpanID {
	var id pcommon.SpanID
	_, _ = hex.Decode(id[:], []byte(h))
	return id
}

func fromTime(t time.Time) pcommon.Timestamp {
	if t.IsZero() {
		return 0
	}
	return pcommon.NewTimestampFromTime(t)
}

func kindOf(k string) ptrace.SpanKind {
	switch k {
	case "internal":
		return ptrace.SpanKindInternal
	case "server":
		return ptrace.SpanKindServer
	case "client":
		return ptrace.SpanKindClient
	case "producer":
		return ptrace.SpanKindProducer
	case "consumer":
		return ptrace.SpanKindConsumer
	}
	return ptrace.SpanKindUnspecified
}

func statusOf(c string) ptrace.StatusCode {
	switch c {
	case genai.StatusOK:
		return ptrace.StatusCodeOk
	case genai.StatusError:
		return ptrace.StatusCodeError
	}
	return ptrace.StatusCodeUnset
}
