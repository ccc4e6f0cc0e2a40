package sqlite

import "github.com/use-lumina/lumina/internal/store"

// traceFilters adds the trace list's per-trace filters that no index drives (user,
// environment, provider, tag, duration and cost bounds): each is tested on the rows the
// listing walks, the provider through the trace's spans (index spans_key).
func traceFilters(q store.TraceQuery, cond func(c string, a ...any)) {
	if q.UserID != "" {
		cond("t.user_id = ?", q.UserID)
	}
	if q.Environment != "" {
		cond("t.environment = ?", q.Environment)
	}
	if q.Provider != "" {
		cond(`EXISTS (SELECT 1 FROM spans s WHERE s.project_id = t.project_id AND s.trace_id = t.trace_id
			AND s.provider = ?)`, q.Provider)
	}
	if q.Tag != "" {
		cond("EXISTS (SELECT 1 FROM json_each(t.tags) j WHERE j.value = ?)", q.Tag)
	}
	if q.MaxDuration > 0 {
		cond("t.duration <= ?", int64(q.MaxDuration))
	}
	if q.MinCostUSD != nil {
		cond("t.cost_usd >= ?", *q.MinCostUSD)
	}
	if q.MaxCostUSD != nil {
		cond("t.cost_usd <= ?", *q.MaxCostUSD)
	}
}
