// Package store is Lumina's storage contract: the interfaces every backend implements, the
// query types, and the errors callers branch on. Backends live in store/sqlite and
// store/postgres; store/storetest is the conformance suite both must pass.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// ErrNotFound is returned when the requested item does not exist in the caller's project.
var ErrNotFound = errors.New("not found")

// ErrInvalidCursor is returned when a pagination cursor cannot be decoded.
var ErrInvalidCursor = errors.New("invalid cursor")

// Batch is what one worker batch writes: spans and log records, in one transaction.
type Batch struct {
	Spans []genai.Span
	Logs  []genai.LogRecord
	// Prepared is what a store's Prepare (Preparer) made of the batch ahead of Write. Only
	// that store's Write reads it; the spans and records must not change after Prepare.
	Prepared any
}

// Preparer is implemented by stores that can do a batch's CPU work (encoding its rows)
// before Write: the worker prepares the next batch while the previous one is being
// written, so that work is off the store's single writer.
type Preparer interface {
	Prepare(b *Batch)
	// Join returns the prepared parts as one batch, in order, without preparing it again.
	Join(parts []Batch) Batch
}

// Join returns the parts' spans and log records as one batch, in order, unprepared.
func Join(parts []Batch) Batch {
	var spans, logs int
	for _, p := range parts {
		spans, logs = spans+len(p.Spans), logs+len(p.Logs)
	}
	b := Batch{Spans: make([]genai.Span, 0, spans), Logs: make([]genai.LogRecord, 0, logs)}
	for _, p := range parts {
		b.Spans = append(b.Spans, p.Spans...)
		b.Logs = append(b.Logs, p.Logs...)
	}
	return b
}

// Writer stores batches.
type Writer interface {
	// Write upserts the batch's spans (keyed by project, trace and span id) and log records
	// (keyed by project and record id), then recomputes the rollup of every trace the batch
	// touched from all of that trace's stored spans with genai.Rollup, updating each span's
	// Counted flag. It is one transaction: it returns nil only once everything is durable
	// (on a context marked by DeferSync, once it is committed and visible: see Syncer),
	// and on error nothing of the batch is visible. Writing the same batch again changes
	// nothing. It is safe for concurrent use.
	Write(ctx context.Context, b Batch) error
}

// Syncer is implemented by a store that can return from a write before it is durable:
// PostgreSQL with asynchronous commit. Its writes on a context marked by DeferSync (Write,
// and the writes of the worker's hooks: the alert, its outbox item, the quality and judge
// updates) return once they are committed and visible; Sync returns once every such write
// that returned before the call is durable. The worker marks the context of a batch's
// write and hooks, and calls Sync before it acknowledges the batch's messages: the flush
// to disk is off the path from a span to its alert, and a message is still acknowledged
// only once everything written for it would survive a crash of the database server.
type Syncer interface {
	Sync(ctx context.Context) error
}

type deferSyncKey struct{}

// DeferSync marks ctx: a Syncer's writes on it need not be durable until Sync returns.
func DeferSync(ctx context.Context) context.Context {
	return context.WithValue(ctx, deferSyncKey{}, true)
}

// SyncDeferred reports whether ctx was marked by DeferSync.
func SyncDeferred(ctx context.Context) bool {
	deferred, _ := ctx.Value(deferSyncKey{}).(bool)
	return deferred
}

// TraceReader reads traces. Every call is scoped to one project.
type TraceReader interface {
	// Traces lists trace rollups matching q, in q's order, one page at a time.
	Traces(ctx context.Context, q TraceQuery) (TracePage, error)
	// Trace returns one trace with all its spans (ordered by start time, then span id) and
	// every log record that names the trace. It returns ErrNotFound when the project has no
	// span of that trace.
	Trace(ctx context.Context, projectID, traceID string) (TraceDetail, error)
	// Logs lists log records matching q, oldest first.
	Logs(ctx context.Context, q LogQuery) ([]genai.LogRecord, error)
	// TraceQuality reads the quality of the listed traces' scored LLM calls in one
	// query, keyed by trace id; a trace without a scored LLM call is not in the map. It
	// fails for more than MaxTraceQualityIDs traces.
	TraceQuality(ctx context.Context, projectID string, traceIDs []string) (map[string]TraceQuality, error)
}

