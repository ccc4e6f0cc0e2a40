package store

import (
	"time"
)

// Alert rule types.
const (
	RuleCostSpike      = "cost_spike"       // rolling cost per request above the baseline by Threshold (a fraction)
	RuleQualityDrop    = "quality_drop"     // rolling quality score below Threshold (absolute, 0..1)
	RuleLatencySpike   = "latency_spike"    // rolling latency above the baseline by Threshold (a fraction)
	RuleErrorRate      = "error_rate"       // rolling share of failed requests above Threshold (0..1)
	RuleBudget         = "budget"           // spend in the current day or month above Threshold USD
	RuleNoData         = "no_data"          // a key that had traffic received no request for WindowDuration
	RuleCostAndQuality = "cost_and_quality" // cost spike and quality drop on one key: replaces both
)

// Alert severities, lowest first.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Alert statuses. A stored alert's status only moves forward: firing → acknowledged →
// resolved (or firing → resolved).
const (
	AlertFiring       = "firing"
	AlertAcknowledged = "acknowledged"
	AlertResolved     = "resolved"
)

// AlertScope narrows the requests a rule looks at; empty fields match everything. User
// (the call's user id) scopes budget rules only.
type AlertScope struct {
	Service  string `json:"service,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	Model    string `json:"model,omitempty"`
	User     string `json:"user,omitempty"`
}

// AlertRule is one alert rule of a project. The meaning of Threshold depends on Type (see
// the Rule* constants); QualityThreshold is the quality half of a cost_and_quality rule.
// WindowRequests and WindowDuration bound the rolling window the rule judges (the last N
// requests within the last M); MinSamples is the number of samples the comparison needs
// (the baseline's for baseline-relative rules, the window's for absolute ones). Stat is the
// baseline statistic compared with ("mean", "p50", "p95", "p99"). Period is a budget's
// "day" or "month" (UTC).
type AlertRule struct {
	ID               string        `json:"id"`
	ProjectID        string        `json:"project_id"`
	Type             string        `json:"type"`
	Name             string        `json:"name"`
	Enabled          bool          `json:"enabled"`
	Severity         string        `json:"severity"`
	Threshold        float64       `json:"threshold"`
	QualityThreshold float64       `json:"quality_threshold,omitempty"`
	Stat             string        `json:"stat,omitempty"`
	WindowRequests   int           `json:"window_requests,omitempty"`
	WindowDuration   time.Duration `json:"window_duration"`
	MinSamples       int           `json:"min_samples"`
	Period           string        `json:"period,omitempty"`
	Scope            AlertScope    `json:"scope"`
	Cooldown         time.Duration `json:"cooldown"`
	CreatedAt        time.Time     `json:"created_at"`
	UpdatedAt        time.Time     `json:"updated_at"`
}

// Alert is one alert: the open incident of a rule on a key (DedupKey), counting repeats.
// Observed is the value that crossed the line, Baseline what it was compared with (zero for
// absolute rules), TraceID and SpanID the request that triggered it.
type Alert struct {
	ID             string    `json:"id"` // 32 lower-case hex characters
	ProjectID      string    `json:"project_id"`
	RuleID         string    `json:"rule_id"`
	Type           string    `json:"type"`
	Severity       string    `json:"severity"`
	Status         string    `json:"status"`
	DedupKey       string    `json:"dedup_key"`
	Service        string    `json:"service,omitempty"`
	Endpoint       string    `json:"endpoint,omitempty"`
	Model          string    `json:"model,omitempty"`
	Metric         string    `json:"metric"`
	Observed       float64   `json:"observed"`
	Baseline       float64   `json:"baseline"`
	Threshold      float64   `json:"threshold"`
	TraceID        string    `json:"trace_id,omitempty"`
	SpanID         string    `json:"span_id,omitempty"`
	Explanation    string    `json:"explanation"`
	Count          int       `json:"count"`
	FiredAt        time.Time `json:"fired_at"`
	LastSeenAt     time.Time `json:"last_seen_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at"`
	ResolvedAt     time.Time `json:"resolved_at"`
	// ResolvedBy is "auto" (the signal returned to normal), "user", or "replaced" (a
	// cost_and_quality alert took over).
	ResolvedBy string `json:"resolved_by,omitempty"`
}

// AlertQuery selects alerts of one project; zero fields do not filter. Since and Until
// (exclusive) bound FiredAt. Results are newest first (FiredAt, then id, descending).
type AlertQuery struct {
	ProjectID string
	Type      string
	Severity  string
	Status    string
	Service   string
	TraceID   string // the triggering trace
	Since     time.Time
	Until     time.Time
	Limit     int    // 1..1000; backends treat 0 as 50
	Cursor    string // NextCursor of the previous page
}

// AlertPage is one page of alerts; NextCursor is empty on the last page.
type AlertPage struct {
	Alerts     []Alert
	NextCursor string
}

// AlertCount counts a project's alerts of one type, severity and status.
type AlertCount struct {
	Type     string
	Severity string
	Status   string
	Count    int64
}

// Baseline is the stored snapshot of one baseline: the distribution of Metric ("cost_usd",
// "latency_ms", "tokens", "quality", or a budget's "spend_day" / "spend_month") on one key
// over the window that ended at UpdatedAt. State is the engine's opaque encoding, from which
// it resumes after a restart. A spend row of one user has Endpoint "user:<id>".
type Baseline struct {
	ProjectID   string    `json:"project_id"`
	Service     string    `json:"service"`
	Endpoint    string    `json:"endpoint"`
	Model       string    `json:"model"`
	Metric      string    `json:"metric"`
	WindowStart time.Time `json:"window_start"`
	Count       int64     `json:"count"`
	Sum         float64   `json:"sum"`
	Mean        float64   `json:"mean"`
	P50         float64   `json:"p50"`
	P95         float64   `json:"p95"`
	P99         float64   `json:"p99"`
	UpdatedAt   time.Time `json:"updated_at"`
	State       []byte    `json:"-"`
}

// BaselinePart is one worker process's share of a baseline: the distribution of the
// requests of the key that this process observed (State, the engine's encoding), and when
// it last received one (Arrived). Owner names the process's slot, which a restarted process
// takes over, so a key has at most one part per concurrent worker process.
type BaselinePart struct {
	Owner     string
	ProjectID string
	Service   string
	Endpoint  string
	Model     string
	Metric    string
	Arrived   time.Time
	UpdatedAt time.Time
	State     []byte
}

// Spend is one budget accumulator: the priced requests of a project and their cost in USD
// during one UTC Period ("day" or "month") that started at Start, in total (empty Service,
// Model and User) or within one service, model and/or user. Every worker process adds its
// share to the same stored accumulator (AlertStore.AddSpend).
type Spend struct {
	ProjectID string    `json:"project_id"`
	Period    string    `json:"period"`
	Start     time.Time `json:"start"`
	Service   string    `json:"service,omitempty"`
	Model     string    `json:"model,omitempty"`
	User      string    `json:"user,omitempty"`
	Requests  int64     `json:"requests"`
	USD       float64   `json:"usd"`
}

// Channel types.
const (
	ChannelWebhook   = "webhook"
	ChannelSlack     = "slack"
	ChannelPagerDuty = "pagerduty"
	ChannelDiscord   = "discord"
)

// Channel is where a project's alerts are delivered. URL is the webhook (for PagerDuty the
// Events v2 endpoint, defaulting to PagerDuty's); Secret signs generic webhooks; RoutingKey
// is PagerDuty's integration key. MinSeverity drops alerts below it.
type Channel struct {
	ID          string    `json:"id"`
	ProjectID   string    `json:"project_id"`
	Type        string    `json:"type"`
	Name        string    `json:"name"`
	URL         string    `json:"url"`
	Secret      string    `json:"secret,omitempty"`
	RoutingKey  string    `json:"routing_key,omitempty"`
	MinSeverity string    `json:"min_severity,omitempty"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"created_at"`
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"   // waiting for its next attempt
	DeliveryDelivered = "delivered" // the channel accepted it
	DeliveryFailed    = "failed"    // given up: a permanent error or too many attempts
)

// Delivery events.
const (
	EventTrigger = "trigger"
	EventResolve = "resolve"
	EventTest    = "test"
)

// Delivery is one outbox item: an alert event to send to one channel, with the alert as it
// was when the event happened.
type Delivery struct {
	ID          string    `json:"id"`
	ProjectID   string    `json:"project_id"`
	AlertID     string    `json:"alert_id"`
	ChannelID   string    `json:"channel_id"`
	Event       string    `json:"event"`
	Alert       Alert     `json:"alert"`
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastStatus  int       `json:"last_status,omitempty"` // HTTP status of the last attempt
	LastError   string    `json:"last_error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// PageLimit is the page size of a trace, conversation or end-user listing for a requested
// limit: ≤ 0 means 50, at most 1000 (the limits TraceQuery, ConversationQuery and
// EndUserQuery document).
func PageLimit(n int) int {
	if n <= 0 {
		return 50
	}
	return min(n, 1000)
}

// DeliveryLimit bounds the items one ChannelDeliveries call lists: ≤ 0 means 50, at most
// 500.
func DeliveryLimit(n int) int {
	if n <= 0 {
		return 50
	}
	return min(n, 500)
}

// AlertStatusRank orders statuses for the forward-only rule of AlertStore.PutAlert:
// firing 0, acknowledged 1, resolved 2.
func AlertStatusRank(status string) int {
	switch status {
	case AlertAcknowledged:
		return 1
	case AlertResolved:
		return 2
	}
	return 0
}

// AlertStatusOfRank is the inverse of AlertStatusRank.
func AlertStatusOfRank(rank int) string {
	switch rank {
	case 1:
		return AlertAcknowledged
	case 2:
		return AlertResolved
	}
	return AlertFiring
}
