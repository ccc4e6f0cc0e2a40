package postgres

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// The model rollup (table model_rollup, migration 0830) holds, per project, half-hour slot
// of start time, provider and model, the sums the Overview's per-model query takes over
// counted spans. It is exact, not an estimate: every statement that inserts, replaces,
// recounts or deletes a counted span adds or subtracts that span's usage in its own
// transaction, so the rollup always equals a GROUP BY over the committed spans.

// rollupSlotNS is the width of a model rollup slot: 30 minutes, the dashboard's narrowest
// bucket that is not shorter than a slot (24 h in 48 buckets; 7 and 30 days use 3 h and 12 h).
const rollupSlotNS = int64(30 * time.Minute)

// slotSQL is slotOf(start_ns) in SQL: floor division, also for times before 1970.
const slotSQL = "(start_ns / 1800000000000 - (start_ns % 1800000000000 < 0)::int)"

// slotOf is the rollup slot of a start time (floor division: slot × rollupSlotNS ≤ ns).
func slotOf(ns int64) int64 {
	s := ns / rollupSlotNS
	if ns%rollupSlotNS < 0 {
		s--
	}
	return s
}

// slotCeil is the first slot that starts at or after ns.
func slotCeil(ns int64) int64 {
	s := ns / rollupSlotNS
	if ns%rollupSlotNS > 0 {
		s++
	}
	return s
}

// rollupUpsertSQL ends every statement that adds to the rollup: it inserts the rows of its
// SELECT (which must be in key order, so concurrent writers lock rows in one order and never
// deadlock) or adds them to the stored ones.
const rollupUpsertSQL = `
ON CONFLICT (project_id, slot, provider, model) DO UPDATE SET
	calls = m.calls + excluded.calls,
	input_tokens = m.input_tokens + excluded.input_tokens,
	output_tokens = m.output_tokens + excluded.output_tokens,
	total_tokens = m.total_tokens + excluded.total_tokens,
	cost_usd = m.cost_usd + excluded.cost_usd,
	unpriced_calls = m.unpriced_calls + excluded.unpriced_calls`

// rollupInsertSQL is the head of rollupUpsertSQL's statements.
const rollupInsertSQL = `INSERT INTO model_rollup AS m (project_id, slot, provider, model, calls,
	input_tokens, output_tokens, total_tokens, cost_usd, unpriced_calls) `

// addRollupSQL adds rollupDeltas: one row per distinct span usage with its signed
// multiplicity n. Costs arrive as decimal text, summed as numeric.
const addRollupSQL = rollupInsertSQL + `
SELECT project_id COLLATE "C", slot, provider COLLATE "C", model COLLATE "C", sum(n), sum(n * input_tokens), sum(n * output_tokens),
	sum(n * total_tokens), coalesce(sum(n * cost_usd::numeric), 0), coalesce(sum(n) FILTER (WHERE cost_usd IS NULL), 0)
FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[],
	$8::bigint[], $9::text[]) AS d(project_id, slot, provider, model, n, input_tokens, output_tokens, total_tokens, cost_usd)
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4` + rollupUpsertSQL

// spanUsage is what one counted span contributes to the model rollup. Two spans with equal
// spanUsage contribute exactly the same, so a span replaced by itself cancels out.
type spanUsage struct {
	project              string
	slot                 int64
	provider, model      string
	input, output, total int64
	costBits             uint64 // math.Float64bits of the cost, when priced
	priced               bool
}

// usageOf is the usage of a counted span with these stored column values.
func usageOf(project string, startNS int64, provider, model string, input, output, total int64, cost *float64) spanUsage {
	u := spanUsage{project: project, slot: slotOf(startNS), provider: provider, model: model,
		input: input, output: output, total: total}
	if cost != nil {
		u.costBits, u.priced = math.Float64bits(*cost), true
	}
	return u
}

// rowUsage is the usage of batch row i (counted or not: the caller checks).
func (r *spanRows) rowUsage(i int) spanUsage {
	return usageOf(r.projectID[i], r.startNS[i], r.provider[i], r.model[i], r.inputTokens[i],
		r.outputTokens[i], r.totalTokens[i], r.costUSD[i])
}

// storedUsage is the usage of a stored span of project, as it was read.
func storedUsage(project string, sp storedSpan) spanUsage {
	u := &sp.sum.Usage
	return usageOf(project, sp.startNS, sp.provider, sp.sum.Model, u.InputTokens, u.OutputTokens,
		u.TotalTokens, sp.sum.CostUSD)
}

// rollupDeltas are the signed changes one write makes to the model rollup: how many counted
// spans of each usage it adds (n > 0) or takes away (n < 0). Entries that cancel are dropped,
// so a batch delivered again (every span replaced by itself) changes nothing.
type rollupDeltas map[spanUsage]int64

func (d rollupDeltas) add(u spanUsage, n int64) { addDelta(d, u, n) }

// addDelta adds n to d[k], dropping the entry when it cancels to zero.
func addDelta[K comparable](d map[K]int64, k K, n int64) {
	if d[k] += n; d[k] == 0 {
		delete(d, k)
	}
}

// apply adds the deltas to model_rollup in one statement. It runs last in the write's
// transaction: rows are locked in key order and nothing else is waited for afterwards.
func (d rollupDeltas) apply(ctx context.Context, tx pgx.Tx) error {
	if len(d) == 0 {
		return nil
	}
	// Sorted only so the statement's arguments do not depend on map order.
	keys := slices.SortedFunc(maps.Keys(d), func(a, b spanUsage) int {
		return cmp.Or(cmp.Compare(a.project, b.project), cmp.Compare(a.slot, b.slot),
			cmp.Compare(a.provider, b.provider), cmp.Compare(a.model, b.model))
	})
	n := len(keys)
	projects, providers, models := make([]string, n), make([]string, n), make([]string, n)
	slots, mult, in, out, total := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	costs := make([]*string, n)
	for i, u := range keys {
		projects[i], slots[i], providers[i], models[i] = u.project, u.slot, u.provider, u.model
		mult[i], in[i], out[i], total[i] = d[u], u.input, u.output, u.total
		if u.priced {
			c := costText(math.Float64frombits(u.costBits))
			costs[i] = &c
		}
	}
	if _, err := tx.Exec(ctx, addRollupSQL, projects, slots, providers, models, mult, in, out, total, costs); err != nil {
		return fmt.Errorf("update model rollup: %w", err)
	}
	return nil
}

// costText is a cost as the shortest decimal that reads back as the same float64: what
// PostgreSQL's float8 output gives (extra_float_digits > 0), so SQL that subtracts stored
// costs (retention, the migration's backfill) takes away exactly what was added here.
func costText(c float64) string {
	return strconv.FormatFloat(c, 'g', -1, 64)
}
