package sqlite

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// AddSpend implements store.AlertStore.
func (s *Store) AddSpend(ctx context.Context, ds []store.Spend) ([]store.Spend, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	out := slices.Clone(ds)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("add spend to %d accumulators: %w", len(ds), err)
	}
	defer tx.Rollback()
	for i, d := range ds {
		if err := tx.QueryRowContext(ctx, `INSERT INTO alert_spend (project_id, period, start_ns, service, model, user_id, requests, usd)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, period, start_ns, service, model, user_id)
			DO UPDATE SET requests = requests + excluded.requests, usd = usd + excluded.usd
			RETURNING requests, usd`,
			d.ProjectID, d.Period, d.Start.UnixNano(), d.Service, d.Model, d.User, d.Requests, d.USD).Scan(&out[i].Requests, &out[i].USD); err != nil {
			return nil, fmt.Errorf("add spend to %d accumulators: %w", len(ds), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("add spend to %d accumulators: %w", len(ds), err)
	}
	return out, nil
}

// Spends implements store.AlertStore.
func (s *Store) Spends(ctx context.Context, since time.Time) ([]store.Spend, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT project_id, period, start_ns, service, model, user_id, requests, usd
		FROM alert_spend WHERE start_ns >= ? ORDER BY project_id, period, start_ns, service, model, user_id`, since.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("list spend: %w", err)
	}
	defer rows.Close()
	var out []store.Spend
	for rows.Next() {
		var sp store.Spend
		var start int64
		if err := rows.Scan(&sp.ProjectID, &sp.Period, &start, &sp.Service, &sp.Model, &sp.User, &sp.Requests, &sp.USD); err != nil {
			return nil, fmt.Errorf("list spend: %w", err)
		}
		sp.Start = time.Unix(0, start).UTC()
		out = append(out, sp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list spend: %w", err)
	}
	return out, nil
}
