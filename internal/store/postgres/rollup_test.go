package postgres

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// rollupDay is the first day of the model rollup tests' spans (midnight UTC).
var rollupDay = time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)

// rollupWorkload generates the spans of traces spread over three days from rollupDay, in
// the shapes whose Counted flags depend on which spans a trace has: a plain root over model
// calls; an agent with its own aggregate usage over model calls (counted only while none of
// its calls is stored); an agent with usage alone; calls nested under an agent under a root.
// Calls start up to 70 minutes after their trace, so traces cross slots, hours and days; some
// traces start on a slot boundary, where windows and buckets begin.
// Costs are arbitrary float64s (not short decimals); one call in ten is unpriced.
func rollupWorkload(rng *rand.Rand, project string, traces int) []genai.Span {
	models := [][2]string{{"openai", "gpt-4o"}, {"openai", "gpt-4o-mini"}, {"anthropic", "claude-sonnet-4"}, {"google", "gemini"}}
	var spans []genai.Span
	id := 0
	sp := func(tr int, parent string, start time.Time) genai.Span {
		id++
		return genai.Span{ProjectID: project, TraceID: fmt.Sprintf("%032x", tr), SpanID: fmt.Sprintf("%016x", id),
			ParentSpanID: parent, Name: "s", ServiceName: "svc", StartTime: start, EndTime: start.Add(time.Second),
			StatusCode: genai.StatusOK}
	}
	usage := func(s *genai.Span, typ string) {
		m := models[rng.IntN(len(models))]
		in, out := rng.Int64N(5000), rng.Int64N(2000)
		s.GenAI = &genai.Call{Type: typ, Operation: "chat", Provider: m[0], RequestModel: m[1],
			Usage: genai.Usage{InputTokens: in, OutputTokens: out, TotalTokens: in + out, Reported: true},
			Cost:  genai.Cost{TotalUSD: new(rng.Float64() * 0.05), Source: genai.CostComputed}}
		if rng.IntN(10) == 0 {
			s.GenAI.Cost = genai.Cost{Source: genai.CostUnpriced}
		}
	}
	for tr := 1; tr <= traces; tr++ {
		start := rollupDay.Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
		if rng.IntN(6) == 0 { // on a slot's (and maybe a bucket's) first nanosecond
			start = start.Truncate(30 * time.Minute)
		}
		root := sp(tr, "", start)
		root.ServiceName = []string{"checkout", "search", "support"}[rng.IntN(3)]
		root.Name = []string{"POST /checkout", "GET /search", "invoke_agent"}[rng.IntN(3)]
		if rng.IntN(8) == 0 {
			root.StatusCode = genai.StatusError
		}
		spans = append(spans, root)
		parent := root.SpanID
		shape := rng.IntN(4)
		if shape > 0 { // an agent with aggregate usage: the root itself, or under it
			a := &spans[len(spans)-1]
			if shape == 3 {
				spans = append(spans, sp(tr, root.SpanID, start.Add(time.Millisecond)))
				a = &spans[len(spans)-1]
			}
			usage(a, genai.TypeAgent)
			a.GenAI.Operation = "invoke_agent"
			parent = a.SpanID
		}
		calls := 1 + rng.IntN(4)
		if shape == 2 {
			calls = 0
		}
		for range calls {
			c := sp(tr, parent, start.Add(time.Duration(rng.Int64N(int64(70*time.Minute)))))
			usage(&c, genai.TypeLLM)
			spans = append(spans, c)
		}
	}
	return spans
}

// rollupBatches cuts spans into batches in a random order, so agents arrive before, with
// and after their calls; a batch is delivered twice now and then, and some spans come again
// later changed: other usage and cost, another model, or another start time (the row moves).
func rollupBatches(rng *rand.Rand, spans []genai.Span) [][]genai.Span {
	order := rng.Perm(len(spans))
	var batches [][]genai.Span
	for lo := 0; lo < len(order); {
		hi := min(len(order), lo+1+rng.IntN(12))
		var b []genai.Span
		for _, i := range order[lo:hi] {
			b = append(b, spans[i])
		}
		batches = append(batches, b)
		if rng.IntN(5) == 0 {
			batches = append(batches, b)
		}
		lo = hi
	}
	var changed []genai.Span
	for _, s := range spans {
		if s.GenAI == nil || rng.IntN(10) != 0 {
			continue
		}
		c := *s.GenAI
		switch rng.IntN(3) {
		case 0:
			c.Usage.InputTokens++
			c.Usage.TotalTokens++
			c.Cost.TotalUSD = new(rng.Float64())
		case 1:
			c.RequestModel += "-next"
		case 2:
			s.StartTime = s.StartTime.Add(time.Duration(rng.Int64N(int64(3*time.Hour))) - 90*time.Minute)
			s.EndTime = s.StartTime.Add(time.Second)
		}
		s.GenAI = &c
		changed = append(changed, s)
	}
	for len(changed) > 0 {
		n := min(len(changed), 1+rng.IntN(5))
		batches = append(batches, changed[:n])
		changed = changed[n:]
	}
	return batches
}

