// Package web serves Lumina's dashboard: server-rendered html/template pages with embedded
// CSS and a small amount of our own JavaScript, charts drawn as SVG on the server, and live
// updates over Server-Sent Events. Every page filters and paginates in the store, never in
// the browser.
//
// Everything a page shows from a trace is hostile input (prompts, responses, attribute
// values): it reaches HTML only through html/template's contextual escaping, data for
// scripts travels in data- attributes, the Content-Security-Policy allows scripts from
// 'self' only, and every POST needs a CSRF token and a same-origin request.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/use-lumina/lumina/internal/auth"
	"github.com/use-lumina/lumina/internal/cost"
	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/limits"
	"github.com/use-lumina/lumina/internal/store"
)

// ProjectFunc says which project a dashboard request belongs to; an error means the caller
// is not signed in.
type ProjectFunc func(r *http.Request) (string, error)

// Store is the storage the dashboard reads, plus the custom prices, alert states and rules
// it edits.
type Store interface {
	store.TraceReader
	store.Analytics
	store.PriceStore
	store.AlertStore
	store.ConversationReader
	store.EndUserReader
}

// Pricing is what the dashboard needs of the cost engine: the built-in table (for price
// provenance) and cache invalidation after a custom price changes.
type Pricing interface {
	Table() *cost.Table
	Invalidate(projectID string)
}

// LogJoiner attaches GenAI log records to the spans they describe (genai.AttachLogs).
type LogJoiner func(spans []genai.Span, logs []genai.LogRecord)

// Provider is the configuration status of one LLM provider: whether its key is set, never
// the key itself.
type Provider struct {
	Name       string // "Anthropic"
	EnvVar     string // "ANTHROPIC_API_KEY"
	Configured bool
	// BaseURL is the configured base URL, empty for the provider's default. It is shown:
	// a URL is configuration, not a secret.
	BaseURL string
	// Used says what the key enables.
	Used string
}

// UsageReader reports a project's daily trace quota.
type UsageReader interface {
	Usage(ctx context.Context, project string) (limits.Usage, error)
}

// Config configures the dashboard.
type Config struct {
	// Project resolves the request's project; nil means Auth's, or "default" without Auth.
	Project ProjectFunc
	// Auth signs users in and manages API keys; nil means auth is off.
	Auth *auth.Auth
	// Usage reads a project's trace count today against its daily limit (*limits.Quota);
	// nil when this process cannot see the count.
	Usage UsageReader
	// Retention says how long a project's traces are kept; nil hides it.
	Retention *limits.RetentionConfig
	// RetentionSchedule says when the retention job runs ("daily at 02:00 UTC").
	RetentionSchedule string
	// Now is the clock for windows and "ago" labels; nil means time.Now.
	Now func() time.Time
	// Logger receives request failures; nil discards them.
	Logger *slog.Logger
	// Providers lists the LLM providers' configuration status for the settings page.
	Providers []Provider
	// OTLPEndpoint is the OTLP/HTTP base URL shown in the onboarding snippets
	// (default http://localhost:4318).
	OTLPEndpoint string
	// APIEndpoint is the REST API base URL shown on the settings page (default
	// http://localhost:8081).
	APIEndpoint string
	// LivePoll is how often a live stream asks the store for new traces (default 1s).
	LivePoll time.Duration
	// LiveMaxClients bounds concurrent live streams (default 32); beyond it a stream is
	// refused with 503 and the browser retries.
	LiveMaxClients int
	// LiveMaxAge ends a live stream after this long (default 25s) so that shutdown never
	// waits on it; the browser reconnects at once and resumes from its last event id.
	LiveMaxAge time.Duration
	// Join attaches GenAI log records to spans on the trace page; nil leaves them apart.
	Join LogJoiner
	// Replay serves Replay Studio; nil (the replay role is not running in this process)
	// shows the studio as unavailable.
	Replay Replay
	// TestChannel sends a channel's "send test" delivery; nil shows the button disabled.
	TestChannel ChannelTester
	// ValidateRule checks and completes an edited alert rule (alert.ValidateRule); nil
	// checks only that a threshold is a positive number.
	ValidateRule func(r *store.AlertRule) error
	// ValidateChannel checks and completes a new channel (alert.ValidateChannel); nil
	// checks only its type.
	ValidateChannel func(c *store.Channel) error
}

