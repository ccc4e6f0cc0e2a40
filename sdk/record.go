package lumina

import (
	"encoding/binary"
	"math/rand/v2"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// recorder records the transport's spans without the OpenTelemetry SDK's live span. A
// transport span is recorded after its call ended, with known times and attributes, and no
// code ever holds it, so starting a span (which copies the attributes into its config and
// into the span), ending it and taking its snapshot (two more copies, a de-duplication map)
// do nothing that a read-only span built once cannot. The recorder builds that span with
// tracetest.SpanStub.Snapshot, the OpenTelemetry SDK's public constructor of a ReadOnlySpan,
// doing what the provider would: the same sampler, random ids as its default generator
// makes, the parent from the request's context, the identity attributes of
// identityProcessor.OnStart, de-duplicated keys, and it hands the span to the batch
// processors, the provider's only processors that act on an ended span. The span then goes
// through the OTLP exporter exactly as before.
//
// It is used only where it records what the provider would: a provider Init created, whose
// sampler it knows, with the default span limits (no OTEL_*ATTRIBUTE*_LIMIT variable) and no
// experimental SDK self-observability. A span processor registered later on that provider
// (TracerProvider().RegisterSpanProcessor) does not see the transport's spans.
type recorder struct {
	sampler  sdktrace.Sampler
	resource *resource.Resource
	scope    instrumentation.Scope
	batchers []*batcher
	// recycle: every batcher's exporter lets go of a span when its export returns, so a
	// span's attributes can be handed to it and reused once every batcher is done with it.
	recycle bool
}

// spanLimitEnv are the variables through which the SDK's provider limits attributes: when one
// is set, the transport's spans go through the provider, which applies it.
var spanLimitEnv = []string{
	"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT",
	"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
	"OTEL_GO_X_OBSERVABILITY",
}

// directAllowed reports whether the environment leaves the provider's span handling at the
// defaults the recorder reproduces.
func directAllowed(env func(string) string) bool {
	for _, k := range spanLimitEnv {
		if env(k) != "" {
			return false
		}
	}
	return true
}

// record records c's span and reports whether it did; false leaves it to the tracer (an
// attribute the provider would normalize, or more attributes than its limit).
func (r *recorder) record(c *call) bool {
	id := identityFrom(c.ctx)
	var idAttrs []attribute.KeyValue
	if id != nil {
		idAttrs = id.attrs
	}
	n := len(c.attrs) + len(idAttrs)
	if n > sdktrace.DefaultAttributeCountLimit || !plainAttrs(c.attrs) || !plainAttrs(idAttrs) {
		return false
	}

	psc := trace.SpanContextFromContext(c.ctx)
	tid := psc.TraceID()
	if !tid.IsValid() {
		tid = newTraceID()
	}
	name := c.spanName()
	sr := r.sampler.ShouldSample(sdktrace.SamplingParameters{
		ParentContext: c.ctx, TraceID: tid, Name: name, Kind: trace.SpanKindClient, Attributes: c.attrs,
	})
	if sr.Decision == sdktrace.Drop {
		return true // the provider would return a span that records nothing
	}
	flags := psc.TraceFlags() &^ trace.FlagsSampled
	if sr.Decision == sdktrace.RecordAndSample {
		flags |= trace.FlagsSampled
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: newSpanID(), TraceFlags: flags, TraceState: sr.Tracestate,
	})

	// The attributes in the provider's order: the sampler's, the call's, the identity's
	// (OnStart); invalid ones dropped; a repeated key keeps its first place and its last value.
	// When the span's attributes can be recycled, they are the call's own slice, de-duplicated
	// in place (each write lands at or before the element being read), and the call gives it
	// up; otherwise a copy.
	var attrs []attribute.KeyValue
	inPlace := r.recycle && len(sr.Attributes) == 0
	if inPlace {
		attrs = c.attrs[:0]
	} else {
		attrs = make([]attribute.KeyValue, 0, len(sr.Attributes)+n)
	}
	dropped := 0
	for _, list := range [...][]attribute.KeyValue{sr.Attributes, c.attrs, idAttrs} {
		for _, kv := range list {
			if !kv.Valid() {
				dropped++
				continue
			}
			attrs = appendUnique(attrs, kv)
		}
	}
	if inPlace {
		c.attrs = nil // the span's now
	}
	if hint := int32(len(attrs) + 2); hint != c.client.attrsHint.Load() {
		c.client.attrsHint.Store(hint)
	}
	stub := tracetest.SpanStub{
		Name:                 name,
		SpanContext:          sc,
		Parent:               psc,
		SpanKind:             trace.SpanKindClient,
		StartTime:            c.start,
		EndTime:              c.endAt,
		Attributes:           attrs,
		DroppedAttributes:    dropped,
		Resource:             r.resource,
		InstrumentationScope: r.scope,
	}
	if c.errType != "" {
		stub.Status = sdktrace.Status{Code: codes.Error, Description: c.errMsg}
	}
	ro := stub.Snapshot()
	if inPlace {
		rs := &recycledSpan{ReadOnlySpan: ro, attrs: attrs}
		rs.refs.Store(int32(len(r.batchers)))
		ro = rs
	}
	for _, b := range r.batchers {
		b.OnEnd(ro)
	}
	return true
}

// recycledSpan is a recorded span whose attribute slice returns to the pool once every batch
// processor has exported or dropped it.
type recycledSpan struct {
	sdktrace.ReadOnlySpan
	attrs []attribute.KeyValue
	refs  atomic.Int32 // batch processors not yet done with the span
}

// done tells that one batch processor is done with s.
func (s *recycledSpan) done() {
	if s.refs.Add(-1) == 0 {
		a := s.attrs[:0]
		clear(a[:cap(a)])
		s.attrs = nil
		attrsPool.Put(&a)
	}
}

// releasesSpans reports whether exp is done with the spans of an export once ExportSpans
// returns: the OpenTelemetry OTLP exporters are (they turn the spans into protobuf
// messages and send them before returning), and so is the content filter in front of one.
// Any other exporter, such as an in-memory one, may keep them.
func releasesSpans(exp sdktrace.SpanExporter) bool {
	switch e := exp.(type) {
	case *otlptrace.Exporter:
		return true
	case *contentFilter:
		return releasesSpans(e.next)
	}
	return false
}

// plainAttrs reports whether no attribute is of a type the provider normalizes (the generic
// SLICE and MAP values).
func plainAttrs(kvs []attribute.KeyValue) bool {
	for _, kv := range kvs {
		if t := kv.Value.Type(); t == attribute.SLICE || t == attribute.MAP {
			return false
		}
	}
	return true
}

// appendUnique appends kv, or, when its key is already in attrs, replaces that value, as the
// SDK's de-duplication does. A span has a few dozen attributes: a scan beats a map.
func appendUnique(attrs []attribute.KeyValue, kv attribute.KeyValue) []attribute.KeyValue {
	for i := range attrs {
		if attrs[i].Key == kv.Key {
			attrs[i] = kv
			return attrs
		}
	}
	return append(attrs, kv)
}

// newTraceID and newSpanID make random, valid ids, as the SDK's default generator does.
func newTraceID() trace.TraceID {
	var tid trace.TraceID
	for !tid.IsValid() {
		binary.NativeEndian.PutUint64(tid[:8], rand.Uint64())
		binary.NativeEndian.PutUint64(tid[8:], rand.Uint64())
	}
	return tid
}

func newSpanID() trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.NativeEndian.PutUint64(sid[:], rand.Uint64())
	}
	return sid
}