// checkRollup compares model_rollup and trace_rollup with the same sums taken over the
// stored counted spans and traces, exactly (costs as the numeric sum of their float8 text).
func checkRollup(t *testing.T, s *Store, when string) {
	t.Helper()
	ctx := context.Background()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET LOCAL extra_float_digits = 1"); err != nil {
		t.Fatal(err)
	}
	reportMismatches(t, ctx, tx, when, "model rollup", "calls, input, output, total, cost, unpriced", `WITH want AS (
		SELECT project_id, `+slotSQL+` AS slot, provider, model, count(*) AS calls,
			sum(input_tokens)::bigint AS i, sum(output_tokens)::bigint AS o, sum(total_tokens)::bigint AS t,
			coalesce(sum(cost_usd::text::numeric), 0) AS c, count(*) FILTER (WHERE cost_usd IS NULL) AS u
		FROM spans WHERE counted GROUP BY 1, 2, 3, 4
	), got AS (
		SELECT project_id, slot, provider, model, calls, input_tokens AS i, output_tokens AS o,
			total_tokens AS t, cost_usd AS c, unpriced_calls AS u
		FROM model_rollup
		WHERE (calls, input_tokens, output_tokens, total_tokens, cost_usd, unpriced_calls) <> (0, 0, 0, 0, 0, 0)
	)
	SELECT project_id, slot, provider, model, format('%s', (w.calls, w.i, w.o, w.t, w.c, w.u)),
		format('%s', (g.calls, g.i, g.o, g.t, g.c, g.u))
	FROM want w FULL JOIN got g USING (project_id, slot, provider, model)
	WHERE (w.calls, w.i, w.o, w.t, w.c, w.u) IS DISTINCT FROM (g.calls, g.i, g.o, g.t, g.c, g.u)
	ORDER BY 1, 2, 3, 4 LIMIT 10`)
	reportMismatches(t, ctx, tx, when, "trace rollup", "traces, errors, tokens, cost, unpriced, durations", `WITH want AS (
		SELECT project_id, `+slotSQL+` AS slot, service_name, name, count(*) AS traces,
			count(*) FILTER (WHERE status = 'error') AS e, sum(total_tokens)::bigint AS t,
			coalesce(sum(cost_usd::text::numeric), 0) AS c, sum(unpriced_calls)::bigint AS u, sum(duration_ns) AS d
		FROM traces GROUP BY 1, 2, 3, 4
	), got AS (
		SELECT project_id, slot, service_name, name, traces, errors AS e, total_tokens AS t, cost_usd AS c,
			unpriced_calls AS u, duration_ns AS d
		FROM trace_rollup
		WHERE (traces, errors, total_tokens, cost_usd, unpriced_calls, duration_ns) <> (0, 0, 0, 0, 0, 0)
	)
	SELECT project_id, slot, service_name, name, format('%s', (w.traces, w.e, w.t, w.c, w.u, w.d)),
		format('%s', (g.traces, g.e, g.t, g.c, g.u, g.d))
	FROM want w FULL JOIN got g USING (project_id, slot, service_name, name)
	WHERE (w.traces, w.e, w.t, w.c, w.u, w.d) IS DISTINCT FROM (g.traces, g.e, g.t, g.c, g.u, g.d)
	ORDER BY 1, 2, 3, 4 LIMIT 10`)
}

