package postgres

import "github.com/use-lumina/lumina/internal/store"

// traceFilters returns the trace list's per-trace conditions that no index drives (user,
// environment, provider, tag, duration and cost bounds), the provider through the trace's
// spans (their primary key); arg binds a value and returns its placeholder.
func traceFilters(q store.TraceQuery, arg func(v any) string) []string {
	var where []string
	if q.UserID != "" {
		where = append(where, "user_id = "+arg(q.UserID))
	}
	if q.Environment != "" {
		where = append(where, "environment = "+arg(q.Environment))
	}
	if q.Provider != "" {
		where = append(where, "EXISTS (SELECT 1 FROM spans s WHERE s.project_id = traces.project_id AND s.trace_id = traces.trace_id AND s.provider = "+arg(q.Provider)+")")
	}
	if q.Tag != "" {
		where = append(where, "tags @> ARRAY["+arg(q.Tag)+"::text]")
	}
	if q.MaxDuration > 0 {
		where = append(where, "duration_ns <= "+arg(int64(q.MaxDuration)))
	}
	if q.MinCostUSD != nil {
		where = append(where, "cost_usd >= "+arg(*q.MinCostUSD))
	}
	if q.MaxCostUSD != nil {
		where = append(where, "cost_usd <= "+arg(*q.MaxCostUSD))
	}
	return where
}
