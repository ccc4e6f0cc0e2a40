package postgres

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/genai"
)

// The trace rollup (table trace_rollup, migration 0830) holds, per project, half-hour slot
// of start time, root service and root span name, the sums the Overview's services and
// endpoints lists take over the traces rows. Like the model rollup it is exact: the writer
// adds each trace row it inserts and replaces each row it updates (− old, + new), and
// retention subtracts the rows it deletes, in their own transactions.

// traceUsage is what one traces row contributes to the trace rollup.
type traceUsage struct {
	project       string
	slot          int64
	service, name string
	failed        bool
	total         int64
	costBits      uint64
	priced        bool
	unpriced      int64
	duration      int64
}

// traceUsageOf is the usage of a traces row with these stored column values.
func traceUsageOf(project string, startNS int64, service, name, status string, total int64, cost *float64, unpriced, duration int64) traceUsage {
	u := traceUsage{project: project, slot: slotOf(startNS), service: service, name: name,
		failed: status == genai.StatusError, total: total, unpriced: unpriced, duration: duration}
	if cost != nil {
		u.costBits, u.priced = math.Float64bits(*cost), true
	}
	return u
}

// traceDeltas are the signed changes one write makes to the trace rollup, as rollupDeltas
// are to the model rollup: entries that cancel (a trace row rewritten unchanged) are dropped.
type traceDeltas map[traceUsage]int64

func (d traceDeltas) add(u traceUsage, n int64) { addDelta(d, u, n) }

// addTraceRollupSQL adds traceDeltas, in key order (see rollupUpsertSQL).
const addTraceRollupSQL = `INSERT INTO trace_rollup AS m (project_id, slot, service_name, name, traces,
	errors, total_tokens, cost_usd, unpriced_calls, duration_ns)
SELECT project_id COLLATE "C", slot, service_name COLLATE "C", name COLLATE "C", sum(n),
	coalesce(sum(n) FILTER (WHERE failed), 0), sum(n * total_tokens), coalesce(sum(n * cost_usd::numeric), 0),
	sum(n * unpriced_calls), sum(n * duration_ns::numeric)
FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::boolean[], $7::bigint[],
	$8::text[], $9::bigint[], $10::bigint[])
	AS d(project_id, slot, service_name, name, n, failed, total_tokens, cost_usd, unpriced_calls, duration_ns)
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4` + traceRollupUpsertSQL

// traceRollupUpsertSQL ends every statement that adds to the trace rollup.
const traceRollupUpsertSQL = `
ON CONFLICT (project_id, slot, service_name, name) DO UPDATE SET
	traces = m.traces + excluded.traces,
	errors = m.errors + excluded.errors,
	total_tokens = m.total_tokens + excluded.total_tokens,
	cost_usd = m.cost_usd + excluded.cost_usd,
	unpriced_calls = m.unpriced_calls + excluded.unpriced_calls,
	duration_ns = m.duration_ns + excluded.duration_ns`

// apply adds the deltas to trace_rollup in one statement; like rollupDeltas.apply, it runs
// last in the write's transaction.
func (d traceDeltas) apply(ctx context.Context, tx pgx.Tx) error {
	if len(d) == 0 {
		return nil
	}
	keys := slices.SortedFunc(maps.Keys(d), func(a, b traceUsage) int {
		return cmp.Or(cmp.Compare(a.project, b.project), cmp.Compare(a.slot, b.slot),
			cmp.Compare(a.service, b.service), cmp.Compare(a.name, b.name))
	})
	n := len(keys)
	projects, services, names := make([]string, n), make([]string, n), make([]string, n)
	slots, mult, total, unpriced, duration := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	failed, costs := make([]bool, n), make([]*string, n)
	for i, u := range keys {
		projects[i], slots[i], services[i], names[i] = u.project, u.slot, u.service, u.name
		mult[i], failed[i], total[i], unpriced[i], duration[i] = d[u], u.failed, u.total, u.unpriced, u.duration
		if u.priced {
			c := costText(math.Float64frombits(u.costBits))
			costs[i] = &c
		}
	}
	if _, err := tx.Exec(ctx, addTraceRollupSQL, projects, slots, services, names, mult, failed, total,
		costs, unpriced, duration); err != nil {
		return fmt.Errorf("update trace rollup: %w", err)
	}
	return nil
}
