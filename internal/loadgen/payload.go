package loadgen

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// model is one LLM the generator pretends to call.
type model struct {
	provider, request, response, server string
}

// models are real model names of the providers users run most, so that pricing and
// normalisation see what they see in production.
func models() []model {
	return []model{
		{"openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", "api.openai.com"},
		{"openai", "gpt-4.1-mini", "gpt-4.1-mini-2025-04-14", "api.openai.com"},
		{"openai", "gpt-4o", "gpt-4o-2024-08-06", "api.openai.com"},
		{"anthropic", "claude-haiku-4-5", "claude-haiku-4-5-20251001", "api.anthropic.com"},
		{"anthropic", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "api.anthropic.com"},
		{"gcp.gemini", "gemini-2.5-flash", "gemini-2.5-flash", "generativelanguage.googleapis.com"},
	}
}

// services are the resource service names templates are spread over.
func services() []string {
	return []string{"support-bot", "rag-search", "code-review-agent", "sales-assistant"}
}

// words is the vocabulary prompt and completion text is drawn from.
func words() []string {
	return strings.Fields(`the customer order invoice refund shipping account password reset
		please help me with my last payment it was charged twice and I would like to know why
		according to our policy refunds are processed within five business days you can track
		the status in your dashboard under billing history summarize the following document
		in three bullet points retrieval context says premium plan includes priority support
		error timeout database connection latency kubernetes deployment rollback version
		release notes feature flag experiment cohort conversion revenue quarterly report`)
}

// chatPart and chatMessage are the OTel GenAI message shapes (gen_ai.input.messages,
// gen_ai.output.messages).
type chatPart struct {
	Type    string `json:"type"`
	Content string `json:"content"`
}

type chatMessage struct {
	Role         string     `json:"role"`
	Parts        []chatPart `json:"parts"`
	FinishReason string     `json:"finish_reason,omitempty"`
}

// builder makes template requests. It is used by one goroutine.
type builder struct {
	cfg    Config
	rng    *rand.Rand
	idRNG  *rand.Rand
	models []model
	svcs   []string
	words  []string
	runID  string
	now    time.Time
}

func newBuilder(cfg Config, idRNG *rand.Rand, runID string, now time.Time) *builder {
	return &builder{
		cfg:    cfg,
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x6c756d696e61)),
		idRNG:  idRNG,
		models: models(),
		svcs:   services(),
		words:  words(),
		runID:  runID,
		now:    now,
	}
}

// traceSizes splits n spans into traces of at most per spans each.
func traceSizes(n, per int) []int {
	var sizes []int
	for n > 0 {
		s := min(n, per)
		sizes = append(sizes, s)
		n -= s
	}
	return sizes
}

// template builds the variant-th request template and returns it with its trace ids in
// order, one per entry of traceSizes(SpansPerRequest, SpansPerTrace).
func (b *builder) template(variant int) (ptrace.Traces, []pcommon.TraceID) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	res := rs.Resource().Attributes()
	res.PutStr("service.name", b.svcs[variant%len(b.svcs)])
	res.PutStr("service.version", fmt.Sprintf("1.%d.%d", variant%7, variant%3))
	res.PutStr("deployment.environment.name", "loadgen")
	res.PutStr("telemetry.sdk.name", "opentelemetry")
	res.PutStr("telemetry.sdk.language", "go")
	res.PutStr("telemetry.sdk.version", "1.47.0")
	res.PutStr("host.name", fmt.Sprintf("loadgen-%02d", variant%16))
	res.PutStr("loadgen.run_id", b.runID)
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("github.com/use-lumina/lumina/internal/loadgen")
	ss.Scope().SetVersion("1")
	sizes := traceSizes(b.cfg.SpansPerRequest, b.cfg.SpansPerTrace)
	ids := make([]pcommon.TraceID, len(sizes))
	spans := ss.Spans()
	spans.EnsureCapacity(b.cfg.SpansPerRequest)
	for i, n := range sizes {
		ids[i] = b.traceID()
		b.trace(spans, ids[i], n)
	}
	return td, ids
}

