package lumina

import (
	"context"
	"encoding/json"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// SpanOption describes a span started by Start or Trace.
type SpanOption func(*spanConfig)

type spanConfig struct {
	kind  trace.SpanKind
	attrs []attribute.KeyValue
}

// Workflow marks the span as a pipeline (gen_ai.operation.name invoke_workflow) named name:
// the root of a RAG request, for example.
func Workflow(name string) SpanOption {
	return func(s *spanConfig) {
		s.attrs = append(s.attrs, attribute.String(keyOperation, "invoke_workflow"), attribute.String(keyWorkflowName, name))
	}
}

// Retrieval marks the span as a retrieval from dataSource (a vector store or index).
func Retrieval(dataSource string) SpanOption {
	return func(s *spanConfig) {
		s.attrs = append(s.attrs, attribute.String(keyOperation, "retrieval"))
		if dataSource != "" {
			s.attrs = append(s.attrs, attribute.String(keyDataSourceID, dataSource))
		}
	}
}

// Rerank marks the span as a reranking step.
func Rerank() SpanOption {
	return func(s *spanConfig) { s.attrs = append(s.attrs, attribute.String(keyOperation, "rerank")) }
}

// Tool marks the span as the execution of the tool name (execute_tool).
func Tool(name string) SpanOption {
	return func(s *spanConfig) {
		s.attrs = append(s.attrs, attribute.String(keyOperation, "execute_tool"), attribute.String(keyToolName, name))
	}
}

// Agent marks the span as the run of the agent name (invoke_agent).
func Agent(name string) SpanOption {
	return func(s *spanConfig) {
		s.attrs = append(s.attrs, attribute.String(keyOperation, "invoke_agent"), attribute.String(keyAgentName, name))
	}
}

// Attributes adds attributes to the span.
func Attributes(kv ...attribute.KeyValue) SpanOption {
	return func(s *spanConfig) { s.attrs = append(s.attrs, kv...) }
}

// Span is a span started by Start. Its methods are safe for concurrent use; after End they do
// nothing.
type Span struct {
	span    trace.Span
	content bool
	limit   int
}

// Start starts a span named name as a child of the span in ctx and returns a context carrying
// it: model calls made with that context (through the transport or StartLLM) become its
// children. End the span with End.
func (c *Client) Start(ctx context.Context, name string, opts ...SpanOption) (context.Context, *Span) {
	cfg := spanConfig{kind: trace.SpanKindInternal}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, s := c.tracer.Start(ctx, name, trace.WithSpanKind(cfg.kind), trace.WithAttributes(cfg.attrs...))
	return ctx, &Span{span: s, content: c.content, limit: c.maxBytes}
}

// Trace runs fn inside a span named name and ends the span with fn's error, which it returns.
func (c *Client) Trace(ctx context.Context, name string, fn func(ctx context.Context) error, opts ...SpanOption) error {
	ctx, s := c.Start(ctx, name, opts...)
	err := fn(ctx)
	s.End(err)
	return err
}

// SetAttributes adds attributes to the span.
func (s *Span) SetAttributes(kv ...attribute.KeyValue) { s.span.SetAttributes(kv...) }

// Document is a retrieved or reranked document, as gen_ai.retrieval.documents records it.
type Document struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
}

// SetRetrieval records a retrieval's query (content: dropped when capture is off) and the
// documents it returned.
func (s *Span) SetRetrieval(query string, docs []Document) {
	if !s.span.IsRecording() {
		return
	}
	if s.content && query != "" {
		b := budget{left: s.limit}
		s.span.SetAttributes(attribute.String(keyRetrievalQuery, b.take(query)))
	}
	if len(docs) > 0 {
		if js, err := json.Marshal(docs); err == nil {
			s.span.SetAttributes(attribute.String(keyRetrievalDocs, string(js)))
		}
	}
}

// SpanContext returns the span's identity, for example to log its trace id.
func (s *Span) SpanContext() trace.SpanContext { return s.span.SpanContext() }

// End ends the span; a non-nil err marks it failed.
func (s *Span) End(err error) {
	if err != nil {
		s.span.RecordError(err)
		s.span.SetStatus(codes.Error, err.Error())
	}
	s.span.End()
}
