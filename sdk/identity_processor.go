package lumina

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// identityProcessor puts the identity of the parent context (WithSession, WithUser, WithTags,
// WithMetadata) on every span the provider starts, Lumina's or not: a span of anthropic-sdk-go
// or of the application's own tracer gets it too.
type identityProcessor struct {
	// extra are attributes every span gets (lumina.environment when Lumina shares the
	// application's provider and so its resource).
	extra []attribute.KeyValue
}

// OnStart sets the identity attributes.
func (p identityProcessor) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	if len(p.extra) > 0 {
		s.SetAttributes(p.extra...)
	}
	if id := identityFrom(ctx); id != nil && len(id.attrs) > 0 {
		s.SetAttributes(id.attrs...)
	}
}

// OnEnd does nothing.
func (identityProcessor) OnEnd(sdktrace.ReadOnlySpan) {}

// Shutdown does nothing.
func (identityProcessor) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing.
func (identityProcessor) ForceFlush(context.Context) error { return nil }
