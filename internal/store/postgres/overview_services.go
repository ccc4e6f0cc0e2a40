package postgres

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/big"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// endpointTotals adds up one (root service, root span name) pair's traces.
type endpointTotals struct {
	store.EndpointUsage
	durations  big.Int   // the sum of the traces' durations, for the exact mean
	bucketCost []float64 // per bucket
}

// servicesAndEndpoints reads the services and endpoints lists. With the rollup it adds up
// the trace rollup's slots that lie inside one bucket and the traces of the rest (see
// rollupPlan), by root service, root span name and bucket, and builds both lists from those
// sums; a window without such a slot reads the traces, one pass per list.
func (r overviewReader) servicesAndEndpoints(ctx context.Context, o *store.Overview) error {
	var plan rollupPlan
	if r.rollup {
		plan = planRollups(r.since, r.until, r.width, len(o.Buckets))
	}
	if len(plan.slotLo) == 0 {
		if err := r.servicesOfTraces(ctx, o); err != nil {
			return err
		}
		return r.endpointsOfTraces(ctx, o)
	}
	endpoints := map[[2]string]*endpointTotals{}
	add := func(rows pgx.Rows) error {
		defer rows.Close()
		for rows.Next() {
			var e store.EndpointUsage
			var b int64
			var durations string
			if err := rows.Scan(&e.Service, &e.Name, &b, &e.Traces, &e.Errors, &e.TotalTokens, &e.CostUSD,
				&e.UnpricedCalls, &durations); err != nil {
				return err
			}
			if b < 0 || b >= int64(len(o.Buckets)) {
				return fmt.Errorf("bucket %d out of range", b)
			}
			var d big.Int
			if _, ok := d.SetString(durations, 10); !ok {
				return fmt.Errorf("sum of durations %q", durations)
			}
			t := endpoints[[2]string{e.Service, e.Name}]
			if t == nil {
				t = &endpointTotals{EndpointUsage: store.EndpointUsage{Service: e.Service, Name: e.Name},
					bucketCost: make([]float64, len(o.Buckets))}
				endpoints[[2]string{e.Service, e.Name}] = t
			}
			t.Traces += e.Traces
			t.Errors += e.Errors
			t.TotalTokens += e.TotalTokens
			t.CostUSD += e.CostUSD
			t.UnpricedCalls += e.UnpricedCalls
			t.durations.Add(&t.durations, &d)
			t.bucketCost[b] += e.CostUSD
		}
		return rows.Err()
	}
	rows, err := r.tx.Query(ctx, `SELECT m.service_name, m.name, r.b, sum(m.traces)::bigint, sum(m.errors)::bigint,
		sum(m.total_tokens)::bigint, sum(m.cost_usd)::float8, sum(m.unpriced_calls)::bigint, sum(m.duration_ns)::text
		FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS r(b, lo, hi)
		CROSS JOIN LATERAL (SELECT * FROM trace_rollup WHERE project_id = $1 AND slot >= r.lo
			AND slot < r.hi AND traces <> 0 OFFSET 0) m
		GROUP BY m.service_name, m.name, r.b`, r.q.ProjectID, plan.slotBucket, plan.slotLo, plan.slotHi)
	if err != nil {
		return err
	}
	if err := add(rows); err != nil {
		return fmt.Errorf("rollup: %w", err)
	}
	if len(plan.rawLo) > 0 {
		rows, err := r.tx.Query(ctx, `SELECT service_name, name, (start_ns - $4) / $5 AS b, count(*),
			count(*) FILTER (WHERE status = $6), sum(total_tokens)::bigint, coalesce(sum(cost_usd), 0)::float8,
			sum(unpriced_calls)::bigint, sum(duration_ns)::text
			FROM unnest($7::bigint[], $8::bigint[]) AS r(lo, hi)
			CROSS JOIN LATERAL (SELECT service_name, name, start_ns, status, total_tokens, cost_usd,
				unpriced_calls, duration_ns FROM traces WHERE `+traceWindow+`
				AND start_ns >= r.lo AND start_ns < r.hi OFFSET 0) t
			GROUP BY service_name, name, b`,
			r.q.ProjectID, r.since, r.until, r.since, r.width, genai.StatusError, plan.rawLo, plan.rawHi)
		if err != nil {
			return err
		}
		if err := add(rows); err != nil {
			return fmt.Errorf("traces: %w", err)
		}
	}
	services := map[string]*store.ServiceUsage{}
	for _, e := range endpoints {
		mean, _ := new(big.Rat).SetFrac(&e.durations, big.NewInt(e.Traces)).Float64()
		e.MeanDuration = time.Duration(math.Round(mean))
		o.Endpoints = append(o.Endpoints, e.EndpointUsage)
		sv := services[e.Service]
		if sv == nil {
			sv = &store.ServiceUsage{Service: e.Service, BucketCost: make([]float64, len(o.Buckets))}
			services[e.Service] = sv
		}
		sv.Traces += e.Traces
		sv.TotalTokens += e.TotalTokens
		sv.CostUSD += e.CostUSD
		sv.UnpricedCalls += e.UnpricedCalls
		for b, c := range e.bucketCost {
			sv.BucketCost[b] += c
		}
	}
	for _, sv := range services {
		o.Services = append(o.Services, *sv)
	}
	slices.SortFunc(o.Services, func(a, b store.ServiceUsage) int {
		return cmp.Or(cmp.Compare(b.CostUSD, a.CostUSD), cmp.Compare(b.Traces, a.Traces), cmp.Compare(a.Service, b.Service))
	})
	o.Services = o.Services[:min(len(o.Services), r.q.Top)]
	slices.SortFunc(o.Endpoints, func(a, b store.EndpointUsage) int {
		return cmp.Or(cmp.Compare(b.Traces, a.Traces), cmp.Compare(b.CostUSD, a.CostUSD),
			cmp.Compare(a.Service, b.Service), cmp.Compare(a.Name, b.Name))
	})
	o.Endpoints = o.Endpoints[:min(len(o.Endpoints), r.q.Top)]
	return nil
}