// PriceStore keeps per-project custom prices.
type PriceStore interface {
	// Prices lists the project's custom prices, newest first.
	Prices(ctx context.Context, projectID string) ([]genai.Price, error)
	// PutPrice creates or replaces the price with p.ID in p.ProjectID.
	PutPrice(ctx context.Context, p genai.Price) error
	// DeletePrice removes a custom price; ErrNotFound when it does not exist.
	DeletePrice(ctx context.Context, projectID, id string) error
}

// Analytics answers aggregate questions over stored spans.
type Analytics interface {
	// UnpricedModels counts the model-call spans since the given time whose cost is
	// unpriced, per provider and model, most frequent first.
	UnpricedModels(ctx context.Context, projectID string, since time.Time) ([]ModelCount, error)
	// Overview aggregates the window of q: totals, per-bucket stats, and the top models,
	// services and endpoints. It fails when q's window is empty (see OverviewQuery.Normalize).
	Overview(ctx context.Context, q OverviewQuery) (Overview, error)
	// KeySeries sums the requests of one alert key per bucket of q's window, in one
	// aggregate query. It returns exactly q.Buckets entries, in time order, empty buckets
	// included. It fails when q's window is empty (see KeySeriesQuery.Normalize).
	KeySeries(ctx context.Context, q KeySeriesQuery) ([]KeyBucket, error)
	// QualitySeries counts the assessed LLM spans of q's window per bucket, in one
	// aggregate query. It returns exactly q.Buckets entries, in time order, empty buckets
	// included. It fails when q's window is empty (see QualitySeriesQuery.Normalize).
	QualitySeries(ctx context.Context, q QualitySeriesQuery) ([]QualityBucket, error)
}

