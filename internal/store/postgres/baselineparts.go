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

// PutBaselineParts implements store.AlertStore.
func (s *Store) PutBaselineParts(ctx context.Context, ps []store.BaselinePart) error {
	if len(ps) == 0 {
		return nil
	}
	ps = slices.Clone(ps) // in key order, as PutBaselines, so writers never deadlock
	slices.SortFunc(ps, func(a, b store.BaselinePart) int {
		return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.Service, b.Service), cmp.Compare(a.Endpoint, b.Endpoint),
			cmp.Compare(a.Model, b.Model), cmp.Compare(a.Metric, b.Metric), cmp.Compare(a.Owner, b.Owner))
	})
	batch := &pgx.Batch{}
	for _, p := range ps {
		batch.Queue(`INSERT INTO alert_baseline_parts (project_id, service, endpoint, model, metric, owner, arrived_ns, updated_ns, state)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (project_id, service, endpoint, model, metric, owner)
			DO UPDATE SET arrived_ns = EXCLUDED.arrived_ns, updated_ns = EXCLUDED.updated_ns, state = EXCLUDED.state`,
			clean(p.ProjectID), clean(p.Service), clean(p.Endpoint), clean(p.Model), clean(p.Metric), clean(p.Owner),
			alertNS(p.Arrived), alertNS(p.UpdatedAt), p.State)
	}
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, batch).Close()
	}); err != nil {
		return fmt.Errorf("put %d baseline parts: %w", len(ps), err)
	}
	return nil
}

// BaselineParts implements store.AlertStore.
func (s *Store) BaselineParts(ctx context.Context, since time.Time) ([]store.BaselinePart, error) {
	rows, err := s.pool.Query(ctx, `SELECT project_id, service, endpoint, model, metric, owner, arrived_ns, updated_ns, state
		FROM alert_baseline_parts WHERE updated_ns >= $1 ORDER BY project_id, service, endpoint, model, metric, owner`, alertNS(since))
	if err != nil {
		return nil, fmt.Errorf("list baseline parts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.BaselinePart, error) {
		var p store.BaselinePart
		var arrived, updated int64
		err := r.Scan(&p.ProjectID, &p.Service, &p.Endpoint, &p.Model, &p.Metric, &p.Owner, &arrived, &updated, &p.State)
		p.Arrived, p.UpdatedAt = alertTime(arrived), alertTime(updated)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("list baseline parts: %w", err)
	}
	return out, nil
}
