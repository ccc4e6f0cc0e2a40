package lumina

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// LLMRequest describes a model call the transport cannot see: a gRPC or in-process model, a
// provider SDK with its own HTTP stack, a cache hit you want recorded as a call.
type LLMRequest struct {
	// Provider is gen_ai.provider.name: openai, anthropic, aws.bedrock, gcp.vertex_ai, …
	Provider string
	// Operation is gen_ai.operation.name; default "chat". Use "embeddings" for embeddings.
	Operation string
	// Model is the requested model.
	Model       string
	MaxTokens   int64
	Temperature *float64
	TopP        *float64
	Stream      bool
	// System is the system prompt given apart from the messages.
	System string
	// Messages is the input, in order (recorded only when content capture is on).
	Messages []Message
	// Attributes are added to the span.
	Attributes []attribute.KeyValue
}

// Usage is a call's token usage in OpenTelemetry's terms: InputTokens includes the cached
// tokens (read and written), OutputTokens includes the reasoning tokens.
type Usage struct {
	InputTokens      int64
	OutputTokens     int64
	CacheReadTokens  int64
	CacheWriteTokens int64
	ReasoningTokens  int64
}

// LLMResponse is the outcome of a model call.
type LLMResponse struct {
	ResponseID    string
	ResponseModel string
	// Output is the model's messages, one per choice.
	Output []Message
	// FinishReasons are the provider's finish reasons, one per choice.
	FinishReasons []string
	// Usage is the token usage; a zero Usage records no usage.
	Usage Usage
	// CostUSD is a cost the provider reported (lumina.cost_usd). Lumina stores it beside its
	// own computed cost. Zero means none.
	CostUSD float64
}

// LLMSpan is a model call started by StartLLM. End it exactly once.
type LLMSpan struct {
	mu   sync.Mutex
	c    call
	done bool
}

// StartLLM starts the span of a model call and returns a context carrying it.
func (c *Client) StartLLM(ctx context.Context, req LLMRequest) (context.Context, *LLMSpan) {
	op := req.Operation
	if op == "" {
		op = "chat"
	}
	name := op
	if req.Model != "" {
		name += " " + req.Model
	}
	s := &LLMSpan{c: call{own: true, content: c.content, limit: c.maxBytes, start: time.Now()}}
	k := &s.c
	k.attrs = make([]attribute.KeyValue, 0, 16)
	ctx, k.span = c.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(k.start),
		trace.WithAttributes(attribute.String(keyOperation, op), attribute.String(keyProvider, req.Provider)))
	if !k.span.IsRecording() {
		return ctx, s
	}
	k.str(keyRequestModel, req.Model)
	if req.MaxTokens > 0 {
		k.int(keyMaxTokens, req.MaxTokens)
	}
	optFloat(k, keyTemperature, req.Temperature)
	optFloat(k, keyTopP, req.TopP)
	if req.Stream {
		k.attrs = append(k.attrs, boolTrue(keyStream))
	}
	if req.System != "" {
		k.parts(keySystemInstr, []Part{{Type: "text", Content: req.System}})
	}
	k.messages(keyInputMessages, cloneMessages(req.Messages))
	k.attrs = append(k.attrs, req.Attributes...)
	return ctx, s
}

// FirstChunk records the time to the first chunk of a streamed response; only the first call
// counts.
func (s *LLMSpan) FirstChunk() {
	s.mu.Lock()
	if !s.done {
		s.c.now = time.Now()
		s.c.firstChunk()
	}
	s.mu.Unlock()
}

// End records the response (or err) and ends the span. Calls after the first do nothing.
func (s *LLMSpan) End(resp LLMResponse, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done = true
	k := &s.c
	if !k.span.IsRecording() {
		k.span.End()
		return
	}
	k.str(keyResponseID, resp.ResponseID)
	k.str(keyResponseModel, resp.ResponseModel)
	if u := resp.Usage; u != (Usage{}) {
		k.usage = usage{input: u.InputTokens, output: u.OutputTokens, cacheRead: u.CacheReadTokens,
			cacheWrite: u.CacheWriteTokens, reasoning: u.ReasoningTokens, has: true}
	}
	k.finish = resp.FinishReasons
	if k.content {
		k.output = cloneMessages(resp.Output)
	}
	if resp.CostUSD > 0 {
		k.float(keyCostUSD, resp.CostUSD)
	}
	if err != nil {
		k.span.RecordError(err)
		k.fail(transportErrorType(err), err.Error())
	}
	k.end()
}

// TraceLLM runs fn inside the span of a model call described by req and records the response
// fn returns. It returns fn's error.
func (c *Client) TraceLLM(ctx context.Context, req LLMRequest, fn func(ctx context.Context) (LLMResponse, error)) error {
	ctx, s := c.StartLLM(ctx, req)
	resp, err := fn(ctx)
	s.End(resp, err)
	return err
}

// cloneMessages copies the parts, which encoding truncates in place, so the caller's
// messages stay as they were.
func cloneMessages(msgs []Message) []Message {
	if len(msgs) == 0 {
		return nil
	}
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		m.Parts = append([]Part(nil), m.Parts...)
		out[i] = m
	}
	return out
}
