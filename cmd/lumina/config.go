package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/api"
	"github.com/use-lumina/lumina/internal/limits"
)

// Roles a process can run.
const (
	roleIngest = "ingest"
	roleWorker = "worker"
	roleAPI    = "api"
	roleReplay = "replay"
	roleWeb    = "web"
)

var allRoles = []string{roleIngest, roleWorker, roleAPI, roleReplay, roleWeb}

// config is everything `lumina serve` can be told, from flags and environment variables.
type config struct {
	DataDir      string
	IngestAddr   string
	OTLPHTTPAddr string
	OTLPGRPCAddr string
	APIAddr      string
	ReplayAddr   string
	WebAddr      string
	WorkerAddr   string
	Roles        string

	DatabaseURL string
	NATSURL     string
	RedisURL    string

	AuthRequired     bool
	CORSOrigins      string
	AuthCacheTTL     time.Duration
	SessionTTL       time.Duration
	AdminEmail       string
	AdminPassword    string
	AnthropicAPIKey  string
	OpenAIAPIKey     string
	AnthropicBaseURL string
	OpenAIBaseURL    string
	DailyTraceLimit  int64
	RetentionDays    int

	ProjectTraceLimits string // project=N,… (parsed into traceLimits)
	ProjectRetention   string // project=days,… (parsed into retentionDays)
	RetentionTime      string // HH:MM UTC, or off
	RedisPrefix        string

	MaxBodyBytes  int64
	MaxPending    int64
	MaxValueBytes int64

	QueueStream   string
	QueueSubjects string
	QueueMaxBytes int64
	QueueReplicas int
	QueueAckWait  time.Duration
	SyncAlways    bool

	WorkerConcurrency int
	WorkerBatchMsgs   int
	WorkerLinger      time.Duration
	Store             string // "" or "discard" (benchmark only, discard.go)

	judgeConfig

	DebugAddr       string
	ShutdownTimeout time.Duration
	LogLevel        string
	LogFormat       string

	roles         []string
	traceLimits   map[string]int64
	retentionDays map[string]int64
	retentionAt   time.Duration
	corsOrigins   []string
}

// option binds one setting to its flag and environment variable.
type option struct {
	flag, env, help string
	value           flag.Value
}