// AlertStore keeps alert rules, alerts, baseline snapshots, channels and the delivery
// outbox. Every call that names a project is scoped to it. It is safe for concurrent use.
type AlertStore interface {
	// AlertRules lists a project's rules by id; an empty projectID lists every project's.
	AlertRules(ctx context.Context, projectID string) ([]AlertRule, error)
	// PutAlertRule creates or replaces the rule with r.ID in r.ProjectID.
	PutAlertRule(ctx context.Context, r AlertRule) error
	// DeleteAlertRule removes a rule; ErrNotFound when it does not exist.
	DeleteAlertRule(ctx context.Context, projectID, id string) error

	// PutAlert creates or updates the alert with a.ID in a.ProjectID. The stored status
	// only moves forward (firing → acknowledged → resolved): a put with an earlier status
	// keeps the stored one and its AcknowledgedAt, ResolvedAt and ResolvedBy, so an engine
	// counting repeats never reopens what a user acknowledged or resolved. Count and
	// LastSeenAt never move back either (the greater is kept), so a user's acknowledgement
	// written from an older read loses no repeats. At most one alert per project and
	// DedupKey (when not empty) is open, across every process: a put of a new alert whose
	// DedupKey is already open stores no second alert but counts a.Count repeats on the
	// open one, as RecordAlert does.
	PutAlert(ctx context.Context, a Alert) error
	// RecordAlert is how an alert engine writes, safe when engines in several processes
	// judge the same keys. It applies a to the stored alert a.ID if there is one, else to
	// the project's open (not resolved) alert with a.DedupKey, opened by another engine
	// (unless a itself is resolved: a resolved alert never closes another's incident);
	// else it stores a as a new alert. Applied to a stored alert it moves the status
	// forward only (as PutAlert), adds repeats to Count and keeps the later LastSeenAt; the
	// rest of the document is replaced by a's only when the stored alert is a.ID. It
	// returns the alert as stored: an ID other than a.ID means another engine opened the
	// incident first, and later writes should name that ID. Two concurrent calls opening
	// one dedup key store one alert.
	RecordAlert(ctx context.Context, a Alert, repeats int) (Alert, error)
	// Alert returns one alert; ErrNotFound when the project has no such alert.
	Alert(ctx context.Context, projectID, id string) (Alert, error)
	// Alerts lists a project's alerts matching q, newest first, one page at a time.
	Alerts(ctx context.Context, q AlertQuery) (AlertPage, error)
	// OpenAlerts lists every project's alerts that are not resolved.
	OpenAlerts(ctx context.Context) ([]Alert, error)
	// AlertCounts counts a project's alerts fired at or after since, per type, severity
	// and status.
	AlertCounts(ctx context.Context, projectID string, since time.Time) ([]AlertCount, error)

	// PutBaselines creates or replaces each baseline, keyed by project, service, endpoint,
	// model and metric, in one transaction.
	PutBaselines(ctx context.Context, bs []Baseline) error
	// Baselines lists a project's baselines ordered by key; an empty projectID lists every
	// project's (with their State, for an engine resuming after a restart).
	Baselines(ctx context.Context, projectID string) ([]Baseline, error)
	// PutBaselineParts creates or replaces each process's share of a baseline, keyed by
	// project, service, endpoint, model, metric and owner, in one transaction.
	PutBaselineParts(ctx context.Context, ps []BaselinePart) error
	// BaselineParts lists every owner's parts updated at or after since, by key then owner.
	BaselineParts(ctx context.Context, since time.Time) ([]BaselinePart, error)
	// AddSpend adds each item's Requests and USD to its budget accumulator (created at zero)
	// in one transaction, atomically with respect to every other process, and returns the
	// accumulators' totals after the addition, in the order of ds. An item of zero reads
	// the total.
	AddSpend(ctx context.Context, ds []Spend) ([]Spend, error)
	// Spends lists the accumulators of periods that started at or after since, by key.
	Spends(ctx context.Context, since time.Time) ([]Spend, error)

	// PutChannel creates or replaces the channel with c.ID in c.ProjectID.
	PutChannel(ctx context.Context, c Channel) error
	// Channels lists a project's channels by id; an empty projectID lists every project's.
	Channels(ctx context.Context, projectID string) ([]Channel, error)
	// DeleteChannel removes a channel; ErrNotFound when it does not exist.
	DeleteChannel(ctx context.Context, projectID, id string) error

	// EnqueueDeliveries adds outbox items in one transaction; an item whose id is already
	// stored is left as it is, so enqueueing twice delivers once.
	EnqueueDeliveries(ctx context.Context, ds []Delivery) error
	// EnqueueClaimed is EnqueueDeliveries for the sender that will send the items itself:
	// the items not stored yet are added already claimed until the lease ends (as if
	// ClaimDeliveries had returned them) and are returned; items stored before are left as
	// they are and not returned. A sender that dies before sending leaves them due then.
	EnqueueClaimed(ctx context.Context, ds []Delivery, until time.Time) ([]Delivery, error)
	// DueDeliveries lists up to limit pending items whose NextAttempt is at or before now,
	// oldest NextAttempt first.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// ClaimDeliveries is DueDeliveries for a sender: in the same transaction it moves the
	// stored NextAttempt of the items it returns to now+lease, so no other dispatcher (in
	// this process or another) takes them until the lease ends; an item whose sender died
	// becomes due again then. The returned items keep their previous NextAttempt.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// UpdateDelivery records an attempt: Status, Attempts, NextAttempt, LastStatus,
	// LastError and UpdatedAt of the stored item d.ID.
	UpdateDelivery(ctx context.Context, d Delivery) error
	// Deliveries lists the outbox items of one alert, oldest first.
	Deliveries(ctx context.Context, projectID, alertID string) ([]Delivery, error)
	// ChannelDeliveries lists up to limit outbox items of one channel (see DeliveryLimit),
	// newest CreatedAt first, then id descending.
	ChannelDeliveries(ctx context.Context, projectID, channelID string, limit int) ([]Delivery, error)
}

// Retainer deletes expired traces (the retention job).
type Retainer interface {
	// DeleteBefore removes, for every project, the traces that started before the project's
	// cutoff in p: their rollups, all of their spans (also any that started after the cutoff)
	// and every log record that names them; and the log records older than the cutoff that
	// name no stored trace. It works in bounded transactions of p.BatchSize traces or log
	// records, so writers are never blocked for long; each transaction is durable once it
	// commits, and an error or a done ctx leaves what earlier transactions deleted deleted.
	// Running it again, or concurrently with writes, is safe: a span that arrives for a
	// deleted trace starts a new rollup.
	DeleteBefore(ctx context.Context, p RetentionPolicy) (DeleteStats, error)
}

// DefaultRetentionBatch is RetentionPolicy.BatchSize when it is zero.
const DefaultRetentionBatch = 1000