// traceID draws a random, valid (non-zero) trace id.
func (b *builder) traceID() pcommon.TraceID {
	var id pcommon.TraceID
	for id.IsEmpty() {
		putUint64s(id[:], b.idRNG.Uint64(), b.idRNG.Uint64())
	}
	return id
}

func (b *builder) spanID() pcommon.SpanID {
	var id pcommon.SpanID
	for id.IsEmpty() {
		putUint64s(id[:], b.rng.Uint64())
	}
	return id
}

// trace appends one trace of n spans: a root server span, a retrieval span, then chat and
// execute_tool spans in turn, as an agent loop produces them. A single-span trace is one
// chat span.
func (b *builder) trace(spans ptrace.SpanSlice, tid pcommon.TraceID, n int) {
	session := fmt.Sprintf("sess_%08x", b.rng.Uint32())
	user := fmt.Sprintf("user_%04d", b.rng.IntN(5000))
	start := b.now.Add(-time.Duration(b.rng.IntN(1000)) * time.Millisecond)
	m := b.models[b.rng.IntN(len(b.models))]
	if n == 1 {
		b.chat(spans.AppendEmpty(), tid, pcommon.SpanID{}, m, session, user, start)
		return
	}
	root := spans.AppendEmpty()
	root.SetTraceID(tid)
	rootID := b.spanID()
	root.SetSpanID(rootID)
	root.SetName("POST /api/chat")
	root.SetKind(ptrace.SpanKindServer)
	ra := root.Attributes()
	ra.PutStr("http.request.method", "POST")
	ra.PutStr("http.route", "/api/chat")
	ra.PutInt("http.response.status_code", 200)
	ra.PutStr("session.id", session)
	ra.PutStr("user.id", user)
	t := start.Add(2 * time.Millisecond)
	for i := 1; i < n; i++ {
		s := spans.AppendEmpty()
		switch {
		case i == 1:
			t = b.retrieval(s, tid, rootID, t)
		case i%2 == 0:
			t = b.chat(s, tid, rootID, m, session, user, t)
		default:
			t = b.tool(s, tid, rootID, t)
		}
	}
	root.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	root.SetEndTimestamp(pcommon.NewTimestampFromTime(t.Add(3 * time.Millisecond)))
	root.Status().SetCode(ptrace.StatusCodeOk)
}

func (b *builder) retrieval(s ptrace.Span, tid pcommon.TraceID, parent pcommon.SpanID, start time.Time) time.Time {
	s.SetTraceID(tid)
	s.SetSpanID(b.spanID())
	s.SetParentSpanID(parent)
	s.SetName("retrieval support-kb")
	s.SetKind(ptrace.SpanKindClient)
	a := s.Attributes()
	a.PutStr("gen_ai.operation.name", "retrieval")
	a.PutStr("gen_ai.data_source.id", "support-kb")
	a.PutInt("gen_ai.retrieval.top_k", 5)
	a.PutStr("db.system.name", "postgresql")
	a.PutStr("gen_ai.retrieval.query.text", b.text(80))
	docs := make([]map[string]any, 5)
	for i := range docs {
		docs[i] = map[string]any{"id": fmt.Sprintf("doc_%d", b.rng.IntN(100000)), "score": 0.95 - 0.07*float64(i)}
	}
	raw, _ := json.Marshal(docs) // plain maps of strings and floats cannot fail
	a.PutStr("gen_ai.retrieval.documents", string(raw))
	end := start.Add(time.Duration(15+b.rng.IntN(60)) * time.Millisecond)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	s.Status().SetCode(ptrace.StatusCodeOk)
	return end
}

func (b *builder) tool(s ptrace.Span, tid pcommon.TraceID, parent pcommon.SpanID, start time.Time) time.Time {
	s.SetTraceID(tid)
	s.SetSpanID(b.spanID())
	s.SetParentSpanID(parent)
	s.SetName("execute_tool lookup_order")
	s.SetKind(ptrace.SpanKindInternal)
	a := s.Attributes()
	a.PutStr("gen_ai.operation.name", "execute_tool")
	a.PutStr("gen_ai.tool.name", "lookup_order")
	a.PutStr("gen_ai.tool.type", "function")
	a.PutStr("gen_ai.tool.call.id", fmt.Sprintf("call_%016x", b.rng.Uint64()))
	end := start.Add(time.Duration(5+b.rng.IntN(40)) * time.Millisecond)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	s.Status().SetCode(ptrace.StatusCodeOk)
	return end
}