// options lists every setting once; flags, environment variables, --help and
// docs/configuration.md all come from this table.
func (c *config) options() []option {
	return []option{
		{"data-dir", "LUMINA_DATA_DIR", "directory for the embedded SQLite database and JetStream store", strVal(&c.DataDir, "data")},
		{"ingest-addr", "LUMINA_INGEST_ADDR", "OTLP/HTTP listener (the ingest role); \"off\" disables it", strVal(&c.IngestAddr, ":8080")},
		{"otlp-http-addr", "LUMINA_OTLP_HTTP_ADDR", "second OTLP/HTTP listener on the standard OTLP port; \"off\" disables it", strVal(&c.OTLPHTTPAddr, ":4318")},
		{"otlp-grpc-addr", "LUMINA_OTLP_GRPC_ADDR", "OTLP/gRPC listener; \"off\" disables it", strVal(&c.OTLPGRPCAddr, ":4317")},
		{"api-addr", "LUMINA_API_ADDR", "REST API listener (the api role); \"off\" disables it", strVal(&c.APIAddr, ":8081")},
		{"replay-addr", "LUMINA_REPLAY_ADDR", "replay role listener; \"off\" disables it", strVal(&c.ReplayAddr, ":8082")},
		{"web-addr", "LUMINA_WEB_ADDR", "dashboard (web role) listener; \"off\" disables it", strVal(&c.WebAddr, ":3000")},
		{"worker-addr", "LUMINA_WORKER_ADDR", "worker role listener for /health, /ready and /metrics; \"off\" disables it", strVal(&c.WorkerAddr, ":8083")},
		{"roles", "LUMINA_ROLES", "comma-separated roles to run: all, or any of ingest, worker, api, replay, web", strVal(&c.Roles, "all")},
		{"database-url", "DATABASE_URL", "PostgreSQL URL; empty uses embedded SQLite in the data directory", strVal(&c.DatabaseURL, "")},
		{"nats-url", "NATS_URL", "external NATS server URLs (comma-separated); empty runs embedded JetStream", strVal(&c.NATSURL, "")},
		{"redis-url", "REDIS_URL", "Redis URL for state shared across processes; empty keeps it in-process", strVal(&c.RedisURL, "")},
		{"auth-required", "AUTH_REQUIRED", "require a project API key for ingestion, and a key or a dashboard sign-in for the API and the dashboard; false puts everything in project \"default\"", boolVal(&c.AuthRequired, false)},
		{"cors-origins", "LUMINA_CORS_ORIGINS", "browser origins allowed to call the API and OTLP/HTTP from another origin, comma-separated (https://app.example.com), or * for any without credentials; empty sends no CORS headers", strVal(&c.CORSOrigins, "")},
		{"auth-cache-ttl", "LUMINA_AUTH_CACHE_TTL", "how long a process trusts an API key look-up: a key revoked elsewhere stops working within this time", durVal(&c.AuthCacheTTL, 10*time.Second)},
		{"session-ttl", "LUMINA_SESSION_TTL", "how long a dashboard sign-in lasts", durVal(&c.SessionTTL, 7*24*time.Hour)},
		{"admin-email", "LUMINA_ADMIN_EMAIL", "create this admin user at start-up when no user has this email (with --admin-password)", strVal(&c.AdminEmail, "")},
		{"admin-password", "LUMINA_ADMIN_PASSWORD", "password of the --admin-email user, at least 8 characters (only used to create it)", strVal(&c.AdminPassword, "")},
		{"anthropic-api-key", "ANTHROPIC_API_KEY", "Anthropic API key (quality judge and replay)", strVal(&c.AnthropicAPIKey, "")},
		{"openai-api-key", "OPENAI_API_KEY", "OpenAI API key (replay, optional judge)", strVal(&c.OpenAIAPIKey, "")},
		{"anthropic-base-url", "ANTHROPIC_BASE_URL", "Anthropic API base URL", strVal(&c.AnthropicBaseURL, "")},
		{"openai-base-url", "OPENAI_BASE_URL", "OpenAI or OpenAI-compatible API base URL", strVal(&c.OpenAIBaseURL, "")},
		{"daily-trace-limit", "LUMINA_DAILY_TRACE_LIMIT", "distinct traces per project per UTC day (resets 00:00 UTC); new traces over it get 429 / RESOURCE_EXHAUSTED; 0: unlimited", intVal(&c.DailyTraceLimit, 50000)},
		{"project-trace-limits", "LUMINA_PROJECT_TRACE_LIMITS", "per-project daily trace limits overriding --daily-trace-limit, as project=N,other=M (0: unlimited)", strVal(&c.ProjectTraceLimits, "")},
		{"retention-days", "LUMINA_RETENTION_DAYS", "days traces (with their spans and logs) are kept before the daily retention job deletes them; 0: forever", intVal(&c.RetentionDays, 7)},
		{"project-retention-days", "LUMINA_PROJECT_RETENTION_DAYS", "per-project retention overriding --retention-days, as project=days,other=days (0: forever)", strVal(&c.ProjectRetention, "")},
		{"retention-time", "LUMINA_RETENTION_TIME", "time of day (HH:MM, UTC) the worker runs retention; \"off\" disables the schedule (lumina retention run still works)", strVal(&c.RetentionTime, "02:00")},
		{"redis-key-prefix", "LUMINA_REDIS_KEY_PREFIX", "prefix of every Redis key Lumina writes (the daily trace counts)", strVal(&c.RedisPrefix, "lumina:")},
		{"max-body-bytes", "LUMINA_MAX_BODY_BYTES", "largest OTLP request body, compressed or decompressed", bytesVal(&c.MaxBodyBytes, 16<<20)},
		{"max-pending-bytes", "LUMINA_MAX_PENDING_BYTES", "request bodies an ingest process holds at once while they wait for the queue's acknowledgement; past it requests get 503 with Retry-After (a request alone always fits)", bytesVal(&c.MaxPending, 256<<20)},
		{"max-value-bytes", "LUMINA_MAX_VALUE_BYTES", "longest stored string value (attributes, messages); longer ones are cut with a marker", bytesVal(&c.MaxValueBytes, 256<<10)},
		{"queue-stream", "LUMINA_QUEUE_STREAM", "JetStream stream name", strVal(&c.QueueStream, "LUMINA_SPANS")},
		{"queue-subject-prefix", "LUMINA_QUEUE_SUBJECT_PREFIX", "first token of the queue's subjects (<prefix>.spans.<project>, <prefix>.logs.<project>, <prefix>.dead.>)", strVal(&c.QueueSubjects, "lumina")},
		{"queue-max-bytes", "LUMINA_QUEUE_MAX_BYTES", "largest unprocessed backlog, as stored (request bodies are S2-compressed when that pays); beyond it ingestion answers 503 (back-pressure)", bytesVal(&c.QueueMaxBytes, 8<<30)},
		{"queue-replicas", "LUMINA_QUEUE_REPLICAS", "stream replicas on an external NATS cluster", intVal(&c.QueueReplicas, 1)},
		{"queue-ack-wait", "LUMINA_QUEUE_ACK_WAIT", "how long a delivered request may go unacknowledged, with no progress report, before it is redelivered; a worker reports the requests it holds every third of this", durVal(&c.QueueAckWait, 30*time.Second)},
		{"sync-always", "LUMINA_SYNC_ALWAYS", "fsync every request the embedded queue accepts and every SQLite commit (survives a power loss; slower)", boolVal(&c.SyncAlways, false)},
		{"worker-concurrency", "LUMINA_WORKER_CONCURRENCY", "consume loops per worker process (0: 1 on SQLite, 4 on PostgreSQL)", intVal(&c.WorkerConcurrency, 0)},
		{"worker-batch-messages", "LUMINA_WORKER_BATCH_MESSAGES", "OTLP requests per store transaction", intVal(&c.WorkerBatchMsgs, 256)},
		{"worker-linger", "LUMINA_WORKER_LINGER", "while a batch is being written, how long the requests that arrive wait before they are prepared as a part of the next batch", durVal(&c.WorkerLinger, 20*time.Millisecond)},
		{"judge-provider", "LUMINA_JUDGE_PROVIDER", "tier-2 quality judge provider: anthropic (needs ANTHROPIC_API_KEY), openai (needs OPENAI_API_KEY), openai_compatible (needs --judge-base-url or OPENAI_BASE_URL), or off", strVal(&c.JudgeProvider, "anthropic")},
		{"judge-model", "LUMINA_JUDGE_MODEL", "tier-2 judge model; empty is claude-haiku-4-5 for anthropic, required for the other providers", strVal(&c.JudgeModel, "")},
		{"judge-base-url", "LUMINA_JUDGE_BASE_URL", "base URL of an openai_compatible judge (Ollama, vLLM…); empty uses OPENAI_BASE_URL", strVal(&c.JudgeBaseURL, "")},
		{"judge-band", "LUMINA_JUDGE_BAND", "tier-1 scores in this borderline band LOW,HIGH (LOW inclusive, HIGH exclusive) are sent to the judge", strVal(&c.JudgeBand, "0.4,0.8")},
		{"judge-sample-rate", "LUMINA_JUDGE_SAMPLE_RATE", "share (0..1) of the other scored LLM spans also sent to the judge, chosen by span id", floatVal(&c.JudgeSampleRate, 0)},
		{"judge-daily-budget-usd", "LUMINA_JUDGE_DAILY_BUDGET_USD", "judge spend per project per UTC day in USD; past it jobs are skipped_budget; negative: unlimited; 0 is refused (use --judge-provider off)", floatVal(&c.JudgeDailyBudget, 1)},
		{"judge-concurrency", "LUMINA_JUDGE_CONCURRENCY", "judge calls in flight per worker process", intVal(&c.JudgeConcurrency, 4)},
		{"judge-max-attempts", "LUMINA_JUDGE_MAX_ATTEMPTS", "tries of a judge job whose provider keeps failing transiently before it is failed", intVal(&c.JudgeMaxAttempts, 5)},
		{"judge-retry-backoff", "LUMINA_JUDGE_RETRY_BACKOFF", "wait after a judge job's first transient failure, doubling per attempt up to 30m", durVal(&c.JudgeBackoff, 30*time.Second)},
		{"store", "LUMINA_STORE", "BENCHMARK ONLY, never in production: \"discard\" makes the worker acknowledge and drop every accepted request unread (nothing is stored); empty stores normally", strVal(&c.Store, "")},
		{"debug-addr", "LUMINA_DEBUG_ADDR", "listener for Go's pprof profiles (/debug/pprof/); off by default, never expose it publicly", strVal(&c.DebugAddr, "off")},
		{"shutdown-timeout", "LUMINA_SHUTDOWN_TIMEOUT", "how long a graceful shutdown may take", durVal(&c.ShutdownTimeout, 30*time.Second)},
		{"log-level", "LUMINA_LOG_LEVEL", "debug, info, warn or error", strVal(&c.LogLevel, "info")},
		{"log-format", "LUMINA_LOG_FORMAT", "text or json", strVal(&c.LogFormat, "text")},
	}
}

