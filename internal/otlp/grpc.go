package otlp

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // registers the gzip compressor OTLP clients use
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// RegisterGRPC registers the OTLP trace, logs and metrics services on s. The server's
// MaxRecvMsgSize should match Config.MaxBodyBytes (GRPCServerOptions does that).
func (r *Receiver) RegisterGRPC(s *grpc.Server) {
	ptraceotlp.RegisterGRPCServer(s, &traceService{r: r})
	plogotlp.RegisterGRPCServer(s, &logsService{r: r})
	pmetricotlp.RegisterGRPCServer(s, &metricsService{r: r})
}

// GRPCServerOptions are the server options that apply the receiver's limits.
func (r *Receiver) GRPCServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(int(r.cfg.MaxBodyBytes))}
}

type traceService struct {
	ptraceotlp.UnimplementedGRPCServer
	r *Receiver
}

func (s *traceService) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	a, err := s.r.exportGRPC(ctx, SignalTraces, func(project string) (accepted, error) {
		a, _, err := s.r.admitAndCheck(ctx, project, req, nil, nil)
		return a, err
	})
	if err != nil {
		return ptraceotlp.NewExportResponse(), err
	}
	return tracesResponse(a), nil
}

type logsService struct {
	plogotlp.UnimplementedGRPCServer
	r *Receiver
}

func (s *logsService) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	a, err := s.r.exportGRPC(ctx, SignalLogs, func(string) (accepted, error) { return checkLogs(req, nil) })
	if err != nil {
		return plogotlp.NewExportResponse(), err
	}
	return logsResponse(a), nil
}

type metricsService struct {
	pmetricotlp.UnimplementedGRPCServer
	r *Receiver
}

func (s *metricsService) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	_, err := s.r.exportGRPC(ctx, "metrics", func(string) (accepted, error) {
		return accepted{items: req.Metrics().DataPointCount()}, nil
	})
	return metricsResponse(), err
}

// exportGRPC runs the shared path of a gRPC export: project, check (with the daily trace
// quota), publish. Errors are gRPC statuses: UNAVAILABLE is retryable, INVALID_ARGUMENT and
// UNAUTHENTICATED are not, RESOURCE_EXHAUSTED (over the daily trace limit) carries a
// RetryInfo with the time until the reset.
func (r *Receiver) exportGRPC(ctx context.Context, signal string, check func(project string) (accepted, error)) (accepted, error) {
	start := time.Now()
	defer func() { r.metrics.latency.WithLabelValues(signal, "grpc").Observe(time.Since(start).Seconds()) }()
	md, _ := metadata.FromIncomingContext(ctx)
	header := http.Header{}
	for k, vs := range md {
		for _, v := range vs {
			header.Add(k, v)
		}
	}
	project, err := r.cfg.Project(ctx, header)
	if err != nil && !errors.Is(err, ErrUnauthenticated) {
		r.log.Warn("credentials could not be checked", "signal", signal, "err", err)
		r.metrics.requests.WithLabelValues(signal, "grpc", "retryable").Inc()
		return accepted{}, status.Error(codes.Unavailable, "credentials could not be checked, retry later: "+err.Error())
	}
	if err != nil {
		r.metrics.requests.WithLabelValues(signal, "grpc", "unauthenticated").Inc()
		return accepted{}, status.Error(codes.Unauthenticated, err.Error())
	}
	if r.refuseFull() {
		r.metrics.requests.WithLabelValues(signal, "grpc", "retryable").Inc()
		return accepted{}, status.Error(codes.Unavailable, errFullMsg)
	}
	a, err := check(project)
	var qe *quotaError
	switch {
	case errors.As(err, &qe):
		r.metrics.requests.WithLabelValues(signal, "grpc", "over_quota").Inc()
		r.metrics.items.WithLabelValues(signal).Add(float64(a.items))
		r.metrics.rejected.WithLabelValues(signal).Add(float64(a.rejected))
		return a, grpcQuotaError(qe, r.cfg.Now())
	case errors.Is(err, errQuotaUnavailable):
		r.metrics.requests.WithLabelValues(signal, "grpc", "retryable").Inc()
		return a, status.Error(codes.Unavailable, err.Error())
	case err != nil:
		r.metrics.requests.WithLabelValues(signal, "grpc", "invalid").Inc()
		return a, status.Error(codes.Internal, err.Error())
	}
	r.metrics.items.WithLabelValues(signal).Add(float64(a.items))
	r.metrics.rejected.WithLabelValues(signal).Add(float64(a.rejected))
	r.metrics.bytes.WithLabelValues(signal).Add(float64(len(a.body)))
	if a.body != nil {
		if !r.hold(int64(len(a.body))) {
			r.metrics.requests.WithLabelValues(signal, "grpc", "retryable").Inc()
			return a, status.Error(codes.Unavailable, errBusyMsg)
		}
		defer r.release(int64(len(a.body)))
		if err := r.pub.Publish(ctx, signal, project, a.body); err != nil {
			r.published(err)
			r.log.Warn("queue publish failed", "signal", signal, "project", project, "err", err)
			r.metrics.requests.WithLabelValues(signal, "grpc", "retryable").Inc()
			code := codes.Unavailable
			if errors.Is(err, context.Canceled) {
				code = codes.Canceled
			}
			return a, status.Error(code, "queue unavailable, retry later: "+err.Error())
		}
	}
	r.metrics.requests.WithLabelValues(signal, "grpc", "accepted").Inc()
	return a, nil
}