// chat fills an inference span with the attributes of the OTel GenAI conventions: about
// 3/4 of PromptBytes of input messages and 1/4 of output, token counts consistent with the
// text (≈ 4 bytes a token), a cache read on about a third of the calls and an error on
// about 2 %.
func (b *builder) chat(s ptrace.Span, tid pcommon.TraceID, parent pcommon.SpanID, m model, session, user string, start time.Time) time.Time {
	s.SetTraceID(tid)
	s.SetSpanID(b.spanID())
	s.SetParentSpanID(parent)
	s.SetName("chat " + m.request)
	s.SetKind(ptrace.SpanKindClient)
	a := s.Attributes()
	a.PutStr("gen_ai.operation.name", "chat")
	a.PutStr("gen_ai.provider.name", m.provider)
	a.PutStr("gen_ai.request.model", m.request)
	a.PutStr("server.address", m.server)
	a.PutInt("server.port", 443)
	a.PutDouble("gen_ai.request.temperature", float64(b.rng.IntN(11))/10)
	a.PutInt("gen_ai.request.max_tokens", 1024)
	a.PutStr("session.id", session)
	a.PutStr("user.id", user)
	a.PutStr("gen_ai.conversation.id", session)

	prompt := max(b.cfg.PromptBytes, 0)
	inBytes := b.jitter(prompt * 3 / 4)
	outBytes := b.jitter(prompt / 4)
	system := b.text(inBytes / 5)
	in := []chatMessage{
		{Role: "system", Parts: []chatPart{{Type: "text", Content: system}}},
		{Role: "user", Parts: []chatPart{{Type: "text", Content: b.text(inBytes - len(system))}}},
	}
	inTokens := 8 + inBytes/4
	dur := time.Duration(250+b.rng.IntN(1500)) * time.Millisecond
	end := start.Add(dur)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	rawIn, _ := json.Marshal(in) // structs of strings cannot fail
	a.PutStr("gen_ai.input.messages", string(rawIn))
	a.PutInt("gen_ai.usage.input_tokens", int64(inTokens))

	if b.rng.IntN(50) == 0 {
		a.PutStr("error.type", "rate_limit_exceeded")
		s.Status().SetCode(ptrace.StatusCodeError)
		s.Status().SetMessage("429 Too Many Requests: rate limit exceeded")
		return end
	}
	if b.rng.IntN(3) == 0 {
		a.PutInt("gen_ai.usage.cache_read.input_tokens", int64(len(system)/4/64*64))
	}
	out := []chatMessage{{Role: "assistant", Parts: []chatPart{{Type: "text", Content: b.text(outBytes)}}, FinishReason: "stop"}}
	rawOut, _ := json.Marshal(out)
	a.PutStr("gen_ai.output.messages", string(rawOut))
	a.PutStr("gen_ai.response.model", m.response)
	a.PutStr("gen_ai.response.id", fmt.Sprintf("resp_%016x", b.rng.Uint64()))
	a.PutEmptySlice("gen_ai.response.finish_reasons").AppendEmpty().SetStr("stop")
	a.PutInt("gen_ai.usage.output_tokens", int64(4+outBytes/4))
	s.Status().SetCode(ptrace.StatusCodeOk)
	return end
}

// jitter draws a size uniformly in [n/2, 3n/2].
func (b *builder) jitter(n int) int {
	if n <= 1 {
		return n
	}
	return n/2 + b.rng.IntN(n+1)
}

// text returns about n bytes of words.
func (b *builder) text(n int) string {
	var sb strings.Builder
	sb.Grow(n + 16)
	for sb.Len() < n {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(b.words[b.rng.IntN(len(b.words))])
	}
	return sb.String()
}

func putUint64s(dst []byte, vs ...uint64) {
	for i, v := range vs {
		for j := range 8 {
			dst[i*8+j] = byte(v >> (56 - 8*j))
		}
	}
}

// traceIDHex is the lower-case hex form the API and OTLP/JSON use.
func traceIDHex(id [16]byte) string { return hex.EncodeToString(id[:]) }
