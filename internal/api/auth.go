package api

import (
	"context"
	"net/http"

	"github.com/use-lumina/lumina/internal/auth"
	"github.com/use-lumina/lumina/internal/store"
)

// keyJSON is an API key as the API shows it: never its secret, except once in the answer
// to its creation.
type keyJSON struct {
	store.APIKey
	Secret string `json:"secret,omitempty"`
	Status string `json:"status"` // "active" or "revoked"
}

func keyOut(k store.APIKey, secret string) keyJSON {
	status := "active"
	if k.RevokedAt != nil {
		status = "revoked"
	}
	return keyJSON{APIKey: k, Secret: secret, Status: status}
}

// RegisterAuth adds the caller's identity, its projects and the project's API keys:
//
//	GET    /api/v1/me              who is calling and in which project
//	GET    /api/v1/projects        the projects the caller may use
//	GET    /api/v1/keys            the project's keys (no secrets)
//	POST   /api/v1/keys            {"name"} → the new key with its secret, shown once
//	DELETE /api/v1/keys/{id}       revoke a key (it stays listed as revoked)
func (s *Server) RegisterAuth(mux *http.ServeMux, a *auth.Auth) {
	mux.HandleFunc("GET /api/v1/me", s.handle(func(_ context.Context, _ string, r *http.Request) (any, error) {
		p, err := a.Request(r)
		if err != nil {
			return nil, err
		}
		return map[string]any{"principal": p, "auth_required": a.Required()}, nil
	}))
	mux.HandleFunc("GET /api/v1/projects", s.handle(func(ctx context.Context, _ string, r *http.Request) (any, error) {
		p, err := a.Request(r)
		if err != nil {
			return nil, err
		}
		ps, err := a.ProjectsOf(ctx, p)
		if err != nil {
			return nil, err
		}
		return map[string]any{"projects": nonNilSlice(ps)}, nil
	}))
	mux.HandleFunc("GET /api/v1/keys", s.handle(func(ctx context.Context, project string, _ *http.Request) (any, error) {
		ks, err := a.Keys(ctx, project)
		if err != nil {
			return nil, err
		}
		out := make([]keyJSON, len(ks))
		for i, k := range ks {
			out[i] = keyOut(k, "")
		}
		return map[string]any{"keys": out}, nil
	}))
	mux.HandleFunc("POST /api/v1/keys", s.handle(func(ctx context.Context, project string, r *http.Request) (any, error) {
		var body struct {
			Name string `json:"name"`
		}
		if err := decodeBody(r, &body); err != nil {
			return nil, err
		}
		k, secret, err := a.CreateKey(ctx, project, body.Name)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid_key", err.Error())
		}
		return keyOut(k, secret), nil
	}))
	mux.HandleFunc("DELETE /api/v1/keys/{id}", s.handle(func(ctx context.Context, project string, r *http.Request) (any, error) {
		if err := a.RevokeKey(ctx, project, r.PathValue("id")); err != nil {
			return nil, err
		}
		return map[string]any{"revoked": r.PathValue("id")}, nil
	}))
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
