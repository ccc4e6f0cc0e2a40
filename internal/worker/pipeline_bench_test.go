package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/use-lumina/lumina/internal/cost"
	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/otlp"
	"github.com/use-lumina/lumina/internal/quality"
)

// BenchmarkEnrich is the worker's CPU per span ahead of the store, on the loadgen's shape of
// traffic (scripts/bench-ingest.sh): one op is one span of a 100-span OTLP request of traces
// of five spans (an HTTP root, a retrieval, chat and tool spans; ~2 KB of message text per
// chat span), decoded from protobuf, converted, normalized, limited, priced and scored, as
// cmd/lumina's stages do. cpu-ns/op is process CPU per span, robust to a busy machine.
func BenchmarkEnrich(b *testing.B) {
	const spansPerRequest = 100
	reqs := make([][]byte, 16)
	for i := range reqs {
		reqs[i] = benchRequest(b, uint64(i), spansPerRequest)
	}
	table, err := cost.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	calc := cost.NewCalculator(table, nil, nil)
	scorer := quality.NewScorer(quality.ScorerConfig{}, time.Now)
	limits := genai.Limits{MaxValueBytes: 64 << 10}
	ctx := context.Background()
	enrich := func(data []byte) int {
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(data); err != nil {
			b.Fatal(err)
		}
		spans := otlp.Spans(req.Traces(), "p")
		for i := range spans {
			s := &spans[i]
			genai.Normalize(s)
			limits.Apply(s)
			if s.GenAI == nil {
				continue
			}
			if err := calc.ApplyAt(ctx, s.ProjectID, s.GenAI, s.StartTime); err != nil {
				b.Fatal(err)
			}
			if s.GenAI.Type == genai.TypeLLM {
				s.GenAI.Quality = scorer.ScoreSpan(s)
			}
		}
		return len(spans)
	}
	for _, r := range reqs { // warm the scorer's references
		enrich(r)
	}
	b.ReportAllocs()
	start := cpuTime()
	n := 0
	for b.Loop() {
		// One op per span: a request is enriched every spansPerRequest ops.
		if n%spansPerRequest == 0 {
			enrich(reqs[(n/spansPerRequest)%len(reqs)])
		}
		n++
	}
	if b.N > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchWords is the loadgen's vocabulary.
var benchWords = strings.Fields(`the customer order invoice refund shipping account password reset
	please help me with my last payment it was charged twice and I would like to know why
	according to our policy refunds are processed within five business days you can track
	the status in your dashboard under billing history summarize the following document
	in three bullet points retrieval context says premium plan includes priority support
	error timeout database connection latency kubernetes deployment rollback version
	release notes feature flag experiment cohort conversion revenue quarterly report`)

type benchPart struct {
	Type    string `json:"type"`
	Content string `json:"content"`
}

type benchMessage struct {
	Role         string      `json:"role"`
	Parts        []benchPart `json:"parts"`
	FinishReason string      `json:"finish_reason,omitempty"`
}

// benchRequest builds one OTLP request the way internal/loadgen does (same attributes,
// sizes and vocabulary), marshalled as ingest publishes it.
func benchRequest(b *testing.B, seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 42))
	text := func(size int) string {
		var sb strings.Builder
		for sb.Len() < size {
			if sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(benchWords[rng.IntN(len(benchWords))])
		}
		return sb.String()
	}
	jitter := func(n int) int { return n/2 + rng.IntN(n+1) }
	id := func(dst []byte) {
		for i := range dst {
			dst[i] = byte(rng.Uint32() | 1)
		}
	}
	models := [][3]string{
		{"openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18"},
		{"anthropic", "claude-haiku-4-5", "claude-haiku-4-5-20251001"},
		{"gcp.gemini", "gemini-2.5-flash", "gemini-2.5-flash"},
	}
	services := []string{"support-bot", "rag-search", "code-review-agent", "sales-assistant"}

	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	res := rs.Resource().Attributes()
	res.PutStr("service.name", services[seed%uint64(len(services))])
	res.PutStr("service.version", "1.2.3")
	res.PutStr("deployment.environment.name", "loadgen")
	res.PutStr("telemetry.sdk.name", "opentelemetry")
	res.PutStr("telemetry.sdk.language", "go")
	res.PutStr("host.name", "loadgen-01")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("github.com/use-lumina/lumina/internal/loadgen")
	spans := ss.Spans()
	now := time.Now()
	for t := 0; t < n/5; t++ {
		var tid pcommon.TraceID
		id(tid[:])
		m := models[rng.IntN(len(models))]
		session, user := fmt.Sprintf("sess_%08x", rng.Uint32()), fmt.Sprintf("user_%04d", rng.IntN(5000))
		var rootID pcommon.SpanID
		id(rootID[:])
		root := spans.AppendEmpty()
		root.SetTraceID(tid)
		root.SetSpanID(rootID)
		root.SetName("POST /api/chat")
		root.SetKind(ptrace.SpanKindServer)
		root.Attributes().PutStr("http.request.method", "POST")
		root.Attributes().PutStr("http.route", "/api/chat")
		root.Attributes().PutInt("http.response.status_code", 200)
		root.Attributes().PutStr("session.id", session)
		root.Attributes().PutStr("user.id", user)
		root.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		root.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(2 * time.Second)))
		for i := 1; i < 5; i++ {
			s := spans.AppendEmpty()
			var sid pcommon.SpanID
			id(sid[:])
			s.SetTraceID(tid)
			s.SetSpanID(sid)
			s.SetParentSpanID(rootID)
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Second)))
			s.Status().SetCode(ptrace.StatusCodeOk)
			a := s.Attributes()
			switch {
			case i == 1:
				s.SetName("retrieval support-kb")
				s.SetKind(ptrace.SpanKindClient)
				a.PutStr("gen_ai.operation.name", "retrieval")
				a.PutStr("gen_ai.data_source.id", "support-kb")
				a.PutInt("gen_ai.retrieval.top_k", 5)
				a.PutStr("db.system.name", "postgresql")
				a.PutStr("gen_ai.retrieval.query.text", text(80))
				a.PutStr("gen_ai.retrieval.documents", `[{"id":"doc_1","score":0.95},{"id":"doc_2","score":0.88},{"id":"doc_3","score":0.81}]`)
			case i%2 == 0:
				s.SetName("chat " + m[1])
				s.SetKind(ptrace.SpanKindClient)
				a.PutStr("gen_ai.operation.name", "chat")
				a.PutStr("gen_ai.provider.name", m[0])
				a.PutStr("gen_ai.request.model", m[1])
				a.PutStr("server.address", "api.example.com")
				a.PutInt("server.port", 443)
				a.PutDouble("gen_ai.request.temperature", float64(rng.IntN(11))/10)
				a.PutInt("gen_ai.request.max_tokens", 1024)
				a.PutStr("session.id", session)
				a.PutStr("user.id", user)
				a.PutStr("gen_ai.conversation.id", session)
				inBytes, outBytes := jitter(1536), jitter(512)
				system := text(inBytes / 5)
				rawIn, _ := json.Marshal([]benchMessage{
					{Role: "system", Parts: []benchPart{{Type: "text", Content: system}}},
					{Role: "user", Parts: []benchPart{{Type: "text", Content: text(inBytes - len(system))}}},
				})
				a.PutStr("gen_ai.input.messages", string(rawIn))
				a.PutInt("gen_ai.usage.input_tokens", int64(8+inBytes/4))
				rawOut, _ := json.Marshal([]benchMessage{{Role: "assistant", Parts: []benchPart{{Type: "text", Content: text(outBytes)}}, FinishReason: "stop"}})
				a.PutStr("gen_ai.output.messages", string(rawOut))
				a.PutStr("gen_ai.response.model", m[2])
				a.PutStr("gen_ai.response.id", fmt.Sprintf("resp_%016x", rng.Uint64()))
				a.PutEmptySlice("gen_ai.response.finish_reasons").AppendEmpty().SetStr("stop")
				a.PutInt("gen_ai.usage.output_tokens", int64(4+outBytes/4))
			default:
				s.SetName("execute_tool lookup_order")
				s.SetKind(ptrace.SpanKindInternal)
				a.PutStr("gen_ai.operation.name", "execute_tool")
				a.PutStr("gen_ai.tool.name", "lookup_order")
				a.PutStr("gen_ai.tool.type", "function")
				a.PutStr("gen_ai.tool.call.id", fmt.Sprintf("call_%016x", rng.Uint64()))
			}
		}
	}
	data, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		b.Fatal(err)
	}
	return data
}
