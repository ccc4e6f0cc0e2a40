package sqlite

import (
	"strconv"
	"strings"

	"github.com/use-lumina/lumina/internal/store"
)

// traceFilters adds the trace list's per-trace filters that no index drives (user,
// environment, provider, tag, attributes, duration and cost bounds): each is tested on the
// rows the listing walks, the provider and the attributes through the trace's spans (index
// spans_key).
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
	for _, f := range q.Attributes {
		attributeFilter(f, cond)
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

// attributeFilter adds the condition that a span of the trace has an attribute matching f,
// read from the span's attributes JSON: no index helps, so it costs a scan of the
// attributes of the spans of each trace the listing walks.
func attributeFilter(f store.AttributeFilter, cond func(c string, a ...any)) {
	match := []string{"j.type = 'text' AND j.value = ?"}
	args := []any{f.Key, f.Value}
	if n, ok := f.Int(); ok {
		match, args = append(match, "j.type IN ('integer', 'real') AND j.value = ?"), append(args, n)
	} else if n, ok := f.Number(); ok {
		if x, err := strconv.ParseFloat(string(n), 64); err == nil {
			match, args = append(match, "j.type IN ('integer', 'real') AND j.value = ?"), append(args, x)
		}
	}
	if b, ok := f.Bool(); ok {
		match = append(match, "j.type = '"+strconv.FormatBool(b)+"'")
	}
	cond(`EXISTS (SELECT 1 FROM spans s, json_each(s.attributes) j WHERE s.project_id = t.project_id
		AND s.trace_id = t.trace_id AND j.key = ? AND (`+strings.Join(match, " OR ")+"))", args...)
}
