package otlp

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/protobuf/encoding/protowire"
)

// richTraces uses every message and field of the traces schema the scan walks: two
// resources sharing a trace, nested attribute values, events, links, status, flags.
func richTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	for r := range 2 {
		rs := td.ResourceSpans().AppendEmpty()
		rs.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
		attrs := rs.Resource().Attributes()
		attrs.PutStr("service.name", "svc")
		attrs.PutInt("r", int64(r))
		list := attrs.PutEmptyMap("nested")
		list.PutDouble("d", 1.5)
		arr := list.PutEmptySlice("arr")
		arr.AppendEmpty().SetBool(true)
		arr.AppendEmpty().SetEmptyBytes().FromRaw([]byte{0, 1, 2})
		arr.AppendEmpty().SetEmptyMap().PutStr("deep", "x")
		rs.Resource().SetDroppedAttributesCount(1)
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("scope")
		ss.Scope().SetVersion("1")
		ss.Scope().Attributes().PutStr("k", "v")
		ss.Scope().SetDroppedAttributesCount(2)
		ss.SetSchemaUrl("u")
		for i := range 3 {
			s := ss.Spans().AppendEmpty()
			s.SetTraceID(pcommon.TraceID{byte(i%2 + 1)})
			s.SetSpanID(pcommon.SpanID{byte(r + 1), byte(i + 1)})
			s.SetParentSpanID(pcommon.SpanID{9})
			s.TraceState().FromRaw("a=b")
			s.SetFlags(1)
			s.SetName("chat gpt-4o")
			s.SetKind(ptrace.SpanKindClient)
			s.SetStartTimestamp(1)
			s.SetEndTimestamp(2)
			s.Attributes().PutStr("gen_ai.prompt", strings.Repeat("hello ", 50))
			s.Attributes().PutInt("gen_ai.usage.input_tokens", 12)
			s.SetDroppedAttributesCount(3)
			e := s.Events().AppendEmpty()
			e.SetName("event")
			e.SetTimestamp(1)
			e.Attributes().PutStr("k", "v")
			e.SetDroppedAttributesCount(1)
			s.SetDroppedEventsCount(4)
			l := s.Links().AppendEmpty()
			l.SetTraceID(pcommon.TraceID{7})
			l.SetSpanID(pcommon.SpanID{7})
			l.TraceState().FromRaw("c=d")
			l.Attributes().PutStr("k", "v")
			l.SetDroppedAttributesCount(1)
			l.SetFlags(1)
			s.SetDroppedLinksCount(5)
			s.Status().SetCode(ptrace.StatusCodeError)
			s.Status().SetMessage("boom")
		}
	}
	return td
}

func marshalTraces(t testing.TB, td ptrace.Traces) []byte {
	t.Helper()
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// field appends one length-delimited field.
func field(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}

// oneSpan is a request of one span whose encoding is span.
func oneSpan(span []byte) []byte {
	return field(nil, 1, field(nil, 2, field(nil, 2, span)))
}

// validSpan is a span's encoding with trace id t and span id 1, then extra.
func validSpan(t byte, extra ...byte) []byte {
	s := field(nil, 1, append(make([]byte, 15), t))
	s = field(s, 2, []byte{0, 0, 0, 0, 0, 0, 0, 1})
	return append(s, extra...)
}

// scanAgrees checks the scan's promise on body: when it answers ok, pdata decodes the
// body, finds the same spans and trace ids, and rejects none of the spans.
func scanAgrees(t *testing.T, body []byte) bool {
	t.Helper()
	sc, ok := scanTraces(body, true)
	if !ok {
		return false
	}
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		t.Fatalf("the scan accepted a body pdata refuses: %v", err)
	}
	if n := req.Traces().SpanCount(); n != sc.spans {
		t.Fatalf("scan counted %d spans, pdata %d", sc.spans, n)
	}
	if ids := traceIDs(req.Traces()); !slices.Equal(ids, sc.traceIDs) {
		t.Fatalf("scan found trace ids %v, pdata %v", sc.traceIDs, ids)
	}
	a, err := checkTraces(req, body)
	if err != nil || a.rejected != 0 {
		t.Fatalf("the scan accepted a body with %d rejected spans (%v)", a.rejected, err)
	}
	return true
}

