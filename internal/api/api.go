// Package api serves Lumina's REST API (JSON over HTTP, Go 1.22 ServeMux patterns): traces,
// spans, logs and prices. Every handler is scoped to the caller's project.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/use-lumina/lumina/internal/auth"
	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// ProjectFunc says which project an API request belongs to. An error wrapping
// auth.ErrUnauthenticated means the caller is not authenticated (401); any other error
// means the credentials could not be checked (503).
type ProjectFunc func(r *http.Request) (string, error)

// Store is the storage the API reads.
type Store interface {
	store.TraceReader
	store.Analytics
}

// LogJoiner attaches GenAI log records to the spans they describe (genai.AttachLogs).
type LogJoiner func(spans []genai.Span, logs []genai.LogRecord)

// Server holds the API's dependencies.
type Server struct {
	store   Store
	project ProjectFunc
	join    LogJoiner
	log     *slog.Logger
	cop     *http.CrossOriginProtection
}

// New returns an API server.
func New(st Store, project ProjectFunc, join LogJoiner, logger *slog.Logger) *Server {
	return &Server{store: st, project: project, join: join, log: logger, cop: http.NewCrossOriginProtection()}
}

// Register adds the API routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/traces", s.handle(s.listTraces))
	mux.HandleFunc("GET /api/v1/traces/{trace_id}", s.handle(s.getTrace))
	mux.HandleFunc("GET /api/v1/logs", s.handle(s.listLogs))
	mux.HandleFunc("GET /api/v1/models/unpriced", s.handle(s.unpricedModels))
	mux.HandleFunc("/api/", s.handle(func(context.Context, string, *http.Request) (any, error) {
		return nil, errorf(http.StatusNotFound, "not_found", "no such API route")
	}))
}

// Error is an API error: the HTTP status and the JSON body's code and message.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

type handlerFunc func(ctx context.Context, project string, r *http.Request) (any, error)

// handle resolves the project, runs h and writes its result or error as JSON.
func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.crossSiteCookieRequest(r); err != nil {
			writeError(w, errorf(http.StatusForbidden, "cross_origin", err.Error()))
			return
		}
		project, err := s.project(r)
		switch {
		case errors.Is(err, auth.ErrUnauthenticated):
			writeError(w, errorf(http.StatusUnauthorized, "unauthenticated", err.Error()))
			return
		case err != nil:
			s.log.Warn("api credentials could not be checked", "path", r.URL.Path, "err", err)
			w.Header().Set("Retry-After", "1")
			writeError(w, errorf(http.StatusServiceUnavailable, "unavailable", "credentials could not be checked, retry later"))
			return
		}
		v, err := h(r.Context(), project, r)
		if err != nil {
			var apiErr *Error
			switch {
			case errors.As(err, &apiErr):
			case errors.Is(err, store.ErrNotFound):
				apiErr = errorf(http.StatusNotFound, "not_found", err.Error())
			case errors.Is(err, store.ErrInvalidCursor):
				apiErr = errorf(http.StatusBadRequest, "invalid_cursor", err.Error())
			case errors.Is(err, context.Canceled):
				return
			default:
				s.log.Error("api request failed", "path", r.URL.Path, "err", err)
				apiErr = errorf(http.StatusInternalServerError, "internal", "internal error")
			}
			writeError(w, apiErr)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, map[string]any{"error": map[string]string{"code": e.Code, "message": e.Message}})
}