// reportMismatches runs q, whose rows are the mismatches of a rollup (project, slot, its two
// key columns, the wanted and the stored sums as text), and reports each as an error.
func reportMismatches(t *testing.T, ctx context.Context, tx pgx.Tx, when, rollup, sums, q string) {
	t.Helper()
	rows, err := tx.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var project, key1, key2, want, got string
		var slot int64
		if err := rows.Scan(&project, &slot, &key1, &key2, &want, &got); err != nil {
			t.Fatal(err)
		}
		t.Errorf("%s: %s of %s slot %d %s %q: got %s, want %s (%s)", when, rollup, project, slot, key1, key2, got, want, sums)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// rollupWindows are Overview windows over the test's days: the dashboard's (bounds and
// buckets whole slots) and arbitrary ones (any nanosecond, any bucket count).
func rollupWindows(rng *rand.Rand, n int) []store.OverviewQuery {
	var qs []store.OverviewQuery
	from := rollupDay.Add(-time.Hour)
	for i := range n {
		var since, until time.Time
		buckets := []int{1, 2, 3, 7, 24, 48, 56, 60, 100, 1000}[rng.IntN(10)]
		if i%2 == 0 {
			slots := 1 + rng.IntN(4*48)
			since = from.Add(time.Duration(rng.Int64N(4*48)) * 30 * time.Minute)
			if i%4 == 0 { // whole slots per bucket, as the dashboard asks
				per := 1 + rng.IntN(8)
				buckets = max(1, slots/per)
				slots = buckets * per
			}
			until = since.Add(time.Duration(slots) * 30 * time.Minute)
		} else {
			since = from.Add(time.Duration(rng.Int64N(int64(96 * time.Hour))))
			until = since.Add(1 + time.Duration(rng.Int64N(int64(80*time.Hour))))
		}
		qs = append(qs, store.OverviewQuery{ProjectID: "p", Since: since, Until: until, Buckets: buckets, Top: 100})
	}
	return qs
}

// checkOverviews compares each window's Overview with the rollups and without them (the
// model, service and endpoint figures from the spans and traces alone, as before the
// rollups): counts, tokens and durations exactly, costs up to summation order, lists in the
// same order except between entries of near-equal cost; and its stats with the former query.
func checkOverviews(t *testing.T, s *Store, qs []store.OverviewQuery, when string) (withSlots int) {
	t.Helper()
	ctx := context.Background()
	for _, q := range qs {
		got, err := s.overview(ctx, q, true)
		if err != nil {
			t.Fatalf("%s: Overview(%v, %v, %d): %v", when, q.Since, q.Until, q.Buckets, err)
		}
		want, err := s.overview(ctx, q, false)
		if err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("%s: window [%s, %s) in %d buckets", when, q.Since.Format(time.RFC3339Nano), q.Until.Format(time.RFC3339Nano), len(want.Buckets))
		if p := planRollups(toNS(q.Since), toNS(q.Until), int64(want.BucketWidth), len(want.Buckets)); len(p.slotLo) > 0 {
			withSlots++
		}
		if len(got.Models) != len(want.Models) {
			t.Errorf("%s: got %d models, want %d", what, len(got.Models), len(want.Models))
			continue
		}
		byName := func(ms []store.ModelUsage) []store.ModelUsage {
			ms = slices.Clone(ms)
			slices.SortFunc(ms, func(a, b store.ModelUsage) int {
				return cmp.Or(cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Model, b.Model))
			})
			return ms
		}
		for i, g := range byName(got.Models) {
			w := byName(want.Models)[i]
			if g.Provider != w.Provider || g.Model != w.Model || g.Calls != w.Calls || g.InputTokens != w.InputTokens ||
				g.OutputTokens != w.OutputTokens || g.TotalTokens != w.TotalTokens || g.UnpricedCalls != w.UnpricedCalls ||
				!nearCost(g.CostUSD, w.CostUSD) {
				t.Errorf("%s: model %s/%s: got %+v, want %+v", what, w.Provider, w.Model, g, w)
				continue
			}
			for b := range w.BucketCost {
				if !nearCost(g.BucketCost[b], w.BucketCost[b]) {
					t.Errorf("%s: model %s/%s bucket %d cost: got %v, want %v", what, w.Provider, w.Model, b, g.BucketCost[b], w.BucketCost[b])
				}
			}
		}
		for i := range got.Models {
			if g, w := got.Models[i], want.Models[i]; (g.Provider != w.Provider || g.Model != w.Model) && !nearCost(g.CostUSD, w.CostUSD) {
				t.Errorf("%s: Models[%d]: got %s/%s ($%v), want %s/%s ($%v)", what, i, g.Provider, g.Model, g.CostUSD, w.Provider, w.Model, w.CostUSD)
			}
		}
		checkServices(t, what, got, want)
		got.Models, want.Models = nil, nil
		got.Services, want.Services, got.Endpoints, want.Endpoints = nil, nil, nil, nil
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: the figures other than models differ:\ngot  %+v\nwant %+v", what, got, want)
		}
		checkStatsReference(t, s, q, got, what)
	}
	return withSlots
}

