package loadgen

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

func testPool(t *testing.T, protocol string, spansPerRequest, spansPerTrace int) *pool {
	t.Helper()
	cfg := Config{Protocol: protocol, SpansPerRequest: spansPerRequest, SpansPerTrace: spansPerTrace, Requests: 1}.withDefaults()
	p, err := buildPool(cfg, rand.New(rand.NewPCG(1, 2)), "run1", time.Unix(1_800_000_000, 0))
	if err != nil {
		t.Fatalf("buildPool: %v", err)
	}
	return p
}

func decode(t *testing.T, body []byte, isJSON bool) ptrace.Traces {
	t.Helper()
	req := ptraceotlp.NewExportRequest()
	var err error
	if isJSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		t.Fatalf("decode instance: %v", err)
	}
	return req.Traces()
}

func allSpans(td ptrace.Traces) []ptrace.Span {
	var out []ptrace.Span
	for i := range td.ResourceSpans().Len() {
		sss := td.ResourceSpans().At(i).ScopeSpans()
		for j := range sss.Len() {
			for k := range sss.At(j).Spans().Len() {
				out = append(out, sss.At(j).Spans().At(k))
			}
		}
	}
	return out
}

func TestInstanceGivesFreshIDs(t *testing.T) {
	for _, tc := range []struct {
		protocol          string
		perRequest, trace int
		wantTraces        []int
	}{
		{ProtocolHTTP, 100, 5, slices.Repeat([]int{5}, 20)},
		{ProtocolHTTPJSON, 12, 5, []int{5, 5, 2}},
		{ProtocolGRPC, 3, 1, []int{1, 1, 1}},
		{ProtocolHTTP, 2, 7, []int{2}},
	} {
		t.Run(tc.protocol, func(t *testing.T) {
			p := testPool(t, tc.protocol, tc.perRequest, tc.trace)
			tpl := &p.templates[1]
			if !slices.Equal(tpl.spans, tc.wantTraces) {
				t.Fatalf("trace sizes = %v, want %v", tpl.spans, tc.wantTraces)
			}
			idRNG := rand.New(rand.NewPCG(3, 4))
			seen := map[[16]byte]bool{}
			for range 3 {
				ids := make([][16]byte, len(tpl.offsets))
				td := decode(t, tpl.instance(make([]byte, len(tpl.body)), idRNG, ids, time.Now()), tpl.isJSON)
				spans := allSpans(td)
				if len(spans) != tc.perRequest {
					t.Fatalf("instance has %d spans, want %d", len(spans), tc.perRequest)
				}
				got := map[[16]byte]int{}
				for _, s := range spans {
					got[[16]byte(s.TraceID())]++
				}
				for i, id := range ids {
					if seen[id] {
						t.Errorf("trace id %s reused", traceIDHex(id))
					}
					seen[id] = true
					if got[id] != tpl.spans[i] {
						t.Errorf("trace %d: %d spans carry its new id, want %d", i, got[id], tpl.spans[i])
					}
				}
				if len(got) != len(ids) {
					t.Errorf("instance has %d distinct trace ids, want %d (an old id survived?)", len(got), len(ids))
				}
			}
		})
	}
}

// TestInstanceCarriesTheSendTime checks that a copy's span times are the template's moved
// to the send time, every one of them and by the same amount, so durations and the order of
// a trace's spans are kept and a store sees times that grow as live traffic's do.
func TestInstanceCarriesTheSendTime(t *testing.T) {
	const shift = 90*time.Minute + 123*time.Nanosecond
	for _, protocol := range []string{ProtocolHTTP, ProtocolHTTPJSON} {
		t.Run(protocol, func(t *testing.T) {
			p := testPool(t, protocol, 100, 5) // built at time.Unix(1_800_000_000, 0)
			tpl := &p.templates[2]
			if len(tpl.times) != 200 {
				t.Fatalf("%d span times located, want 200", len(tpl.times))
			}
			before := allSpans(decode(t, tpl.body, tpl.isJSON))
			ids := make([][16]byte, len(tpl.offsets))
			after := allSpans(decode(t, tpl.instance(make([]byte, len(tpl.body)), rand.New(rand.NewPCG(3, 4)), ids, tpl.built.Add(shift)), tpl.isJSON))
			for i, s := range after {
				b := before[i]
				if got := s.StartTimestamp().AsTime().Sub(b.StartTimestamp().AsTime()); got != shift {
					t.Errorf("span %d: start moved by %s, want %s", i, got, shift)
				}
				if got, want := s.EndTimestamp().AsTime().Sub(s.StartTimestamp().AsTime()), b.EndTimestamp().AsTime().Sub(b.StartTimestamp().AsTime()); got != want {
					t.Errorf("span %d: duration %s, want the template's %s", i, got, want)
				}
			}
		})
	}
}

