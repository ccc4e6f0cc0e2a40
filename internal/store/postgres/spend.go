package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/store"
)

func spendKey(a, b store.Spend) int {
	return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.Period, b.Period), a.Start.Compare(b.Start),
		cmp.Compare(a.Service, b.Service), cmp.Compare(a.Model, b.Model), cmp.Compare(a.User, b.User))
}

// AddSpend implements store.AlertStore. Rows are locked in key order, so two processes
// adding to overlapping accumulators wait for each other instead of deadlocking.
func (s *Store) AddSpend(ctx context.Context, ds []store.Spend) ([]store.Spend, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	order := make([]int, len(ds))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return spendKey(ds[i], ds[j]) })
	out := slices.Clone(ds)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		for _, i := range order {
			d := ds[i]
			batch.Queue(`INSERT INTO alert_spend (project_id, period, start_ns, service, model, user_id, requests, usd)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (project_id, period, start_ns, service, model, user_id)
				DO UPDATE SET requests = alert_spend.requests + EXCLUDED.requests, usd = alert_spend.usd + EXCLUDED.usd
				RETURNING requests, usd`,
				clean(d.ProjectID), clean(d.Period), d.Start.UnixNano(), clean(d.Service), clean(d.Model), clean(d.User), d.Requests, d.USD)
		}
		br := tx.SendBatch(ctx, batch)
		for _, i := range order {
			if err := br.QueryRow().Scan(&out[i].Requests, &out[i].USD); err != nil {
				br.Close()
				return err
			}
		}
		return br.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("add spend to %d accumulators: %w", len(ds), err)
	}
	return out, nil
}

// Spends implements store.AlertStore.
func (s *Store) Spends(ctx context.Context, since time.Time) ([]store.Spend, error) {
	rows, err := s.pool.Query(ctx, `SELECT project_id, period, start_ns, service, model, user_id, requests, usd
		FROM alert_spend WHERE start_ns >= $1 ORDER BY project_id, period, start_ns, service, model, user_id`, since.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("list spend: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Spend, error) {
		var sp store.Spend
		var start int64
		err := r.Scan(&sp.ProjectID, &sp.Period, &start, &sp.Service, &sp.Model, &sp.User, &sp.Requests, &sp.USD)
		sp.Start = time.Unix(0, start).UTC()
		return sp, err
	})
	if err != nil {
		return nil, fmt.Errorf("list spend: %w", err)
	}
	return out, nil
}
