package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// Overview aggregates a window from one read snapshot. Trace figures come from the traces
// rollup table (walking traces_start), model figures from the counted spans (spans_start).
// Percentiles use window functions: one sort of the window's durations per call, returning
// only the rows next to each wanted rank, interpolated here as percentile_cont does.
func (s *Store) Overview(ctx context.Context, q store.OverviewQuery) (store.Overview, error) {
	width, err := q.Normalize()
	if err != nil {
		return store.Overview{}, err
	}
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return store.Overview{}, fmt.Errorf("read overview: %w", err)
	}
	defer tx.Rollback()
	o := store.Overview{BucketWidth: width, Buckets: make([]store.OverviewBucket, q.Buckets)}
	for i := range o.Buckets {
		o.Buckets[i].Start = q.Since.Add(time.Duration(i) * width).UTC()
	}
	ov := overviewReader{tx: tx, q: q, width: int64(width), since: nanos(q.Since), until: nanos(q.Until)}
	steps := []struct {
		what string
		fn   func(context.Context, *store.Overview) error
	}{
		{"buckets", ov.buckets},
		{"percentiles", ov.percentiles},
		{"models", ov.models},
		{"services", ov.services},
		{"endpoints", ov.endpoints},
		{"expensive traces", ov.expensive},
	}
	for _, st := range steps {
		if err := st.fn(ctx, &o); err != nil {
			return store.Overview{}, fmt.Errorf("read overview %s: %w", st.what, err)
		}
	}
	return o, nil
}

// overviewReader runs the queries of one Overview inside one read transaction.
type overviewReader struct {
	tx           *sql.Tx
	q            store.OverviewQuery
	width        int64
	since, until int64
}

// traceWindow is the WHERE clause every trace query shares; windowArgs appends its arguments.
const traceWindow = "project_id = ? AND start_time >= ? AND start_time < ?"

func (r overviewReader) windowArgs(extra ...any) []any {
	return append(extra, r.q.ProjectID, r.since, r.until)
}

func (r overviewReader) buckets(ctx context.Context, o *store.Overview) error {
	rows, err := r.tx.QueryContext(ctx, `SELECT (start_time - ?) / ? AS b, count(*), sum(status = ?),
		sum(llm_call_count), sum(input_tokens), sum(output_tokens), sum(total_tokens),
		total(cost_usd), sum(unpriced_calls)
		FROM traces WHERE `+traceWindow+` GROUP BY b`, r.windowArgs(r.since, r.width, genai.StatusError)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var b int64
		var st store.OverviewStats
		if err := rows.Scan(&b, &st.Traces, &st.Errors, &st.LLMCalls, &st.InputTokens, &st.OutputTokens,
			&st.TotalTokens, &st.CostUSD, &st.UnpricedCalls); err != nil {
			return err
		}
		if b < 0 || b >= int64(len(o.Buckets)) {
			return fmt.Errorf("bucket %d out of range", b)
		}
		o.Buckets[b].OverviewStats = st
		t := &o.Totals
		t.Traces += st.Traces
		t.Errors += st.Errors
		t.LLMCalls += st.LLMCalls
		t.InputTokens += st.InputTokens
		t.OutputTokens += st.OutputTokens
		t.TotalTokens += st.TotalTokens
		t.CostUSD += st.CostUSD
		t.UnpricedCalls += st.UnpricedCalls
	}
	return rows.Err()
}

// percentiles fills P50 and P95 of every bucket, then of the whole window (one bucket as
// wide as the window).
func (r overviewReader) percentiles(ctx context.Context, o *store.Overview) error {
	per, err := r.ranks(ctx, r.width)
	if err != nil {
		return err
	}
	for b, p := range per {
		if b < 0 || b >= int64(len(o.Buckets)) {
			return fmt.Errorf("bucket %d out of range", b)
		}
		o.Buckets[b].P50, o.Buckets[b].P95 = p.at(0.5), p.at(0.95)
	}
	all, err := r.ranks(ctx, r.until-r.since+1)
	if err != nil {
		return err
	}
	if p, ok := all[0]; ok {
		o.Totals.P50, o.Totals.P95 = p.at(0.5), p.at(0.95)
	}
	return nil
}