func TestTemplateHasGenAIAttributes(t *testing.T) {
	p := testPool(t, ProtocolHTTP, 100, 5)
	td := decode(t, p.templates[0].body, false)
	res := td.ResourceSpans().At(0).Resource().Attributes()
	if v, ok := res.Get("service.name"); !ok || v.Str() == "" {
		t.Errorf("resource service.name = %v, want a name", v)
	}
	kinds := map[string]int{}
	var chats int
	for _, s := range allSpans(td) {
		op, _ := s.Attributes().Get("gen_ai.operation.name")
		kinds[op.Str()]++
		if op.Str() != "chat" {
			continue
		}
		chats++
		a := s.Attributes()
		for _, k := range []string{"gen_ai.provider.name", "gen_ai.request.model", "gen_ai.input.messages", "session.id", "user.id"} {
			if v, ok := a.Get(k); !ok || v.Str() == "" {
				t.Errorf("chat span %q: %s = %q, want a value", s.Name(), k, v.Str())
			}
		}
		if v, ok := a.Get("gen_ai.usage.input_tokens"); !ok || v.Type() != pcommon.ValueTypeInt || v.Int() <= 0 {
			t.Errorf("chat span %q: gen_ai.usage.input_tokens = %v, want a positive int", s.Name(), v.AsRaw())
		}
		in, _ := a.Get("gen_ai.input.messages")
		var msgs []chatMessage
		if err := json.Unmarshal([]byte(in.Str()), &msgs); err != nil || len(msgs) != 2 || msgs[1].Role != "user" {
			t.Errorf("gen_ai.input.messages = %.80q…, want a JSON system+user message array (%v)", in.Str(), err)
		}
		if s.Status().Code() == ptrace.StatusCodeOk {
			out, _ := a.Get("gen_ai.output.messages")
			if err := json.Unmarshal([]byte(out.Str()), &msgs); err != nil || len(msgs) != 1 || msgs[0].FinishReason != "stop" {
				t.Errorf("gen_ai.output.messages = %.80q…, want one assistant message with finish_reason (%v)", out.Str(), err)
			}
		}
	}
	// 20 traces of root, retrieval, chat, tool, chat.
	if chats != 40 || kinds["retrieval"] != 20 || kinds["execute_tool"] != 20 || kinds[""] != 20 {
		t.Errorf("span kinds = %v, want 40 chat, 20 retrieval, 20 execute_tool, 20 root", kinds)
	}
}

func TestTemplatePromptSize(t *testing.T) {
	// The mean message text of a chat span follows PromptBytes.
	for _, tc := range []struct{ prompt, want int }{{-1, 0}, {0, DefaultPromptBytes}, {2048, 2048}, {8192, 8192}} {
		want := tc.want
		cfg := Config{SpansPerRequest: 500, SpansPerTrace: 1, PromptBytes: tc.prompt, Requests: 1}.withDefaults()
		b := newBuilder(cfg, rand.New(rand.NewPCG(1, 1)), "r", time.Now())
		td, _ := b.template(0)
		var text, n int
		for _, s := range allSpans(td) {
			for _, k := range []string{"gen_ai.input.messages", "gen_ai.output.messages"} {
				v, _ := s.Attributes().Get(k)
				var msgs []chatMessage
				_ = json.Unmarshal([]byte(v.Str()), &msgs)
				for _, m := range msgs {
					for _, p := range m.Parts {
						text += len(p.Content)
					}
				}
			}
			n++
		}
		mean := text / n
		if lo, hi := want*8/10, want*12/10+8; mean < lo || mean > hi {
			t.Errorf("PromptBytes %d: mean message text %d B per chat span, want %d..%d", tc.prompt, mean, lo, hi)
		}
	}
}

// BenchmarkInstance is the generator's per-request cost before sending: copy a template
// into a recycled buffer and write fresh trace ids (512 llm2k-sized chat spans).
func BenchmarkInstance(b *testing.B) {
	cfg := Config{SpansPerRequest: 512, SpansPerTrace: 1, PoolSize: 1, Requests: 1}.withDefaults()
	p, err := buildPool(cfg, rand.New(rand.NewPCG(1, 2)), "bench", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	t := &p.templates[0]
	ids := make([][16]byte, len(t.offsets))
	idRNG := rand.New(rand.NewPCG(5, 6))
	buf := make([]byte, len(t.body))
	b.SetBytes(int64(len(t.body)))
	for b.Loop() {
		_ = t.instance(buf, idRNG, ids, time.Now())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/512, "ns/span")
}
