package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// Prices lists the project's custom prices, newest first (by CreatedAt, then id).
func (s *Store) Prices(ctx context.Context, projectID string) ([]genai.Price, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT created_at, effective_from, price FROM prices
		WHERE project_id = ? ORDER BY created_at DESC, id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list prices of %s: %w", projectID, err)
	}
	defer rows.Close()
	var prices []genai.Price
	for rows.Next() {
		var (
			created, effective int64
			body               []byte
			p                  genai.Price
		)
		if err := rows.Scan(&created, &effective, &body); err != nil {
			return nil, fmt.Errorf("list prices of %s: %w", projectID, err)
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, fmt.Errorf("list prices of %s: decode price: %w", projectID, err)
		}
		p.ProjectID, p.CreatedAt, p.EffectiveFrom = projectID, fromNanos(created), fromNanos(effective)
		prices = append(prices, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list prices of %s: %w", projectID, err)
	}
	return prices, nil
}

// PutPrice creates or replaces the price with p.ID in p.ProjectID.
func (s *Store) PutPrice(ctx context.Context, p genai.Price) error {
	if p.ID == "" || p.ProjectID == "" {
		return fmt.Errorf("put price %q: a custom price needs an id and a project", p.ID)
	}
	project, created, effective := p.ProjectID, nanos(p.CreatedAt), nanos(p.EffectiveFrom)
	// Times and the project live in their own columns; the JSON holds the rest.
	p.ProjectID, p.CreatedAt, p.EffectiveFrom = "", time.Time{}, time.Time{}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("put price %q: encode: %w", p.ID, err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO prices (project_id, id, created_at, effective_from, price)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (project_id, id) DO UPDATE SET
		created_at = excluded.created_at, effective_from = excluded.effective_from, price = excluded.price`,
		project, p.ID, created, effective, string(body)); err != nil {
		return fmt.Errorf("put price %q: %w", p.ID, err)
	}
	return nil
}

// DeletePrice removes a custom price; ErrNotFound when the project has no such price.
func (s *Store) DeletePrice(ctx context.Context, projectID, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM prices WHERE project_id = ? AND id = ?`, projectID, id)
	if err != nil {
		return fmt.Errorf("delete price %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete price %q: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("delete price %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// UnpricedModels counts the project's model-call spans (LLM and embedding) started at or
// after since whose cost is unpriced, per provider and model (the response model when
// known), most frequent first, then by provider and model.
func (s *Store) UnpricedModels(ctx context.Context, projectID string, since time.Time) ([]store.ModelCount, error) {
	// The literal 'unpriced' lets SQLite use the partial index spans_unpriced.
	rows, err := s.r.QueryContext(ctx, `SELECT provider, model, count(*) AS n FROM spans
		WHERE project_id = ? AND cost_source = 'unpriced' AND start_time >= ?
		AND genai_type IN (?, ?)
		GROUP BY provider, model ORDER BY n DESC, provider, model`,
		projectID, nanos(since), genai.TypeLLM, genai.TypeEmbedding)
	if err != nil {
		return nil, fmt.Errorf("count unpriced models: %w", err)
	}
	defer rows.Close()
	var out []store.ModelCount
	for rows.Next() {
		var m store.ModelCount
		if err := rows.Scan(&m.Provider, &m.Model, &m.Count); err != nil {
			return nil, fmt.Errorf("count unpriced models: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count unpriced models: %w", err)
	}
	return out, nil
}