// parseConfig reads the environment, then the flags (which win), then checks the result.
func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c, rest, err := parseConfigWith(name, "", args, getenv, stderr, nil)
	if err == nil && len(rest) > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(rest, " "))
	}
	return c, err
}

// parseConfigWith parses the serve settings plus a subcommand's own flags (added by
// extra) and returns the positional arguments; synopsis follows the command's name in
// its usage line.
func parseConfigWith(name, synopsis string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (*config, []string, error) {
	c := &config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := c.options()
	for _, o := range opts {
		fs.Var(o.value, o.flag, fmt.Sprintf("%s (env %s)", o.help, o.env))
	}
	if extra != nil {
		extra(fs)
	}
	if synopsis == "" {
		synopsis = "[flags]"
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: lumina %s %s\n\nEvery serve flag can also be set by the environment variable named beside it; flags win.\n\n", name, synopsis)
		fs.PrintDefaults()
	}
	for _, o := range opts {
		if v := getenv(o.env); v != "" {
			if err := o.value.Set(v); err != nil {
				return nil, nil, fmt.Errorf("environment variable %s=%q: %w", o.env, v, err)
			}
		}
	}
	// Flags may follow positional arguments (lumina keys revoke ID --project p).
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		rest, args = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
	return c, rest, c.validate()
}

func (c *config) validate() error {
	var errs []error
	roles, err := parseRoles(c.Roles)
	if err != nil {
		errs = append(errs, err)
	}
	c.roles = roles
	split := len(roles) < len(allRoles)
	if split && c.NATSURL == "" {
		errs = append(errs, fmt.Errorf("roles %q need a shared queue: set NATS_URL (the embedded queue only works with --roles all)", c.Roles))
	}
	if split && c.DatabaseURL == "" && (c.has(roleWorker) || c.has(roleAPI) || c.has(roleWeb) || c.has(roleReplay)) {
		errs = append(errs, fmt.Errorf("roles %q need a shared database: set DATABASE_URL (embedded SQLite only works with --roles all)", c.Roles))
	}
	c.corsOrigins = api.ParseOrigins(c.CORSOrigins)
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		errs = append(errs, errors.New("--admin-email and --admin-password go together: set both or neither"))
	}
	if c.AuthCacheTTL <= 0 || c.SessionTTL <= 0 {
		errs = append(errs, errors.New("--auth-cache-ttl and --session-ttl must be positive"))
	}
	for _, a := range []struct{ name, addr string }{
		{"ingest-addr", c.IngestAddr}, {"otlp-http-addr", c.OTLPHTTPAddr}, {"otlp-grpc-addr", c.OTLPGRPCAddr},
		{"api-addr", c.APIAddr}, {"replay-addr", c.ReplayAddr}, {"web-addr", c.WebAddr}, {"worker-addr", c.WorkerAddr}, {"debug-addr", c.DebugAddr},
	} {
		if a.addr == "off" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			errs = append(errs, fmt.Errorf("--%s %q: want host:port, :port or off", a.name, a.addr))
		}
	}
	errs = append(errs, c.validateJudge()...)
	errs = append(errs, c.validateStore()...)
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	if c.MaxBodyBytes <= 0 || c.MaxPending <= 0 || c.MaxValueBytes <= 0 || c.QueueMaxBytes <= 0 {
		errs = append(errs, errors.New("byte limits must be positive"))
	}
	if c.traceLimits, err = limits.ParseOverrides(c.ProjectTraceLimits); err != nil {
		errs = append(errs, fmt.Errorf("--project-trace-limits: %w", err))
	}
	if c.retentionDays, err = limits.ParseOverrides(c.ProjectRetention); err != nil {
		errs = append(errs, fmt.Errorf("--project-retention-days: %w", err))
	}
	if c.RetentionTime != "off" {
		if c.retentionAt, err = limits.ParseTimeOfDay(c.RetentionTime); err != nil {
			errs = append(errs, fmt.Errorf("--retention-time: %w", err))
		}
	}
	if c.DailyTraceLimit < 0 || c.RetentionDays < 0 || c.QueueReplicas < 1 || c.WorkerConcurrency < 0 || c.WorkerBatchMsgs < 1 {
		errs = append(errs, errors.New("limits, retention days, replicas and worker settings must not be negative (replicas and batch size at least 1)"))
	}
	return errors.Join(errs...)
}