// rankRows is one bucket's trace count and the durations at the ranks percentiles need.
type rankRows struct {
	n         int64
	durations map[int64]int64 // 0-based rank → duration in nanoseconds
}

// at interpolates the p-th percentile between the closest ranks, as percentile_cont does.
func (p rankRows) at(f float64) time.Duration {
	if p.n == 0 {
		return 0
	}
	pos := f * float64(p.n-1)
	lo := math.Floor(pos)
	v := float64(p.durations[int64(lo)])
	if hi, ok := p.durations[int64(lo)+1]; ok && pos > lo {
		v += (pos - lo) * (float64(hi) - v)
	}
	return time.Duration(math.Round(v))
}

// ranks returns, per bucket of the given width, the durations at the ranks around the 50th
// and 95th percentiles.
func (r overviewReader) ranks(ctx context.Context, width int64) (map[int64]rankRows, error) {
	rows, err := r.tx.QueryContext(ctx, `WITH w AS (
			SELECT (start_time - ?) / ? AS b, duration FROM traces WHERE `+traceWindow+`),
		ranked AS (
			SELECT b, duration, row_number() OVER (PARTITION BY b ORDER BY duration) - 1 AS i,
				count(*) OVER (PARTITION BY b) AS n FROM w)
		SELECT b, i, n, duration FROM ranked
		WHERE i IN (CAST(0.5 * (n - 1) AS INTEGER), CAST(0.5 * (n - 1) AS INTEGER) + 1,
			CAST(0.95 * (n - 1) AS INTEGER), CAST(0.95 * (n - 1) AS INTEGER) + 1)`,
		r.windowArgs(r.since, width)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]rankRows{}
	for rows.Next() {
		var b, i, n, d int64
		if err := rows.Scan(&b, &i, &n, &d); err != nil {
			return nil, err
		}
		p, ok := out[b]
		if !ok {
			p = rankRows{n: n, durations: map[int64]int64{}}
		}
		p.durations[i] = d
		out[b] = p
	}
	return out, rows.Err()
}

// countedWindow selects the counted spans of the window: the spans whose usage and cost make up
// the trace totals.
const countedWindow = "project_id = ? AND start_time >= ? AND start_time < ? AND counted = 1"

