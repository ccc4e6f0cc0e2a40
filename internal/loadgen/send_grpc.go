package loadgen

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// exportMethod is the OTLP/gRPC trace export method.
const exportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

// rawMessage carries already-marshalled protobuf bytes through grpc.
type rawMessage struct{ data []byte }

// rawCodec passes rawMessage bytes through unchanged, so a request marshalled before the
// clock started is not marshalled again inside the call (ptraceotlp's GRPCClient takes a
// pdata request and would). It names itself "proto", so the wire format is exactly the
// standard protobuf codec's: any OTLP/gRPC server (ptraceotlp.RegisterGRPCServer, the
// Collector, Lumina) decodes it.
type rawCodec struct{}

var _ encoding.CodecV2 = rawCodec{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(*rawMessage)
	if !ok {
		return nil, fmt.Errorf("raw codec: marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(m.data)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*rawMessage)
	if !ok {
		return fmt.Errorf("raw codec: unmarshal into %T", v)
	}
	m.data = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

type grpcSender struct {
	conn  *grpc.ClientConn
	opts  []grpc.CallOption
	mdKVs []string
}

// newGRPCSender opens one plaintext connection for one client, like one exporter process.
func newGRPCSender(cfg Config) (*grpcSender, error) {
	conn, err := grpc.NewClient(cfg.grpcTarget(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUserAgent("lumina-loadgen"),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)),
	)
	if err != nil {
		return nil, fmt.Errorf("open grpc connection to %s: %w", cfg.Endpoint, err)
	}
	s := &grpcSender{conn: conn, opts: []grpc.CallOption{grpc.ForceCodecV2(rawCodec{})}}
	if cfg.Gzip {
		s.opts = append(s.opts, grpc.UseCompressor(gzip.Name))
	}
	for k, v := range cfg.Headers {
		s.mdKVs = append(s.mdKVs, strings.ToLower(k), v)
	}
	return s, nil
}

// prepare returns body unchanged: grpc compresses inside the call.
func (s *grpcSender) prepare(body []byte) ([]byte, error) { return body, nil }

func (s *grpcSender) send(ctx context.Context, wire []byte) attempt {
	if len(s.mdKVs) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, s.mdKVs...)
	}
	var resp rawMessage
	err := s.conn.Invoke(ctx, exportMethod, &rawMessage{data: wire}, &resp, s.opts...)
	if err == nil {
		er := ptraceotlp.NewExportResponse()
		if err := er.UnmarshalProto(resp.data); err != nil {
			return attempt{acked: true, msg: fmt.Sprintf("decode export response: %v", err)}
		}
		return attempt{acked: true, rejected: er.PartialSuccess().RejectedSpans()}
	}
	return grpcFailure(ctx, err)
}

// grpcFailure classifies an export error as the OTLP specification does: UNAVAILABLE and
// friends are retryable, RESOURCE_EXHAUSTED only when the server sent RetryInfo.
func grpcFailure(ctx context.Context, err error) attempt {
	st := status.Convert(err)
	a := attempt{class: "grpc " + st.Code().String(), msg: st.Message()}
	var info *errdetails.RetryInfo
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			info = ri
		}
	}
	if info != nil && info.GetRetryDelay() != nil {
		a.retryAfter = info.GetRetryDelay().AsDuration()
	}
	switch st.Code() {
	case codes.Canceled:
		a.retryable = ctx.Err() == nil
	case codes.DeadlineExceeded:
		a.retryable = true
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			a.class = "timeout"
		}
	case codes.Aborted, codes.OutOfRange, codes.Unavailable, codes.DataLoss:
		a.retryable = true
	case codes.ResourceExhausted:
		a.retryable = info != nil
	}
	return a
}

func (s *grpcSender) close() error {
	if err := s.conn.Close(); err != nil {
		return fmt.Errorf("close grpc connection: %w", err)
	}
	return nil
}
