package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/genai"
)

// traceRows holds trace rollups column by column. Array columns travel as text[]
// literals, since unnest cannot carry arrays of arrays.
type traceRows struct {
	projectID, traceID                            []string
	startNS, endNS, durationNS                    []int64
	spanCount, errorCount, llmCallCount, unpriced []int32
	input, output, cacheRead, cacheWrite          []int64
	reasoning, total                              []int64
	costUSD                                       []*float64
	hasRoot                                       []bool
	serviceName, name, status                     []string
	sessionID, userID, environment                []string
	models, services, tags                        []string
}

// traceColumns lists the traces columns in traceRows.args order; traceUnnest is the
// matching unnest(…) of the parameters, and traceSelect selects them typed as the table.
const (
	traceColumns = `project_id, trace_id, start_ns, end_ns, duration_ns,
	span_count, error_count, llm_call_count, unpriced_calls,
	input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, total_tokens,
	cost_usd, has_root, service_name, name, status, session_id, user_id, environment,
	model_keys, service_keys, tags`
	traceUnnest = `unnest(
	$1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[],
	$6::int[], $7::int[], $8::int[], $9::int[],
	$10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[],
	$16::float8[], $17::boolean[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::text[],
	$24::text[], $25::text[], $26::text[]) AS u(` + traceColumns + `)`
	traceSelect = `SELECT project_id, trace_id, start_ns, end_ns, duration_ns,
	span_count, error_count, llm_call_count, unpriced_calls,
	input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, total_tokens,
	cost_usd, has_root, service_name, name, status, session_id, user_id, environment,
	model_keys::text[], service_keys::text[], tags::text[] FROM ` + traceUnnest
)

func newTraceRows(ts []genai.Trace) *traceRows {
	r := &traceRows{}
	for i := range ts {
		t := &ts[i]
		r.projectID = append(r.projectID, t.ProjectID)
		r.traceID = append(r.traceID, t.TraceID)
		r.startNS = append(r.startNS, toNS(t.StartTime))
		r.endNS = append(r.endNS, toNS(t.EndTime))
		r.durationNS = append(r.durationNS, int64(t.Duration()))
		r.spanCount = append(r.spanCount, int32(t.SpanCount))
		r.errorCount = append(r.errorCount, int32(t.ErrorCount))
		r.llmCallCount = append(r.llmCallCount, int32(t.LLMCallCount))
		r.unpriced = append(r.unpriced, int32(t.UnpricedCalls))
		r.input = append(r.input, t.Usage.InputTokens)
		r.output = append(r.output, t.Usage.OutputTokens)
		r.cacheRead = append(r.cacheRead, t.Usage.CacheReadTokens)
		r.cacheWrite = append(r.cacheWrite, t.Usage.CacheWriteTokens)
		r.reasoning = append(r.reasoning, t.Usage.ReasoningTokens)
		r.total = append(r.total, t.Usage.TotalTokens)
		r.costUSD = append(r.costUSD, t.CostUSD)
		r.hasRoot = append(r.hasRoot, t.HasRoot)
		r.serviceName = append(r.serviceName, clean(t.ServiceName))
		r.name = append(r.name, clean(t.Name))
		r.status = append(r.status, clean(t.Status))
		r.sessionID = append(r.sessionID, clean(t.SessionID))
		r.userID = append(r.userID, clean(t.UserID))
		r.environment = append(r.environment, clean(t.Environment))
		r.models = append(r.models, textArray(projectKeys(t.ProjectID, t.Models)))
		r.services = append(r.services, textArray(projectKeys(t.ProjectID, t.Services)))
		r.tags = append(r.tags, textArray(t.Tags))
	}
	return r
}

func (r *traceRows) args() []any {
	return []any{
		r.projectID, r.traceID, r.startNS, r.endNS, r.durationNS,
		r.spanCount, r.errorCount, r.llmCallCount, r.unpriced,
		r.input, r.output, r.cacheRead, r.cacheWrite, r.reasoning, r.total,
		r.costUSD, r.hasRoot, r.serviceName, r.name, r.status, r.sessionID, r.userID, r.environment,
		r.models, r.services, r.tags,
	}
}

// insertTraces inserts the batch-only rollups of traces that have no row yet, in key
// order, and reports which it inserted: those traces had no stored spans, so their rollup
// is final. A trace another transaction is inserting makes this wait for it to finish.
func insertTraces(ctx context.Context, tx pgx.Tx, groups []traceGroup) (map[traceKey]bool, error) {
	ts := make([]genai.Trace, len(groups))
	for i := range groups {
		ts[i] = groups[i].rollup
	}
	rows, err := tx.Query(ctx, `INSERT INTO traces (`+traceColumns+`)
		`+traceSelect+`
		ON CONFLICT (project_id, trace_id) DO NOTHING
		RETURNING project_id, trace_id`, newTraceRows(ts).args()...)
	if err != nil {
		return nil, fmt.Errorf("insert traces: %w", err)
	}
	defer rows.Close()
	inserted := make(map[traceKey]bool, len(groups))
	for rows.Next() {
		var k traceKey
		if err := rows.Scan(&k.project, &k.trace); err != nil {
			return nil, fmt.Errorf("insert traces: %w", err)
		}
		inserted[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert traces: %w", err)
	}
	return inserted, nil
}

// updateTraces stores the recomputed rollups of traces whose rows this transaction locked.
func updateTraces(ctx context.Context, tx pgx.Tx, groups []*traceGroup) error {
	ts := make([]genai.Trace, len(groups))
	for i, g := range groups {
		ts[i] = g.rollup
	}
	_, err := tx.Exec(ctx, `UPDATE traces t SET
		start_ns = u.start_ns, end_ns = u.end_ns, duration_ns = u.duration_ns,
		span_count = u.span_count, error_count = u.error_count, llm_call_count = u.llm_call_count,
		unpriced_calls = u.unpriced_calls, input_tokens = u.input_tokens, output_tokens = u.output_tokens,
		cache_read_tokens = u.cache_read_tokens, cache_write_tokens = u.cache_write_tokens,
		reasoning_tokens = u.reasoning_tokens, total_tokens = u.total_tokens, cost_usd = u.cost_usd,
		has_root = u.has_root, service_name = u.service_name, name = u.name, status = u.status,
		session_id = u.session_id, user_id = u.user_id, environment = u.environment,
		model_keys = u.model_keys::text[], service_keys = u.service_keys::text[], tags = u.tags::text[]
		FROM `+traceUnnest+`
		WHERE t.project_id = u.project_id AND t.trace_id = u.trace_id`, newTraceRows(ts).args()...)
	if err != nil {
		return fmt.Errorf("update traces: %w", err)
	}
	return nil
}

// keySep separates the project id from the value in model_keys and service_keys.
const keySep = "\x1f"

// projectKey is the indexed form of a value of the project's trace.
func projectKey(projectID, v string) string { return clean(projectID) + keySep + clean(v) }

func projectKeys(projectID string, vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = projectKey(projectID, v)
	}
	return out
}

// stripKeys turns model_keys or service_keys back into values; nil when there are none.
func stripKeys(keys []string) []string {
	if len(keys) == 0 {
		return nil
	}
	for i, k := range keys {
		_, keys[i], _ = strings.Cut(k, keySep)
	}
	return keys
}