// checkServices compares the services and endpoints lists read with the trace rollup and
// from the traces alone: counts, tokens and mean durations exactly, costs up to summation
// order, the same order except between entries whose sort keys are near equal.
func checkServices(t *testing.T, what string, got, want store.Overview) {
	t.Helper()
	if len(got.Services) != len(want.Services) || len(got.Endpoints) != len(want.Endpoints) {
		t.Errorf("%s: got %d services and %d endpoints, want %d and %d", what, len(got.Services), len(got.Endpoints),
			len(want.Services), len(want.Endpoints))
		return
	}
	services := map[string]store.ServiceUsage{}
	for _, sv := range want.Services {
		services[sv.Service] = sv
	}
	for i, g := range got.Services {
		w, ok := services[g.Service]
		if !ok {
			if w := want.Services[i]; !nearCost(g.CostUSD, w.CostUSD) || g.Traces != w.Traces {
				t.Errorf("%s: service %s is not listed without the rollup", what, g.Service)
			}
			continue
		}
		if g.Traces != w.Traces || g.TotalTokens != w.TotalTokens || g.UnpricedCalls != w.UnpricedCalls || !nearCost(g.CostUSD, w.CostUSD) {
			t.Errorf("%s: service %s: got %+v, want %+v", what, g.Service, g, w)
		}
		for b := range w.BucketCost {
			if !nearCost(g.BucketCost[b], w.BucketCost[b]) {
				t.Errorf("%s: service %s bucket %d cost: got %v, want %v", what, g.Service, b, g.BucketCost[b], w.BucketCost[b])
			}
		}
	}
	endpoints := map[[2]string]store.EndpointUsage{}
	for _, e := range want.Endpoints {
		endpoints[[2]string{e.Service, e.Name}] = e
	}
	for i, g := range got.Endpoints {
		w, ok := endpoints[[2]string{g.Service, g.Name}]
		if !ok {
			if w := want.Endpoints[i]; g.Traces != w.Traces || !nearCost(g.CostUSD, w.CostUSD) {
				t.Errorf("%s: endpoint %s %q is not listed without the rollup", what, g.Service, g.Name)
			}
			continue
		}
		if g.Traces != w.Traces || g.Errors != w.Errors || g.TotalTokens != w.TotalTokens || g.UnpricedCalls != w.UnpricedCalls ||
			g.MeanDuration != w.MeanDuration || !nearCost(g.CostUSD, w.CostUSD) {
			t.Errorf("%s: endpoint %s %q: got %+v, want %+v", what, g.Service, g.Name, g, w)
		}
	}
}

// checkStatsReference compares an Overview's totals and buckets with one GROUP BY over the
// window's traces (GROUPING SETS of the window and the bucket): how they were read before
// each bucket became an aggregate of its own.
func checkStatsReference(t *testing.T, s *Store, q store.OverviewQuery, got store.Overview, what string) {
	t.Helper()
	ctx := context.Background()
	since := toNS(q.Since)
	rows, err := s.pool.Query(ctx, "SELECT (start_ns - $4) / $5 AS b, "+traceStats+
		" FROM traces WHERE "+traceWindow+" GROUP BY GROUPING SETS ((), (b))",
		q.ProjectID, since, toNS(q.Until), since, int64(got.BucketWidth))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := store.Overview{Buckets: make([]store.OverviewBucket, len(got.Buckets))}
	for rows.Next() {
		var b *int64
		var st store.OverviewStats
		if err := scanStats(rows, &st, &b); err != nil {
			t.Fatal(err)
		}
		if b == nil {
			want.Totals = st
		} else {
			want.Buckets[*b].OverviewStats = st
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.Totals) != fmt.Sprint(want.Totals) {
		t.Errorf("%s: Totals: got %+v, want %+v", what, got.Totals, want.Totals)
	}
	for i := range want.Buckets {
		if g, w := got.Buckets[i].OverviewStats, want.Buckets[i].OverviewStats; fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s: Buckets[%d]: got %+v, want %+v", what, i, g, w)
		}
	}
}

