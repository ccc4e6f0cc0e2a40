// Package otlp receives OTLP over HTTP (protobuf and JSON, gzip) and gRPC, checks it, and
// hands each accepted request to a Publisher; it also converts decoded OTLP into Lumina's
// domain types. Decoding goes through the OpenTelemetry Collector's pdata.
package otlp