// Server is the dashboard. It is safe for concurrent use.
type Server struct {
	cfg     Config
	store   Store
	pricing Pricing
	log     *slog.Logger
	pages   *pages
	live    chan struct{} // a token per live stream
	static  staticFiles
}

// New returns the dashboard over st and pricing. It panics only if the embedded templates
// do not parse, which the package's tests rule out.
func New(cfg Config, st Store, pricing Pricing) *Server {
	switch {
	case cfg.Project != nil:
	case cfg.Auth != nil:
		cfg.Project = cfg.Auth.Project
	default:
		cfg.Project = func(*http.Request) (string, error) { return "default", nil }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OTLPEndpoint == "" {
		cfg.OTLPEndpoint = "http://localhost:4318"
	}
	if cfg.APIEndpoint == "" {
		cfg.APIEndpoint = "http://localhost:8081"
	}
	if cfg.LivePoll <= 0 {
		cfg.LivePoll = time.Second
	}
	if cfg.LiveMaxClients <= 0 {
		cfg.LiveMaxClients = 32
	}
	if cfg.LiveMaxAge <= 0 {
		cfg.LiveMaxAge = 25 * time.Second
	}
	st2 := newStaticFiles()
	p, err := parsePages(st2)
	if err != nil {
		panic(fmt.Sprintf("web: parse embedded templates: %v", err))
	}
	return &Server{cfg: cfg, store: st, pricing: pricing, log: cfg.Logger, pages: p,
		live: make(chan struct{}, cfg.LiveMaxClients), static: st2}
}

// Register adds the dashboard's routes to mux. They take the root of the listener, so mux
// should hold nothing else but health, readiness and metrics.
func (s *Server) Register(mux *http.ServeMux) {
	handle := func(pattern string, h pageFunc) { mux.Handle(pattern, s.secure(s.page(h))) }
	handle("GET /{$}", s.home)
	handle("GET /traces", s.traces)
	handle("GET /traces/{trace_id}", s.trace)
	handle("GET /cost", s.costPage)
	handle("GET /settings", s.settings)
	s.registerLogin(mux)
	handle("GET /sessions", s.sessions)
	handle("GET /users", s.users)
	handle("GET /alerts", s.alerts)
	handle("GET /alerts/{id}", s.alertDetail)
	handle("GET /alerts/rules", s.alertRules)
	handle("GET /alerts/rules/new", s.newRule)
	handle("GET /alerts/rules/{id}/edit", s.editRule)
	handle("GET /alerts/channels/{id}", s.channelPage)
	handle("GET /replay", s.replaySets)
	handle("GET /replay/sets/{id}", s.replaySet)
	handle("GET /replay/runs/{id}", s.replayRun)
	handle("GET /replay/runs/{id}/items/{index}", s.replayItem)
	mux.Handle("GET /replay/runs/{id}/progress", s.secure(http.HandlerFunc(s.replayProgress)))
	s.registerActions(mux)
	mux.Handle("GET /traces/{trace_id}/spans/{span_id}", s.secure(http.HandlerFunc(s.spanFragment)))
	mux.Handle("POST /cost/prices", s.secure(s.checkCSRF(http.HandlerFunc(s.createPrice))))
	mux.Handle("POST /cost/prices/{id}/delete", s.secure(s.checkCSRF(http.HandlerFunc(s.deletePrice))))
	mux.Handle("GET /live/traces", s.secure(http.HandlerFunc(s.liveTraces)))
	mux.Handle("GET /static/{file}", s.secure(http.HandlerFunc(s.static.serve)))
	handle("/", func(context.Context, *request) (view, error) {
		return view{}, errNotFound
	})
}

// errNotFound renders the 404 page.
var errNotFound = errors.New("page not found")
