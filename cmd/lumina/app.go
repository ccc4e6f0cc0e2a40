package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"

	"github.com/use-lumina/lumina/internal/alert"
	"github.com/use-lumina/lumina/internal/api"
	"github.com/use-lumina/lumina/internal/auth"
	"github.com/use-lumina/lumina/internal/cost"
	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/limits"
	"github.com/use-lumina/lumina/internal/otlp"
	"github.com/use-lumina/lumina/internal/quality"
	"github.com/use-lumina/lumina/internal/queue"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/web"
	"github.com/use-lumina/lumina/internal/worker"
)

// localURL is the base URL a user on this machine reaches a listen address at, for the
// dashboard's setup snippets; "" (the dashboard's default) when the listener is off or odd.
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return ""
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// providerStatus says which LLM provider keys are configured, for the dashboard's settings
// page; it passes booleans and base URLs, never the keys.
func providerStatus(cfg *config) []web.Provider {
	return []web.Provider{
		{Name: "Anthropic", EnvVar: "ANTHROPIC_API_KEY", Configured: cfg.AnthropicAPIKey != "", BaseURL: cfg.AnthropicBaseURL, Used: judgeUse(cfg, "anthropic", "replay")},
		{Name: "OpenAI", EnvVar: "OPENAI_API_KEY", Configured: cfg.OpenAIAPIKey != "", BaseURL: cfg.OpenAIBaseURL, Used: judgeUse(cfg, "openai", "replay (and embeddings)")},
	}
}

// app is one running Lumina process: the roles it was given, their dependencies and their
// listeners. main and the end-to-end tests drive it through start and shutdown.
type app struct {
	cfg      *config
	log      *slog.Logger
	registry *prometheus.Registry

	store store.Store
	queue *queue.Queue
	calc  *cost.Calculator
	auth  *auth.Auth // nil in an ingest-only process without AUTH_REQUIRED

	quota      *limits.Quota
	quotaClose func() error // closes the quota's counter
	jobsCancel context.CancelFunc

	servers   []*http.Server
	listeners map[string]net.Listener
	grpc      *grpc.Server

	workerCancel context.CancelFunc
	wg           sync.WaitGroup
	errs         chan error
	replay       web.Replay // the replay role's service, for Replay Studio; nil when that role runs elsewhere
}

