package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/use-lumina/lumina/internal/auth"
	"github.com/use-lumina/lumina/internal/otlp"
)

// openAuth sets up authentication over the store and creates the configured first admin.
func (a *app) openAuth(ctx context.Context) error {
	a.auth = auth.New(auth.Config{Required: a.cfg.AuthRequired, CacheTTL: a.cfg.AuthCacheTTL,
		SessionTTL: a.cfg.SessionTTL, Logger: a.log}, a.store)
	if a.cfg.AdminEmail == "" {
		return nil
	}
	created, err := a.auth.EnsureAdmin(ctx, a.cfg.AdminEmail, a.cfg.AdminPassword)
	if err != nil {
		return err
	}
	if created {
		a.log.Info("created the admin user", "email", a.cfg.AdminEmail)
	}
	return nil
}

// ingestProject resolves OTLP requests' projects: from their API key with auth on, else
// "default".
func (a *app) ingestProject() otlp.ProjectFunc {
	if a.auth == nil {
		return otlp.DefaultProject
	}
	return func(ctx context.Context, h http.Header) (string, error) {
		p, err := a.auth.Ingest(ctx, h)
		if errors.Is(err, auth.ErrUnauthenticated) {
			return "", unauthenticated{err}
		}
		return p, err
	}
}

// unauthenticated carries auth's message as an otlp.ErrUnauthenticated (401 /
// UNAUTHENTICATED); other auth errors stay retryable.
type unauthenticated struct{ err error }

func (e unauthenticated) Error() string        { return e.err.Error() }
func (e unauthenticated) Unwrap() error        { return e.err }
func (e unauthenticated) Is(target error) bool { return target == otlp.ErrUnauthenticated }
