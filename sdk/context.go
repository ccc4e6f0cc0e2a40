package lumina

import (
	"context"
	"slices"

	"go.opentelemetry.io/otel/attribute"
)

// identityKey is the context key of the identity that WithSession, WithUser, WithTags and
// WithMetadata attach.
type identityKey struct{}

// identity is immutable: every With… copies it. attrs is what each span started below the
// context gets, computed once here rather than once per span.
type identity struct {
	session, user string
	tags          []string
	metadata      []attribute.KeyValue
	attrs         []attribute.KeyValue
}

func identityFrom(ctx context.Context) *identity {
	id, _ := ctx.Value(identityKey{}).(*identity)
	return id
}

func withIdentity(ctx context.Context, change func(*identity)) context.Context {
	next := identity{}
	if prev := identityFrom(ctx); prev != nil {
		next = *prev
		next.tags = slices.Clip(next.tags)
		next.metadata = slices.Clip(next.metadata)
	}
	change(&next)
	next.attrs = next.attrs[:0:0]
	if next.session != "" {
		next.attrs = append(next.attrs, attribute.String(keySessionID, next.session))
	}
	if next.user != "" {
		next.attrs = append(next.attrs, attribute.String(keyUserID, next.user))
	}
	if len(next.tags) > 0 {
		next.attrs = append(next.attrs, attribute.StringSlice(keyTags, next.tags))
	}
	next.attrs = append(next.attrs, next.metadata...)
	return context.WithValue(ctx, identityKey{}, &next)
}

// WithSession returns a context whose spans, and their children's, carry session.id: a
// conversation or thread, grouped in Lumina's session view.
func WithSession(ctx context.Context, sessionID string) context.Context {
	return withIdentity(ctx, func(id *identity) { id.session = sessionID })
}

// WithUser returns a context whose spans, and their children's, carry user.id.
func WithUser(ctx context.Context, userID string) context.Context {
	return withIdentity(ctx, func(id *identity) { id.user = userID })
}

// WithTags returns a context whose spans carry lumina.tags: the tags already in ctx plus
// tags, without duplicates.
func WithTags(ctx context.Context, tags ...string) context.Context {
	return withIdentity(ctx, func(id *identity) {
		for _, t := range tags {
			if t != "" && !slices.Contains(id.tags, t) {
				id.tags = append(id.tags, t)
			}
		}
	})
}

// WithMetadata returns a context whose spans carry the attribute metadata.<key> = value,
// which Lumina shows as the call's metadata. A later value for the same key wins.
func WithMetadata(ctx context.Context, key, value string) context.Context {
	k := attribute.Key(keyMetadataPrefix + key)
	return withIdentity(ctx, func(id *identity) {
		id.metadata = slices.DeleteFunc(id.metadata, func(kv attribute.KeyValue) bool { return kv.Key == k })
		id.metadata = append(id.metadata, k.String(value))
	})
}

// SessionID returns the session id that WithSession attached to ctx, or "".
func SessionID(ctx context.Context) string {
	if id := identityFrom(ctx); id != nil {
		return id.session
	}
	return ""
}

// UserID returns the user id that WithUser attached to ctx, or "".
func UserID(ctx context.Context) string {
	if id := identityFrom(ctx); id != nil {
		return id.user
	}
	return ""
}