func parseRoles(s string) ([]string, error) {
	var roles []string
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSpace(r)
		switch {
		case r == "all":
			return allRoles, nil
		case slices.Contains(allRoles, r):
			if !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		default:
			return nil, fmt.Errorf("unknown role %q: want all or any of %s", r, strings.Join(allRoles, ", "))
		}
	}
	return roles, nil
}

func (c *config) has(role string) bool { return slices.Contains(c.roles, role) }

type stringValue struct{ p *string }

func strVal(p *string, def string) flag.Value { *p = def; return stringValue{p} }
func (v stringValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}
func (v stringValue) Set(s string) error { *v.p = s; return nil }

type boolValue struct{ p *bool }

func boolVal(p *bool, def bool) flag.Value { *p = def; return boolValue{p} }
func (v boolValue) String() string {
	if v.p == nil {
		return "false"
	}
	return strconv.FormatBool(*v.p)
}
func (v boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false, got %q", s)
	}
	*v.p = b
	return nil
}
func (v boolValue) IsBoolFlag() bool { return true }

type intValue[T int | int64] struct{ p *T }

func intVal[T int | int64](p *T, def T) flag.Value { *p = def; return intValue[T]{p} }
func (v intValue[T]) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*v.p), 10)
}
func (v intValue[T]) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("want an integer, got %q", s)
	}
	*v.p = T(n)
	return nil
}

type durationValue struct{ p *time.Duration }

func durVal(p *time.Duration, def time.Duration) flag.Value { *p = def; return durationValue{p} }
func (v durationValue) String() string {
	if v.p == nil {
		return "0s"
	}
	return v.p.String()
}
func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 500ms or 30s, got %q", s)
	}
	*v.p = d
	return nil
}

// bytesValue accepts plain byte counts or KiB/MiB/GiB suffixes.
type bytesValue struct{ p *int64 }

func bytesVal(p *int64, def int64) flag.Value { *p = def; return bytesValue{p} }
func (v bytesValue) String() string {
	if v.p == nil {
		return "0"
	}
	return formatBytes(*v.p)
}
func (v bytesValue) Set(s string) error {
	n, err := parseBytes(s)
	if err != nil {
		return err
	}
	*v.p = n
	return nil
}

var byteUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

func parseBytes(s string) (int64, error) {
	for _, u := range byteUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil {
				break
			}
			return n * u.mult, nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("want a size such as 16MiB, 512KiB or 1048576, got %q", s)
	}
	return n, nil
}

func formatBytes(n int64) string {
	for _, u := range byteUnits {
		if n >= u.mult && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
