// Package lumina is the Go SDK of Lumina, an OpenTelemetry-native observability platform for
// LLM applications.
//
// One call to [Init] sets up an OpenTelemetry tracer provider that exports to Lumina (and to
// any other OTLP backend you add) through a batching span processor that never blocks the
// application: when its queue is full it drops the span and counts it ([Client.Stats]).
//
// [Client.HTTPClient] and [Client.Transport] instrument the HTTP calls of any OpenAI-compatible
// client (Chat Completions, Responses, Embeddings) and of Anthropic's Messages API, plain and
// streamed, without buffering streams and without changing what the application reads. Pass the
// client to openai-go or anthropic-sdk-go with option.WithHTTPClient.
//
// [Client.Trace] and [Client.Start] make parent spans (a RAG pipeline: retrieve, rerank,
// generate); [Client.TraceLLM] and [Client.StartLLM] record model calls the transport cannot see.
// [WithSession], [WithUser], [WithTags] and [WithMetadata] attach identity to every span started
// below a context.
//
// Spans follow the OpenTelemetry GenAI semantic conventions (v1.41: gen_ai.provider.name,
// gen_ai.usage.cache_read.input_tokens, gen_ai.input.messages, …) plus a few lumina.* extras,
// so Lumina and any other OpenTelemetry backend understand them.
//
// # One call, one span
//
// anthropic-sdk-go emits its own GenAI span for each call through the global tracer provider.
// When that span goes to Lumina (it was started by the same provider) and it is the active span
// of the request the transport sees, the transport does not start a second span: it adds what
// the SDK's span lacks (the messages, in the SDK's default metadata-only mode) to that span.
// When the SDK's span goes elsewhere, the transport records its own span. Either way Lumina
// receives exactly one span carrying the call's usage.
package lumina