// nearCost reports whether two sums of the same costs agree up to summation order.
func nearCost(a, b float64) bool { return math.Abs(a-b) <= 1e-12*max(1, math.Abs(b)) }

// TestRollups writes traces whose spans arrive in every order (agents before and after
// their calls, so stored Counted flags flip), twice, changed, and moved to other start
// times, from three writers at once, then runs retention (dropping a day's partition and
// deleting expired traces whose later spans are in kept partitions). After each step each
// rollup must equal the sums over the stored spans or traces, and Overview windows, aligned
// or not, must read the same figures with the rollups as from the spans and traces alone.
func TestRollups(t *testing.T) {
	ctx := context.Background()
	now := rollupDay.Add(4 * 24 * time.Hour)
	cfg := defaultConfig()
	cfg.now = func() time.Time { return now }
	dsn := tempSchema(t)
	var writers []*Store
	for range 3 {
		s, err := open(ctx, dsn, quietLogger(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		writers = append(writers, s)
	}
	s := writers[0]
	rng := rand.New(rand.NewPCG(4, 2026))
	batches := rollupBatches(rng, append(rollupWorkload(rng, "p", 300), rollupWorkload(rng, "q", 40)...))

	var wg sync.WaitGroup
	errs := make(chan error, len(batches))
	for w, st := range writers {
		wg.Go(func() {
			for i := w; i < len(batches); i += len(writers) {
				if err := st.Write(ctx, store.Batch{Spans: batches[i]}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Write: %v", err)
	}
	var flipped int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM spans WHERE NOT counted AND usage_reported`).Scan(&flipped); err != nil {
		t.Fatal(err)
	}
	if flipped == 0 {
		t.Fatal("no agent span lost its Counted flag: the workload does not test rerolls")
	}
	checkRollup(t, s, "after writing")
	qs := rollupWindows(rng, 60)
	if n := checkOverviews(t, s, qs, "after writing"); n < len(qs)/2 {
		t.Errorf("only %d of %d windows read the rollup", n, len(qs))
	}

	// A third of the batches again, in another order (some older versions of changed spans).
	rng.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
	for _, b := range batches[:len(batches)/3] {
		if err := s.Write(ctx, store.Batch{Spans: b}); err != nil {
			t.Fatal(err)
		}
	}
	checkRollup(t, s, "after redelivery")

	cutoff := rollupDay.Add(31 * time.Hour)
	st, err := s.DeleteBefore(ctx, store.RetentionPolicy{Cutoff: cutoff, BatchSize: 7})
	if err != nil {
		t.Fatalf("DeleteBefore: %v", err)
	}
	if st.Partitions == 0 || st.Traces == 0 {
		t.Fatalf("retention: got %+v, want a partition dropped and traces deleted", st)
	}
	checkRollup(t, s, "after retention")
	checkOverviews(t, s, qs, "after retention")
}

// TestRollupRedelivery: a batch delivered again (agents after their calls and before) writes
// no row of either rollup, and one with a changed cost replaces the old cost exactly.
func TestRollupRedelivery(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, defaultConfig())
	start := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour + 29*time.Minute)
	agentOf := func(tr int) genai.Span {
		a := llmSpan(tr, 1, 0, start)
		a.GenAI.Type, a.GenAI.Operation = genai.TypeAgent, "invoke_agent"
		a.GenAI.Cost.TotalUSD = new(0.7)
		return a
	}
	// Trace 1: calls, then the agent over them; trace 2: the agent, then its calls (one
	// in the next slot). Then both batches again.
	batches := [][]genai.Span{
		{llmSpan(1, 2, 1, start.Add(time.Second)), llmSpan(1, 3, 1, start.Add(2*time.Minute))},
		{agentOf(1), agentOf(2)},
		{llmSpan(2, 2, 1, start.Add(time.Second)), llmSpan(2, 3, 1, start.Add(2*time.Minute))},
	}
	snapshot := func() string {
		var out string
		if err := s.pool.QueryRow(ctx, `SELECT coalesce(string_agg(format('%s %s', xmin, m), '; ' ORDER BY slot, model), '')
			|| ' / ' || (SELECT coalesce(string_agg(format('%s %s', xmin, t), '; ' ORDER BY slot, name), '') FROM trace_rollup t)
			FROM model_rollup m`).Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, b := range batches {
		if err := s.Write(ctx, store.Batch{Spans: b}); err != nil {
			t.Fatal(err)
		}
	}
	checkRollup(t, s, "after writing")
	before := snapshot()
	for _, b := range append(batches, batches[0]) {
		if err := s.Write(ctx, store.Batch{Spans: b}); err != nil {
			t.Fatal(err)
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("redelivery rewrote the rollup:\nbefore %s\nafter  %s", before, after)
	}
	var calls int64
	var cost float64
	if err := s.pool.QueryRow(ctx, "SELECT sum(calls), sum(cost_usd)::float8 FROM model_rollup").Scan(&calls, &cost); err != nil {
		t.Fatal(err)
	}
	if calls != 4 || cost != 2 {
		t.Errorf("rollup: got %d calls, $%v; want 4 calls (the agents are not counted), $2", calls, cost)
	}
	repriced := llmSpan(2, 3, 1, start.Add(2*time.Minute))
	repriced.GenAI.Cost.TotalUSD = new(0.1)
	if err := s.Write(ctx, store.Batch{Spans: []genai.Span{repriced}}); err != nil {
		t.Fatal(err)
	}
	checkRollup(t, s, "after a changed cost")
	if err := s.pool.QueryRow(ctx, "SELECT sum(cost_usd)::float8 FROM model_rollup").Scan(&cost); err != nil {
		t.Fatal(err)
	}
	if cost != 1.6 {
		t.Errorf("rollup cost after re-pricing one call: got $%v, want exactly $1.6", cost)
	}
}

// TestCostText checks that a cost's decimal in the rollup is PostgreSQL's float8 text: what
// SQL takes away (retention, the backfill) is what the writer added.
func TestCostText(t *testing.T) {
	s := openTemp(t, defaultConfig())
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 1))
	var fs []float64
	var texts []string
	for i := range 2000 {
		f := rng.Float64() * math.Pow(10, float64(rng.IntN(12)-8))
		if i%3 == 0 {
			f = float64(rng.IntN(100000)) * 0.0000025 // tokens × a per-token price
		}
		fs, texts = append(fs, f), append(texts, costText(f))
	}
	fs, texts = append(fs, 0, 1e-300, 5e-324, 1234567.125), append(texts, costText(0), costText(1e-300), costText(5e-324), costText(1234567.125))
	var bad []string
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(array_agg(f::text || ' vs ' || t) FILTER (WHERE f::text::numeric <> t::numeric), '{}')
		FROM unnest($1::float8[], $2::text[]) AS u(f, t)`, fs, texts).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("float8 text differs from costText for %d of %d costs, e.g. %v", len(bad), len(fs), bad[:min(5, len(bad))])
	}
	if got := costText(0.1); got != strconv.FormatFloat(0.1, 'g', -1, 64) || got != "0.1" {
		t.Errorf("costText(0.1): got %q, want 0.1", got)
	}
}

// TestPlanRollups checks the split of windows into rollup slots and raw ranges: together they
// cover the window exactly once, every run of slots lies inside its bucket, and the
// dashboard's windows need no raw range at all.
func TestPlanRollups(t *testing.T) {
	const slot = rollupSlotNS
	h := int64(time.Hour)
	day := toNS(rollupDay)
	tests := []struct {
		name                string
		since, until, width int64
		buckets             int
		wantRaw             int // raw ranges; -1: do not check
	}{
		{"dashboard 24 h", day, day + 24*h, 30 * int64(time.Minute), 48, 0},
		{"dashboard 7 d", day, day + 7*24*h, 3 * h, 56, 0},
		{"dashboard 30 d", day, day + 30*24*h, 12 * h, 60, 0},
		{"dashboard 1 h", day, day + h, int64(time.Minute), 60, 1},
		{"unaligned 7 d", day + 17, day + 7*24*h + 17, 6 * h, 28, 29},
		{"one bucket, unaligned", day + slot/2, day + 10*slot + 1, 10*slot + 1 - slot/2, 1, 2},
		{"shorter than a slot", day + 1, day + slot - 1, slot - 2, 1, 1},
		{"before 1970", -5*slot - 3, 3*slot + 3, 8*slot + 6, 1, 2},
		{"rounded-up width, empty last buckets", day, day + 5, 2, 4, 1},
		{"centuries", math.MinInt64 + 1, math.MaxInt64, math.MaxInt64 / 10, 10, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := planRollups(tc.since, tc.until, tc.width, tc.buckets)
			if tc.wantRaw >= 0 && len(p.rawLo) != tc.wantRaw {
				t.Errorf("got %d raw ranges, want %d: %+v", len(p.rawLo), tc.wantRaw, p)
			}
			// Walk the pieces in time order: they must tile [since, until).
			type piece struct{ lo, hi, bucket int64 }
			var ps []piece
			for i := range p.slotLo {
				lo, hi, b := p.slotLo[i]*slot, p.slotHi[i]*slot, p.slotBucket[i]
				if lo < tc.since+b*tc.width || (b+1 < int64(tc.buckets) && hi > tc.since+(b+1)*tc.width) {
					t.Errorf("slots [%d, %d) are not inside bucket %d", p.slotLo[i], p.slotHi[i], b)
				}
				ps = append(ps, piece{lo, hi, b})
			}
			for i := range p.rawLo {
				ps = append(ps, piece{p.rawLo[i], p.rawHi[i], -1})
			}
			slices.SortFunc(ps, func(a, b piece) int { return cmp.Compare(a.lo, b.lo) })
			at := tc.since
			for _, pc := range ps {
				if pc.lo != at || pc.hi <= pc.lo {
					t.Fatalf("pieces do not tile the window: at %d, next piece %+v (all %+v)", at, pc, ps)
				}
				at = pc.hi
			}
			if at != tc.until {
				t.Errorf("pieces end at %d, want %d", at, tc.until)
			}
		})
	}
}

// TestMigrateRollups runs migration 0830 again over stored spans and traces (as an upgrade
// does over rows written before it), on connections whose float8 text is rounded
// (extra_float_digits=0), then retention through them: the backfill and the subtraction
// both still equal the sums over the spans, to the last digit of every cost.
func TestMigrateRollups(t *testing.T) {
	ctx := context.Background()
	now := rollupDay.Add(4 * 24 * time.Hour)
	cfg := defaultConfig()
	cfg.now = func() time.Time { return now }
	dsn := tempSchema(t)
	s, err := open(ctx, dsn, quietLogger(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(8, 30))
	for _, b := range rollupBatches(rng, rollupWorkload(rng, "p", 60)) {
		if err := s.Write(ctx, store.Batch{Spans: b}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.pool.Exec(ctx, "DROP TABLE model_rollup, trace_rollup; DELETE FROM schema_migrations WHERE version = 830"); err != nil {
		t.Fatal(err)
	}
	rounded, err := open(ctx, dsn+"&extra_float_digits=0", quietLogger(), cfg)
	if err != nil {
		t.Fatalf("open (migrating again): %v", err)
	}
	defer rounded.Close()
	var digits string
	if err := rounded.pool.QueryRow(ctx, "SHOW extra_float_digits").Scan(&digits); err != nil || digits != "0" {
		t.Fatalf("extra_float_digits: got %q (%v), want 0", digits, err)
	}
	checkRollup(t, s, "after the migration")
	if _, err := rounded.DeleteBefore(ctx, store.RetentionPolicy{Cutoff: rollupDay.Add(40 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	checkRollup(t, s, "after retention")
}

// TestRollupUsageMatchesTraceRows: the trace rollup usage the writer adds for a trace is that
// of the row it stores (newTraceRows), strings cleaned as stored.
func TestRollupUsageMatchesTraceRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	spans := rollupWorkload(rng, "p\x00q", 30)
	spans[0].ServiceName, spans[0].Name = "svc\x00", "bad\xffname"
	for _, g := range groupTraces(uniqueSpans(spans)) {
		var sums []genai.SpanSummary
		for _, s := range uniqueSpans(spans)[g.lo:g.hi] {
			sums = append(sums, summarize(&s))
		}
		tr := rollup(g.key, sums)
		r := newTraceRows([]genai.Trace{tr})
		want := traceUsageOf(r.projectID[0], r.startNS[0], r.serviceName[0], r.name[0], r.status[0], r.total[0],
			r.costUSD[0], int64(r.unpriced[0]), r.durationNS[0])
		if got := rollupUsage(&tr); got != want {
			t.Errorf("trace %s: got %+v, want %+v", g.key.trace, got, want)
		}
	}
}