func (r overviewReader) models(ctx context.Context, o *store.Overview) error {
	rows, err := r.tx.QueryContext(ctx, `SELECT provider, model, count(*), sum(input_tokens),
		sum(output_tokens), sum(total_tokens), total(cost_usd), sum(cost_usd IS NULL)
		FROM spans WHERE `+countedWindow+` GROUP BY provider, model
		ORDER BY total(cost_usd) DESC, count(*) DESC, provider, model LIMIT ?`,
		r.q.ProjectID, r.since, r.until, r.q.Top)
	if err != nil {
		return err
	}
	index := map[[2]string]int{}
	for rows.Next() {
		m := store.ModelUsage{BucketCost: make([]float64, len(o.Buckets))}
		if err := rows.Scan(&m.Provider, &m.Model, &m.Calls, &m.InputTokens, &m.OutputTokens,
			&m.TotalTokens, &m.CostUSD, &m.UnpricedCalls); err != nil {
			rows.Close()
			return err
		}
		index[[2]string{m.Provider, m.Model}] = len(o.Models)
		o.Models = append(o.Models, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(o.Models) == 0 {
		return err
	}
	rows, err = r.tx.QueryContext(ctx, `SELECT provider, model, (start_time - ?) / ? AS b, total(cost_usd)
		FROM spans WHERE `+countedWindow+` GROUP BY provider, model, b`,
		r.since, r.width, r.q.ProjectID, r.since, r.until)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var prov, model string
		var b int64
		var c float64
		if err := rows.Scan(&prov, &model, &b, &c); err != nil {
			return err
		}
		if i, ok := index[[2]string{prov, model}]; ok && b >= 0 && b < int64(len(o.Buckets)) {
			o.Models[i].BucketCost[b] = c
		}
	}
	return rows.Err()
}

func (r overviewReader) services(ctx context.Context, o *store.Overview) error {
	rows, err := r.tx.QueryContext(ctx, `SELECT service_name, count(*), sum(total_tokens), total(cost_usd), sum(unpriced_calls)
		FROM traces WHERE `+traceWindow+` GROUP BY service_name
		ORDER BY total(cost_usd) DESC, count(*) DESC, service_name LIMIT ?`,
		r.q.ProjectID, r.since, r.until, r.q.Top)
	if err != nil {
		return err
	}
	index := map[string]int{}
	for rows.Next() {
		sv := store.ServiceUsage{BucketCost: make([]float64, len(o.Buckets))}
		if err := rows.Scan(&sv.Service, &sv.Traces, &sv.TotalTokens, &sv.CostUSD, &sv.UnpricedCalls); err != nil {
			rows.Close()
			return err
		}
		index[sv.Service] = len(o.Services)
		o.Services = append(o.Services, sv)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(o.Services) == 0 {
		return err
	}
	rows, err = r.tx.QueryContext(ctx, `SELECT service_name, (start_time - ?) / ? AS b, total(cost_usd)
		FROM traces WHERE `+traceWindow+` GROUP BY service_name, b`, r.windowArgs(r.since, r.width)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var svc string
		var b int64
		var c float64
		if err := rows.Scan(&svc, &b, &c); err != nil {
			return err
		}
		if i, ok := index[svc]; ok && b >= 0 && b < int64(len(o.Buckets)) {
			o.Services[i].BucketCost[b] = c
		}
	}
	return rows.Err()
}

func (r overviewReader) endpoints(ctx context.Context, o *store.Overview) error {
	rows, err := r.tx.QueryContext(ctx, `SELECT service_name, name, count(*), sum(status = ?),
		sum(total_tokens), total(cost_usd), sum(unpriced_calls), avg(duration)
		FROM traces WHERE `+traceWindow+` GROUP BY service_name, name
		ORDER BY count(*) DESC, total(cost_usd) DESC, service_name, name LIMIT ?`,
		genai.StatusError, r.q.ProjectID, r.since, r.until, r.q.Top)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e store.EndpointUsage
		var mean float64
		if err := rows.Scan(&e.Service, &e.Name, &e.Traces, &e.Errors, &e.TotalTokens, &e.CostUSD, &e.UnpricedCalls, &mean); err != nil {
			return err
		}
		e.MeanDuration = time.Duration(math.Round(mean))
		o.Endpoints = append(o.Endpoints, e)
	}
	return rows.Err()
}

func (r overviewReader) expensive(ctx context.Context, o *store.Overview) error {
	rows, err := r.tx.QueryContext(ctx, `SELECT trace_id, service_name, name, start_time, duration,
		total_tokens, cost_usd FROM traces WHERE `+traceWindow+` AND cost_usd > 0
		ORDER BY cost_usd DESC, trace_id LIMIT ?`, r.q.ProjectID, r.since, r.until, r.q.Top)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var tc store.TraceCost
		var start, d int64
		if err := rows.Scan(&tc.TraceID, &tc.Service, &tc.Name, &start, &d, &tc.TotalTokens, &tc.CostUSD); err != nil {
			return err
		}
		tc.StartTime, tc.Duration = fromNanos(start), time.Duration(d)
		o.Expensive = append(o.Expensive, tc)
	}
	return rows.Err()
}
