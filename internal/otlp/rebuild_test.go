package otlp

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/use-lumina/lumina/internal/genai"
)

// stored is m as a store returns it: through JSON, so numbers are float64.
func stored(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func storedSpans(t *testing.T, spans []genai.Span) []genai.Span {
	for i := range spans {
		s := &spans[i]
		s.Attributes, s.Resource = stored(t, s.Attributes), stored(t, s.Resource)
		for j := range s.Events {
			s.Events[j].Attributes = stored(t, s.Events[j].Attributes)
		}
		for j := range s.Links {
			s.Links[j].Attributes = stored(t, s.Links[j].Attributes)
		}
	}
	return spans
}

// TestTracesRebuildsStoredSpans converts real instrumentations' requests to stored spans,
// rebuilds OTLP from them and converts again: every stored field comes back.
func TestTracesRebuildsStoredSpans(t *testing.T) {
	for _, name := range []string{"openllmetry-anthropic.traces.pb", "openllmetry-openai.traces.pb", "openllmetry-workflow.traces.pb", "otel-genai-openai.traces.pb"} {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			req := ptraceotlp.NewExportRequest()
			if err := req.UnmarshalProto(body); err != nil {
				t.Fatal(err)
			}
			want := storedSpans(t, Spans(req.Traces(), "p"))
			rebuilt := Traces(want)
			if got, w := rebuilt.SpanCount(), req.Traces().SpanCount(); got != w {
				t.Fatalf("got %d spans, want %d", got, w)
			}
			if got, w := rebuilt.ResourceSpans().Len(), req.Traces().ResourceSpans().Len(); got > w {
				t.Errorf("got %d resources, want at most the %d sent (spans of one resource share it)", got, w)
			}
			got := storedSpans(t, Spans(rebuilt, "p"))
			if !reflect.DeepEqual(got, want) {
				for i := range got {
					if !reflect.DeepEqual(got[i], want[i]) {
						t.Fatalf("span %d:\n got %+v\nwant %+v", i, got[i], want[i])
					}
				}
				t.Fatal("spans differ")
			}
		})
	}
}

// TestTracesValueForms pins the forms stored values come back in.
func TestTracesValueForms(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	s := genai.Span{
		TraceID: "0102030405060708090a0b0c0d0e0f10", SpanID: "0102030405060708", ParentSpanID: "1112131415161718",
		TraceState: "k=v", Name: "chat", Kind: "client", StartTime: start, EndTime: start.Add(time.Second),
		StatusCode: genai.StatusError, StatusMessage: "boom", ScopeName: "sc", ScopeVersion: "1.2", ScopeSchemaURL: "https://s", ResourceSchemaURL: "https://r",
		Attributes:        map[string]any{"tokens": 42.0, "temperature": 0.7, "big": 1e300, "ok": true, "list": []any{1.0, "a"}, "nested": map[string]any{"n": 2.0}, "nil": nil},
		Resource:          map[string]any{"service.name": "svc"},
		Events:            []genai.Event{{Time: start, Name: "e", Attributes: map[string]any{"x": "y"}, DroppedAttributes: 1}},
		Links:             []genai.Link{{TraceID: "0102030405060708090a0b0c0d0e0f11", SpanID: "0102030405060709", TraceState: "a=b", DroppedAttributes: 2}},
		DroppedAttributes: 3, DroppedEvents: 4, DroppedLinks: 5,
	}
	td := Traces([]genai.Span{s})
	rs := td.ResourceSpans().At(0)
	sp := rs.ScopeSpans().At(0).Spans().At(0)
	attrs := sp.Attributes()
	types := map[string]pcommon.ValueType{
		"tokens": pcommon.ValueTypeInt, "temperature": pcommon.ValueTypeDouble, "big": pcommon.ValueTypeDouble,
		"ok": pcommon.ValueTypeBool, "list": pcommon.ValueTypeSlice, "nested": pcommon.ValueTypeMap, "nil": pcommon.ValueTypeEmpty,
	}
	for k, want := range types {
		v, ok := attrs.Get(k)
		if !ok || v.Type() != want {
			t.Errorf("attribute %s: got %v (present %v), want %v", k, v.Type(), ok, want)
		}
	}
	if v, _ := attrs.Get("tokens"); v.Int() != 42 {
		t.Errorf("tokens: got %d, want 42", v.Int())
	}
	if sp.Kind() != ptrace.SpanKindClient || sp.Status().Code() != ptrace.StatusCodeError || sp.Status().Message() != "boom" ||
		sp.StartTimestamp().AsTime() != start || sp.TraceState().AsRaw() != "k=v" || sp.ParentSpanID().String() != "1112131415161718" {
		t.Errorf("span fields: got kind %v status %v %q start %v state %q parent %s", sp.Kind(), sp.Status().Code(), sp.Status().Message(),
			sp.StartTimestamp().AsTime(), sp.TraceState().AsRaw(), sp.ParentSpanID())
	}
	if rs.SchemaUrl() != "https://r" || rs.ScopeSpans().At(0).SchemaUrl() != "https://s" || rs.ScopeSpans().At(0).Scope().Version() != "1.2" {
		t.Errorf("schema URLs or scope version lost")
	}
	if sp.DroppedAttributesCount() != 3 || sp.DroppedEventsCount() != 4 || sp.DroppedLinksCount() != 5 ||
		sp.Events().At(0).DroppedAttributesCount() != 1 || sp.Links().At(0).DroppedAttributesCount() != 2 || sp.Links().At(0).TraceState().AsRaw() != "a=b" {
		t.Errorf("dropped counts, events or links lost")
	}
}

// TestLogRecordsRebuildsStoredRecords converts a real GenAI logs request to stored records
// and back: the records, and their content-hash ids, come back the same.
func TestLogRecordsRebuildsStoredRecords(t *testing.T) {
	body, err := os.ReadFile("testdata/otel-genai-openai.logs.pb")
	if err != nil {
		t.Fatal(err)
	}
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		t.Fatal(err)
	}
	// Add a record whose event name is only an attribute, as older SDKs send it.
	lr := req.Logs().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty()
	lr.Attributes().PutStr("event.name", "gen_ai.user.message")
	lr.Body().SetEmptyMap().PutInt("n", 7)
	storedLogs := func(ld plog.Logs) []genai.LogRecord {
		rs := Logs(ld, "p")
		for i := range rs {
			rs[i].Attributes, rs[i].Resource = stored(t, rs[i].Attributes), stored(t, rs[i].Resource)
			if m, ok := rs[i].Body.(map[string]any); ok {
				rs[i].Body = stored(t, m)
			}
		}
		return rs
	}
	want := storedLogs(req.Logs())
	if len(want) < 2 {
		t.Fatalf("fixture has %d records, want several", len(want))
	}
	got := storedLogs(LogRecords(want))
	if !reflect.DeepEqual(got, want) {
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
			}
		}
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
}