// RetentionPolicy says before which start time each project's traces expire.
type RetentionPolicy struct {
	// Cutoff applies to every project not in Projects; the zero time keeps them forever.
	Cutoff time.Time
	// Projects overrides Cutoff per project; a zero time keeps that project forever.
	Projects map[string]time.Time
	// BatchSize bounds the traces (or orphan log records) one transaction deletes;
	// 0 means DefaultRetentionBatch.
	BatchSize int
}

// CutoffFor is the cutoff of project: its override, else Cutoff.
func (p RetentionPolicy) CutoffFor(project string) time.Time {
	if c, ok := p.Projects[project]; ok {
		return c
	}
	return p.Cutoff
}

// Batch is BatchSize with its default applied.
func (p RetentionPolicy) Batch() int {
	if p.BatchSize <= 0 {
		return DefaultRetentionBatch
	}
	return p.BatchSize
}

// OldestCutoff is the earliest cutoff of any project, and false when some project keeps
// its traces forever (so no time is old for every project). Whole time ranges (PostgreSQL
// partitions) before it can be dropped without looking at projects.
func (p RetentionPolicy) OldestCutoff() (time.Time, bool) {
	oldest := p.Cutoff
	if oldest.IsZero() {
		return time.Time{}, false
	}
	for _, c := range p.Projects {
		if c.IsZero() {
			return time.Time{}, false
		}
		if c.Before(oldest) {
			oldest = c
		}
	}
	return oldest, true
}

// DeleteStats counts what one DeleteBefore removed.
type DeleteStats struct {
	Traces int64
	Spans  int64 // including the rows of dropped partitions
	Logs   int64
	// Partitions is how many whole partitions were dropped (PostgreSQL).
	Partitions int
	// Batches is how many delete transactions committed.
	Batches int
	// ReclaimedBytes is the file space given back to the operating system (SQLite).
	ReclaimedBytes int64
}

// Add sums two stats.
func (s DeleteStats) Add(o DeleteStats) DeleteStats {
	return DeleteStats{
		Traces: s.Traces + o.Traces, Spans: s.Spans + o.Spans, Logs: s.Logs + o.Logs,
		Partitions: s.Partitions + o.Partitions, Batches: s.Batches + o.Batches,
		ReclaimedBytes: s.ReclaimedBytes + o.ReclaimedBytes,
	}
}

// ReplayStore keeps replay sets (frozen copies of captured LLM calls), replay runs and their
// per-item results. Documents are opaque JSON owned by internal/replay; the store keys,
// scopes and orders them. Every call that names a project is scoped to it. Each method is
// one transaction and returns nil only once its write is durable. It is safe for
// concurrent use.
type ReplayStore interface {
	// PutReplaySet creates or replaces the set and all of its items in one transaction:
	// items stored before under the same set id and not in items are removed.
	PutReplaySet(ctx context.Context, set ReplaySet, items []ReplayItem) error
	// ReplaySet returns one set; ErrNotFound when the project has no such set.
	ReplaySet(ctx context.Context, projectID, id string) (ReplaySet, error)
	// ReplaySets lists a project's sets, newest first (CreatedAt, then id).
	ReplaySets(ctx context.Context, projectID string) ([]ReplaySet, error)
	// ReplayItems lists a set's items by index; ErrNotFound when the set does not exist.
	ReplayItems(ctx context.Context, projectID, setID string) ([]ReplayItem, error)
	// DeleteReplaySet removes a set with its items, its runs and their results;
	// ErrNotFound when it does not exist.
	DeleteReplaySet(ctx context.Context, projectID, id string) error

	// PutReplayRun creates or replaces the run with r.ID in r.ProjectID. The run's set
	// must exist (ErrNotFound otherwise).
	PutReplayRun(ctx context.Context, r ReplayRun) error
	// ReplayRun returns one run; ErrNotFound when the project has no such run.
	ReplayRun(ctx context.Context, projectID, id string) (ReplayRun, error)
	// ReplayRuns lists a project's runs of one set (every set when setID is empty),
	// newest first (CreatedAt, then id).
	ReplayRuns(ctx context.Context, projectID, setID string) ([]ReplayRun, error)
	// ReplayRunsByStatus lists every project's runs whose Status is one of statuses,
	// oldest first, so a restarted process resumes what it left unfinished.
	ReplayRunsByStatus(ctx context.Context, statuses ...string) ([]ReplayRun, error)

	// PutReplayResult creates or replaces the result of item r.Index of run r.RunID. The
	// run must exist (ErrNotFound otherwise).
	PutReplayResult(ctx context.Context, r ReplayResult) error
	// ReplayResults lists a run's results by item index.
	ReplayResults(ctx context.Context, projectID, runID string) ([]ReplayResult, error)
}

