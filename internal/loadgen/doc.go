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
// load away, and moves its span times to the send time, so a store indexes them as it does
// live traffic's (with the build time's, every index on start time took inserts all over a
// few seconds' range: SQLite wrote 34 KB per span where it writes 25). Only gzip
// compression (HTTP: before the latency clock starts; gRPC: inside the call, by grpc's own
// compressor) costs per-request CPU in the generator.
//
// The runs of the performance notes (../shared/reference/performance.md §5.3), against
// `lumina serve` on the same box:
//
//	# flat out, llm2k spans (every span a chat span with ~2 KB of messages), 512 per request
//	lumina loadgen -endpoint http://127.0.0.1:4318 -api http://127.0.0.1:8081 \
//	    -clients 4 -spans-per-request 512 -spans-per-trace 1 -warmup 10s -duration 60s
//	# paced steps: -span-rate 5000, 10000, 20000, 40000; repeat once with -gzip
//	# realistic agent traces (root, retrieval, chat, tool, chat): the default -spans-per-trace 5
//
// Report.GeneratorCPU is this process's CPU while sending; subtract it when the generator
// shares the box with the system under test. The daily trace quota (50,000 by default)
// must be raised for long runs, or the receiver's 429s fail the requests.
package loadgen
