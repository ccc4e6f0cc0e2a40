// Package loadgen is Lumina's OTLP load generator: it sends realistic GenAI traces over
// OTLP/HTTP (protobuf or JSON, optionally gzip) or OTLP/gRPC with a number of concurrent
// clients, keeps its own ledger of every trace the receiver acknowledged, and can then
// verify through the query API that each acknowledged trace was stored with all of its
// spans.
//
// The ledger is the point. Generic generators such as telemetrygen queue spans in an SDK
// that drops them silently under load, so their "sent" counts say nothing about what the
// system under test accepted. Here a trace enters the ledger only when the request that
// carried it was answered with success, so "acknowledged but not stored" is measurable.
//
// Requests are built before the clock starts: a pool of distinct marshalled requests is
// prepared up front and each send copies one and overwrites its trace ids in place with
// fresh random ids, so no trace id is ever sent twice and a store cannot deduplicate the
// load away. Only gzip compression (HTTP: before the latency clock starts; gRPC: inside
// the call, by grpc's own compressor) costs per-request CPU in the generator.
package loadgen