func newLogger(cfg *config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs Lumina until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, cfg *config, stderr io.Writer) error {
	a, err := start(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-a.errs:
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(runErr, a.shutdown(shutdownCtx))
}

// start opens the dependencies of the configured roles, binds every listener and starts
// serving. On error, whatever was opened is closed again.
func start(ctx context.Context, cfg *config, logger *slog.Logger) (a *app, err error) {
	a = &app{cfg: cfg, log: logger, registry: prometheus.NewRegistry(), listeners: map[string]net.Listener{}, errs: make(chan error, 8)}
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opened := a // a is nil once an error is returned
	defer func() {
		if err != nil {
			_ = opened.shutdown(context.WithoutCancel(ctx))
			a = nil
		}
	}()
	if cfg.has(roleIngest) || cfg.has(roleWorker) {
		if a.queue, err = openQueue(ctx, cfg, logger); err != nil {
			return nil, err
		}
		a.registry.MustRegister(queueCollector{a.queue})
	}
	reads := cfg.has(roleWorker) || cfg.has(roleAPI) || cfg.has(roleWeb) || cfg.has(roleReplay)
	if reads || cfg.AuthRequired { // ingest checks API keys in the store
		if a.store, err = openStore(ctx, cfg, logger); err != nil {
			return nil, err
		}
		if ix, ok := a.store.(searchIndexer); ok {
			a.registry.MustRegister(searchIndexCollector{ix})
		}
		if err := a.openAuth(ctx); err != nil {
			return nil, err
		}
	}
	if reads {
		if a.calc, err = newCalculator(a.store); err != nil {
			return nil, err
		}
	}
	if cfg.has(roleIngest) || cfg.has(roleAPI) {
		if err := a.openQuota(); err != nil {
			return nil, err
		}
	}
	if cfg.has(roleIngest) {
		if err := a.startIngest(); err != nil {
			return nil, err
		}
	}
	if cfg.has(roleAPI) {
		mux := a.mux(roleAPI)
		srv := api.New(a.store, a.auth.Project, genai.AttachLogs, logger)
		if err := srv.TrustOrigins(cfg.corsOrigins); err != nil {
			return nil, err
		}
		srv.Register(mux)
		srv.RegisterAuth(mux, a.auth)
		srv.RegisterPrices(mux, a.store, a.calc, time.Now)
		srv.RegisterUsage(mux, usageReader(a.quota))
		srv.RegisterAlerts(mux, a.store, channelTester(), time.Now)
		a.registerQuality(mux, srv)
		if err := a.listenHTTP(roleAPI, cfg.APIAddr, api.CORS(cfg.corsOrigins, mux)); err != nil {
			return nil, err
		}
	}
	if cfg.has(roleReplay) {
		if err := a.startReplay(ctx); err != nil {
			return nil, err
		}
	}
	if cfg.has(roleWeb) {
		mux := a.mux(roleWeb)
		retention := retentionConfig(cfg)
		web.New(web.Config{
			Auth:              a.auth,
			Usage:             usageReader(a.quota),
			Retention:         &retention,
			RetentionSchedule: retentionSchedule(cfg),
			Logger:            logger,
			Providers:         providerStatus(cfg),
			OTLPEndpoint:      localURL(cfg.OTLPHTTPAddr),
			APIEndpoint:       localURL(cfg.APIAddr),
			Join:              genai.AttachLogs,
			Replay:            a.replay, TestChannel: web.ChannelTester(channelTester()), ValidateRule: alert.ValidateRule,
			ValidateChannel: alert.ValidateChannel,
		}, a.store, a.calc).Register(mux)
		if err := a.listenHTTP(roleWeb, cfg.WebAddr, mux); err != nil {
			return nil, err
		}
	}
	if err := a.listenHTTP("debug", cfg.DebugAddr, debugMux()); err != nil {
		return nil, err
	}
	if cfg.has(roleWorker) {
		if err := a.listenHTTP(roleWorker, cfg.WorkerAddr, a.mux(roleWorker)); err != nil {
			return nil, err
		}
		if err := a.startWorker(ctx); err != nil {
			return nil, err
		}
		a.startRetention(ctx)
	}
	logger.Info("lumina started", "version", version, "roles", cfg.roles, "addresses", a.addrs(), "store", backendName(cfg.DatabaseURL, "sqlite", "postgresql"), "queue", backendName(cfg.NATSURL, "embedded", "nats"))
	return a, nil
}

func backendName(url, embedded, external string) string {
	if url == "" {
		return embedded
	}
	return external
}

func (a *app) startIngest() error {
	recv := otlp.New(otlp.Config{MaxBodyBytes: a.cfg.MaxBodyBytes, MaxPendingBytes: a.cfg.MaxPending, Project: a.ingestProject(), Admit: admitFunc(a.quota)}, a.queue, a.registry, a.log)
	for _, l := range []struct{ name, addr string }{{"ingest", a.cfg.IngestAddr}, {"otlp-http", a.cfg.OTLPHTTPAddr}} {
		mux := a.mux(roleIngest)
		recv.Register(mux)
		if err := a.listenHTTP(l.name, l.addr, api.CORS(a.cfg.corsOrigins, mux)); err != nil {
			return err
		}
	}
	if a.cfg.OTLPGRPCAddr == "off" {
		return nil
	}
	ln, err := net.Listen("tcp", a.cfg.OTLPGRPCAddr)
	if err != nil {
		return fmt.Errorf("listen otlp-grpc on %s: %w", a.cfg.OTLPGRPCAddr, err)
	}
	a.listeners["otlp-grpc"] = ln
	a.grpc = grpc.NewServer(recv.GRPCServerOptions()...)
	recv.RegisterGRPC(a.grpc)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := a.grpc.Serve(ln); err != nil {
			a.errs <- fmt.Errorf("otlp-grpc server: %w", err)
		}
	}()
	return nil
}

func (a *app) startWorker(ctx context.Context) error {
	if a.cfg.Store == storeDiscard { // benchmark only (discard.go)
		return a.startDiscardWorker(ctx)
	}
	limits := genai.Limits{MaxValueBytes: int(a.cfg.MaxValueBytes)}
	concurrency := a.cfg.WorkerConcurrency
	if concurrency == 0 {
		concurrency = 1
		if a.cfg.DatabaseURL != "" {
			concurrency = 4
		}
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.workerCancel = cancel
	alerts, err := a.startAlerts(ctx, wctx)
	if err != nil {
		return err
	}
	judge, err := a.startJudge(wctx, alerts)
	if err != nil {
		return err
	}
	scorer := quality.NewScorer(quality.ScorerConfig{}, time.Now)
	late := newLateContent(a.store, scorer, alerts, judge, a.registry, a.log)
	hooks := []worker.Hook{alerts.Observe, late.Observe}
	if judge != nil {
		hooks = append(hooks, judge)
	}
	a.runWorker(wctx, concurrency, decode, a.store,
		[]worker.Stage{normalizeStage(limits), costStage(a.calc), qualityStage(scorer)}, hooks)
	return nil
}

// runWorker runs a worker on the queue's shared consumer until wctx ends.
func (a *app) runWorker(wctx context.Context, concurrency int, decode worker.Decoder, st worker.Store, stages []worker.Stage, hooks []worker.Hook) {
	w := worker.New(worker.Config{Concurrency: concurrency, BatchMsgs: a.cfg.WorkerBatchMsgs, Linger: a.cfg.WorkerLinger, AckProgress: a.cfg.QueueAckWait / 3},
		func(ctx context.Context) (worker.Source, error) {
			return a.queue.Consumer(ctx, 16*a.cfg.WorkerBatchMsgs)
		},
		decode, st, stages, hooks, a.registry, a.log)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := w.Run(wctx); err != nil {
			a.errs <- fmt.Errorf("worker: %w", err)
		}
	}()
}

