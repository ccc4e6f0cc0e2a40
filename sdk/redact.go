package lumina

import (
	"context"
	"regexp"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// contentFilter is an exporter decorator that redacts (or, with capture off, removes) content
// attributes. It runs on the batcher's goroutine, so the application never pays for it.
// Lumina's own spans carry no content when capture is off, so only a Redactor makes it look
// at them.
type contentFilter struct {
	next   sdktrace.SpanExporter
	redact Redactor
	strip  bool
}

// filteredSpan is a span whose attributes were rewritten. Embedding the interface satisfies
// its unexported method.
type filteredSpan struct {
	sdktrace.ReadOnlySpan
	attrs []attribute.KeyValue
}

// Attributes returns the rewritten attributes.
func (s filteredSpan) Attributes() []attribute.KeyValue { return s.attrs }

// ExportSpans rewrites the spans that carry content and passes all of them on.
func (f *contentFilter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	var out []sdktrace.ReadOnlySpan
	for i, s := range spans {
		if f.redact == nil && s.InstrumentationScope().Name == scopeName {
			continue
		}
		attrs, changed := f.filter(s.Attributes())
		if !changed {
			continue
		}
		if out == nil {
			out = append(make([]sdktrace.ReadOnlySpan, 0, len(spans)), spans...)
		}
		out[i] = filteredSpan{ReadOnlySpan: s, attrs: attrs}
	}
	if out == nil {
		out = spans
	}
	return f.next.ExportSpans(ctx, out)
}

func (f *contentFilter) filter(attrs []attribute.KeyValue) ([]attribute.KeyValue, bool) {
	changed := false
	kept := attrs[:0:0]
	for i, kv := range attrs {
		if !contentKeys[string(kv.Key)] {
			if changed {
				kept = append(kept, kv)
			}
			continue
		}
		if !changed {
			kept = append(make([]attribute.KeyValue, 0, len(attrs)), attrs[:i]...)
			changed = true
		}
		if f.strip {
			continue
		}
		if v := f.redact(string(kv.Key), kv.Value.Emit()); v != "" {
			kept = append(kept, kv.Key.String(v))
		}
	}
	if !changed {
		return attrs, false
	}
	return kept, true
}

// Shutdown shuts the wrapped exporter down.
func (f *contentFilter) Shutdown(ctx context.Context) error { return f.next.Shutdown(ctx) }

// RedactPatterns returns a Redactor that replaces every match of the patterns with
// replacement. Patterns that cannot match a quote or a backslash keep JSON values valid.
func RedactPatterns(replacement string, patterns ...*regexp.Regexp) Redactor {
	return func(_, value string) string {
		for _, re := range patterns {
			value = re.ReplaceAllLiteralString(value, replacement)
		}
		return value
	}
}