func TestScanTraces(t *testing.T) {
	zeroTrace := field(nil, 1, make([]byte, 16))
	cases := []struct {
		name string
		body []byte
		ok   bool // the scan answers ok (the fast path); false: pdata's path
	}{
		{"every field", marshalTraces(t, richTraces()), true},
		{"empty request", nil, true},
		{"unknown fields at every level", field(field(oneSpan(validSpan(1, field(nil, 99, []byte("x"))...)), 7, nil), 1, field(nil, 50, nil)), true},
		{"zero trace id, then a real one: the last wins", oneSpan(append(zeroTrace, validSpan(3)...)), true},
		{"a real trace id, then a zero one", oneSpan(append(validSpan(3), zeroTrace...)), false},
		{"zero trace id", oneSpan(append(zeroTrace, field(nil, 2, []byte{1, 0, 0, 0, 0, 0, 0, 0})...)), false},
		{"no span id", oneSpan(field(nil, 1, append(make([]byte, 15), 1))), false},
		{"15-byte trace id", oneSpan(field(validSpan(1), 1, make([]byte, 15))), false},
		{"9-byte parent span id", oneSpan(field(validSpan(1), 4, make([]byte, 9))), false},
		{"trace id as a varint", oneSpan(protowire.AppendVarint(protowire.AppendTag(validSpan(1), 1, protowire.VarintType), 5)), false},
		{"start time as a varint", oneSpan(protowire.AppendVarint(protowire.AppendTag(validSpan(1), 7, protowire.VarintType), 5)), false},
		{"truncated", marshalTraces(t, richTraces())[:200], false},
		{"a group", oneSpan(protowire.AppendTag(protowire.AppendTag(validSpan(1), 40, protowire.StartGroupType), 40, protowire.EndGroupType)), false},
		{"field number 0", append(oneSpan(validSpan(1)), 0x02, 0x00), false},
		{"deprecated instrumentation_library_spans", field(nil, 1, field(nil, 1000, nil)), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := scanAgrees(t, tc.body); got != tc.ok {
				t.Fatalf("scan ok = %v, want %v", got, tc.ok)
			}
		})
	}
}

// TestScanTracesFixtures checks that the payloads of real SDKs take the fast path.
func TestScanTracesFixtures(t *testing.T) {
	for _, name := range []string{"openllmetry-anthropic", "openllmetry-openai", "openllmetry-workflow", "otel-genai-openai"} {
		body, err := os.ReadFile(filepath.Join("testdata", name+".traces.pb"))
		if err != nil {
			t.Fatal(err)
		}
		if !scanAgrees(t, body) {
			t.Errorf("%s: the scan refused a real SDK's payload", name)
		}
	}
}

// TestScanTracesDepth checks that attribute values nested deeper than the scan follows go
// to pdata, which decodes them up to its own limit.
func TestScanTracesDepth(t *testing.T) {
	nested := func(depth int) ptrace.Traces {
		td := ptrace.NewTraces()
		s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetTraceID(pcommon.TraceID{1})
		s.SetSpanID(pcommon.SpanID{1})
		m := s.Attributes()
		for range depth {
			m = m.PutEmptyMap("k")
		}
		m.PutStr("leaf", "v")
		return td
	}
	if !scanAgrees(t, marshalTraces(t, nested(5))) {
		t.Fatal("5 levels: the scan refused")
	}
	deep := marshalTraces(t, nested(maxScanDepth))
	if scanAgrees(t, deep) {
		t.Fatalf("%d levels: the scan followed them", maxScanDepth)
	}
	if err := ptraceotlp.NewExportRequest().UnmarshalProto(deep); err != nil {
		t.Fatalf("pdata refuses %d levels, so they test nothing: %v", maxScanDepth, err)
	}
}

// FuzzScanTraces holds the scan to its promise on arbitrary bodies: whatever it accepts,
// pdata decodes to the same spans and trace ids, none of them rejected.
func FuzzScanTraces(f *testing.F) {
	seeds(f, "*.traces.pb")
	f.Add(marshalTraces(f, richTraces()))
	f.Add(oneSpan(validSpan(1, field(nil, 99, nil)...)))
	f.Fuzz(func(t *testing.T, body []byte) {
		scanAgrees(t, body)
	})
}

// BenchmarkAcceptTraces compares the scan with pdata's decoding on a request like the
// side-by-side benchmark's: 512 chat spans with ~2 KB of prompt each.
func BenchmarkAcceptTraces(b *testing.B) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "bench")
	ss := rs.ScopeSpans().AppendEmpty()
	for i := range 512 {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(pcommon.TraceID{byte(i), byte(i >> 8), 1})
		s.SetSpanID(pcommon.SpanID{byte(i), byte(i >> 8), 1})
		s.SetName("chat gpt-4o-mini")
		s.SetStartTimestamp(1)
		s.SetEndTimestamp(2)
		a := s.Attributes()
		a.PutStr("gen_ai.operation.name", "chat")
		a.PutStr("gen_ai.system", "openai")
		a.PutStr("gen_ai.request.model", "gpt-4o-mini")
		a.PutStr("gen_ai.response.model", "gpt-4o-mini-2024-07-18")
		a.PutInt("gen_ai.usage.input_tokens", 512)
		a.PutInt("gen_ai.usage.output_tokens", 128)
		a.PutDouble("gen_ai.request.temperature", 0.2)
		a.PutStr("gen_ai.prompt.0.role", "user")
		a.PutStr("gen_ai.prompt.0.content", strings.Repeat("lorem ipsum ", 170))
		a.PutStr("gen_ai.completion.0.role", "assistant")
		a.PutStr("gen_ai.completion.0.content", strings.Repeat("dolor ", 40))
		a.PutStr("session.id", "s1")
	}
	body := marshalTraces(b, td)
	b.Run("scan", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := scanTraces(body, false); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("pdata", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if err := ptraceotlp.NewExportRequest().UnmarshalProto(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