// ReplaySet is a stored replay set: its key, creation time and JSON document.
type ReplaySet struct {
	ProjectID string
	ID        string
	CreatedAt time.Time
	Doc       []byte
}

// ReplayItem is one frozen item of a set, by its position in the set.
type ReplayItem struct {
	ProjectID string
	SetID     string
	Index     int
	Doc       []byte
}

// ReplayRun is a stored run of a set: its key, status and JSON document.
type ReplayRun struct {
	ProjectID string
	ID        string
	SetID     string
	Status    string
	CreatedAt time.Time
	Doc       []byte
}

// ReplayResult is the result of one item of a run.
type ReplayResult struct {
	ProjectID string
	RunID     string
	Index     int
	Doc       []byte
}

// Store is a complete backend.
type Store interface {
	Writer
	TraceReader
	PriceStore
	Analytics
	AlertStore
	Retainer
	ReplayStore
	AuthStore
	JudgeStore
	ConversationReader
	EndUserReader
	// Ping checks that the backend is reachable.
	Ping(ctx context.Context) error
	// Close releases the backend's resources; in-flight calls may fail afterwards.
	Close() error
}

// Sort orders for TraceQuery.
const (
	SortStartTime = "start_time"
	SortDuration  = "duration"
)

// TraceQuery selects trace rollups. Zero fields do not filter.
type TraceQuery struct {
	ProjectID   string
	Service     string // any span of the trace has this service
	Name        string // root span name, exact
	Status      string // genai.StatusOK or genai.StatusError
	Model       string // any counted model call used this model
	SessionID   string // the trace's session id, exact
	UserID      string // the trace's user id, exact
	Environment string // the trace's environment, exact
	Tag         string // a tag the trace carries
	Provider    string // any span of the trace called this provider (genai.NormalizeProvider)
	MaxDuration time.Duration
	MinCostUSD  *float64 // inclusive; nil does not filter; an all-unpriced trace matches no cost bound
	MaxCostUSD  *float64 // inclusive; nil does not filter
	// Text is a full-text search over prompts and responses: the trace has an LLM span
	// whose SearchText contains every term of ParseSearch(Text) as whole words (a phrase
	// as consecutive words), case-insensitively. A Text without words does not filter.
	Text string
	// Attributes keeps the traces that have, for each filter, a span whose attributes
	// match it (see AttributeFilter); at most MaxAttributeFilters.
	Attributes  []AttributeFilter
	Since       time.Time
	Until       time.Time // exclusive; compared with the trace start time
	MinDuration time.Duration
	Sort        string // SortStartTime (default) or SortDuration
	Ascending   bool   // default descending: newest or longest first
	Limit       int    // 1..1000; backends treat 0 as 50
	Cursor      string // NextCursor of the previous page
}

// TracePage is one page of a trace listing; NextCursor is empty on the last page.
type TracePage struct {
	Traces     []genai.Trace
	NextCursor string
}

// TraceDetail is a trace with all of its spans and log records.
type TraceDetail struct {
	Trace genai.Trace
	Spans []genai.Span
	Logs  []genai.LogRecord
}

// LogQuery selects log records. ProjectID is required.
type LogQuery struct {
	ProjectID string
	TraceID   string
	SpanID    string
	// Orphans selects GenAI records whose span has not been stored.
	Orphans bool
	Limit   int // backends treat 0 as 100
}

// ModelCount is a count of spans per provider and model.
type ModelCount struct {
	Provider string
	Model    string
	Count    int64
}

// Overview bounds.
const (
	MaxOverviewBuckets = 1000
	defaultOverviewTop = 10
	maxOverviewTop     = 100
)

// OverviewQuery selects the window an Overview aggregates. Since and Until are required
// (Until exclusive, after Since); the window is cut into Buckets equal buckets (≤ 0 means 1,
// above MaxOverviewBuckets means MaxOverviewBuckets) and the Top (≤ 0 means 10, at most 100)
// models, services and endpoints are listed.
type OverviewQuery struct {
	ProjectID string
	Since     time.Time
	Until     time.Time
	Buckets   int
	Top       int
}