// startAlerts loads the alert engine and starts its ticker and the delivery loop, both
// stopped with the worker (run). The engine's Observe is the worker's post-commit hook; the
// dispatcher runs apart from it, so a dead channel never slows ingestion.
func (a *app) startAlerts(ctx, run context.Context) (*alert.Engine, error) {
	sender := &alert.Sender{Timeout: 10 * time.Second}
	d := alert.NewDispatcher(alert.DispatcherConfig{Registerer: a.registry}, a.store, sender.Send, time.Now, a.log)
	owner, release, err := alertOwner(ctx, a.store)
	if err != nil {
		return nil, err
	}
	e := alert.New(alert.Config{Owner: owner, Registerer: a.registry}, a.store, time.Now, d, a.log)
	if err := e.Load(ctx); err != nil {
		release()
		return nil, err
	}
	if owner != "" {
		a.log.Info("alert engine shares baselines with the other worker processes", "owner", owner)
	}
	runEngine := func(ctx context.Context) error {
		defer release()
		return e.Run(ctx)
	}
	for _, loop := range []func(context.Context) error{runEngine, d.Run} {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			if err := loop(run); err != nil {
				a.errs <- fmt.Errorf("alerts: %w", err)
			}
		}()
	}
	return e, nil
}

// channelTester sends the API's channel tests.
func channelTester() api.ChannelTester {
	sender := &alert.Sender{Timeout: 10 * time.Second}
	return func(ctx context.Context, ch store.Channel, d store.Delivery) (int, error) {
		res := sender.Send(ctx, ch, d)
		return res.Status, res.Err
	}
}

func newCalculator(st store.Store) (*cost.Calculator, error) {
	table, err := cost.Builtin()
	if err != nil {
		return nil, fmt.Errorf("load price table: %w", err)
	}
	return cost.NewCalculator(table, st, time.Now), nil
}

// debugMux serves Go's profiles, for `go tool pprof http://ADDR/debug/pprof/profile`.
func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// mux returns a mux with the routes every listener serves: /health, /ready and /metrics.
func (a *app) mux(role string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
	})
	mux.HandleFunc("GET /ready", a.ready(role))
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{Registry: a.registry}))
	return mux
}

// ready reports whether the dependencies of role answer: the queue for ingest and worker,
// the store for everything that reads or writes it.
func (a *app) ready(role string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		checks := map[string]string{}
		ok := true
		check := func(name string, ping func(context.Context) error) {
			if err := ping(ctx); err != nil {
				checks[name], ok = err.Error(), false
				return
			}
			checks[name] = "ok"
		}
		if a.queue != nil && (role == roleIngest || role == roleWorker || a.cfg.has(roleWorker)) {
			check("queue", a.queue.Ping)
		}
		if a.store != nil && role != roleIngest {
			check("store", a.store.Ping)
		}
		status := http.StatusOK
		if !ok {
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, map[string]any{"ready": ok, "role": role, "checks": checks})
	}
}

func (a *app) listenHTTP(name, addr string, h http.Handler) error {
	if addr == "off" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s on %s: %w", name, addr, err)
	}
	a.listeners[name] = ln
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.servers = append(a.servers, srv)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.errs <- fmt.Errorf("%s server: %w", name, err)
		}
	}()
	return nil
}

// addr is the bound address of a listener ("ingest", "otlp-http", "otlp-grpc", "api",
// "replay", "web"), or "" when it is off.
func (a *app) addr(name string) string {
	if ln, ok := a.listeners[name]; ok {
		return ln.Addr().String()
	}
	return ""
}

func (a *app) addrs() map[string]string {
	out := map[string]string{}
	for name := range a.listeners {
		out[name] = a.addr(name)
	}
	return out
}

// shutdown stops accepting requests, lets in-flight requests and worker batches finish,
// then closes the queue and the store.
func (a *app) shutdown(ctx context.Context) error {
	var errs []error
	for _, srv := range a.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down http server: %w", err))
		}
	}
	if a.grpc != nil {
		stopped := make(chan struct{})
		go func() { a.grpc.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-ctx.Done():
			a.grpc.Stop()
		}
	}
	if a.workerCancel != nil {
		a.workerCancel()
	}
	if a.jobsCancel != nil {
		a.jobsCancel()
	}
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, errors.New("shutdown timed out waiting for the worker"))
	}
	if a.queue != nil {
		a.queue.Close()
	}
	if a.quotaClose != nil {
		if err := a.quotaClose(); err != nil {
			errs = append(errs, err)
		}
	}
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	}
	a.log.Info("lumina stopped")
	return errors.Join(errs...)
}
