package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// PutBaselineParts implements store.AlertStore.
func (s *Store) PutBaselineParts(ctx context.Context, ps []store.BaselinePart) error {
	if len(ps) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("put %d baseline parts: %w", len(ps), err)
	}
	defer tx.Rollback()
	for _, p := range ps {
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_baseline_parts (project_id, service, endpoint, model, metric, owner, arrived_ns, updated_ns, state)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, service, endpoint, model, metric, owner)
			DO UPDATE SET arrived_ns = excluded.arrived_ns, updated_ns = excluded.updated_ns, state = excluded.state`,
			p.ProjectID, p.Service, p.Endpoint, p.Model, p.Metric, p.Owner, nanos(p.Arrived), nanos(p.UpdatedAt), p.State); err != nil {
			return fmt.Errorf("put %d baseline parts: %w", len(ps), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("put %d baseline parts: %w", len(ps), err)
	}
	return nil
}

// BaselineParts implements store.AlertStore.
func (s *Store) BaselineParts(ctx context.Context, since time.Time) ([]store.BaselinePart, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT project_id, service, endpoint, model, metric, owner, arrived_ns, updated_ns, state
		FROM alert_baseline_parts WHERE updated_ns >= ? ORDER BY project_id, service, endpoint, model, metric, owner`, nanos(since))
	if err != nil {
		return nil, fmt.Errorf("list baseline parts: %w", err)
	}
	defer rows.Close()
	var out []store.BaselinePart
	for rows.Next() {
		var p store.BaselinePart
		var arrived, updated int64
		if err := rows.Scan(&p.ProjectID, &p.Service, &p.Endpoint, &p.Model, &p.Metric, &p.Owner, &arrived, &updated, &p.State); err != nil {
			return nil, fmt.Errorf("list baseline parts: %w", err)
		}
		p.Arrived, p.UpdatedAt = fromNanos(arrived), fromNanos(updated)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list baseline parts: %w", err)
	}
	return out, nil
}