// Normalize applies the defaults and bounds of q's Buckets and Top and returns the bucket
// width: the window divided by the bucket count, rounded up to the nanosecond, so bucket i
// starts at Since + i×width and every trace of the window falls in a bucket below Buckets.
// It fails when the window is empty.
func (q *OverviewQuery) Normalize() (time.Duration, error) {
	if q.Top <= 0 {
		q.Top = defaultOverviewTop
	}
	q.Top = min(q.Top, maxOverviewTop)
	return bucketWidth("overview", q.Since, q.Until, &q.Buckets)
}

// bucketWidth bounds *buckets to 1..MaxOverviewBuckets and returns the width of each of
// that many equal buckets of [since, until), rounded up to the nanosecond so every instant
// of the window falls in a bucket below *buckets. It fails when the window is empty; what
// names the window in the error.
func bucketWidth(what string, since, until time.Time, buckets *int) (time.Duration, error) {
	if since.IsZero() {
		return 0, fmt.Errorf("%s window: since is required", what)
	}
	if !until.After(since) {
		return 0, fmt.Errorf("%s window: until %s is not after since %s", what, until.Format(time.RFC3339Nano), since.Format(time.RFC3339Nano))
	}
	*buckets = min(max(*buckets, 1), MaxOverviewBuckets)
	span := until.Sub(since)
	width := span / time.Duration(*buckets)
	if width*time.Duration(*buckets) < span {
		width++
	}
	return width, nil
}

// Overview is a window's aggregates: what the dashboard's home and cost pages chart. Trace
// figures (counts, durations, tokens, cost) come from the trace rollups whose start time is in
// the window, so tokens and cost add up the counted spans only; model figures come from the
// counted model-call spans that started in the window.
type Overview struct {
	BucketWidth time.Duration
	Totals      OverviewStats
	// Buckets has exactly q.Buckets entries, in time order, empty buckets included.
	Buckets []OverviewBucket
	// Models are the top models by cost, then calls, then provider and model.
	Models []ModelUsage
	// Services are the top root services by cost, then traces, then name.
	Services []ServiceUsage
	// Endpoints are the top (root service, root span name) pairs by traces, then cost,
	// then service and name.
	Endpoints []EndpointUsage
	// Expensive are the top priced traces by cost, then trace id.
	Expensive []TraceCost
}

// OverviewStats aggregates a set of trace rollups. Percentiles interpolate linearly between
// the closest ranks (PostgreSQL's percentile_cont) and are zero when there is no trace.
type OverviewStats struct {
	Traces        int64
	Errors        int64 // traces with status error
	LLMCalls      int64
	InputTokens   int64
	OutputTokens  int64
	TotalTokens   int64
	CostUSD       float64 // the priced part; UnpricedCalls says what is missing
	UnpricedCalls int64
	P50           time.Duration
	P95           time.Duration
}

// OverviewBucket is the stats of the traces that started in [Start, Start+BucketWidth).
type OverviewBucket struct {
	Start time.Time
	OverviewStats
}

// ModelUsage is the counted model-call spans of one provider and model (Call.Model()).
type ModelUsage struct {
	Provider      string
	Model         string
	Calls         int64
	InputTokens   int64
	OutputTokens  int64
	TotalTokens   int64
	CostUSD       float64
	UnpricedCalls int64
	// BucketCost is the cost per bucket, aligned with Overview.Buckets.
	BucketCost []float64
}

// ServiceUsage is the traces whose root span belongs to one service.
type ServiceUsage struct {
	Service       string
	Traces        int64
	TotalTokens   int64
	CostUSD       float64
	UnpricedCalls int64
	// BucketCost is the cost per bucket, aligned with Overview.Buckets.
	BucketCost []float64
}

// EndpointUsage is the traces of one root service and root span name.
type EndpointUsage struct {
	Service       string
	Name          string
	Traces        int64
	Errors        int64
	TotalTokens   int64
	CostUSD       float64
	UnpricedCalls int64
	MeanDuration  time.Duration
}

// TraceCost is one trace of an Overview's most expensive list.
type TraceCost struct {
	TraceID     string
	Service     string
	Name        string
	StartTime   time.Time
	Duration    time.Duration
	TotalTokens int64
	CostUSD     float64
}
