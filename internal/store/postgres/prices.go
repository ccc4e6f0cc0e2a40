package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// Prices implements store.PriceStore.
func (s *Store) Prices(ctx context.Context, projectID string) ([]genai.Price, error) {
	rows, err := s.pool.Query(ctx, `SELECT doc FROM prices WHERE project_id = $1
		ORDER BY created_ns DESC, id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list prices of %s: %w", projectID, err)
	}
	prices, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (genai.Price, error) {
		var doc []byte
		var p genai.Price
		if err := r.Scan(&doc); err != nil {
			return p, err
		}
		return p, unmarshalJSON(doc, &p)
	})
	if err != nil {
		return nil, fmt.Errorf("list prices of %s: %w", projectID, err)
	}
	return prices, nil
}

// PutPrice implements store.PriceStore.
func (s *Store) PutPrice(ctx context.Context, p genai.Price) error {
	p.ProjectID, p.ID = clean(p.ProjectID), clean(p.ID)
	p.EffectiveFrom, p.CreatedAt = utc(p.EffectiveFrom), utc(p.CreatedAt)
	doc, err := marshalJSON(p)
	if err != nil {
		return fmt.Errorf("encode price %s: %w", p.ID, err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO prices (project_id, id, created_ns, doc)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (project_id, id) DO UPDATE SET created_ns = EXCLUDED.created_ns, doc = EXCLUDED.doc`,
		p.ProjectID, p.ID, toNS(p.CreatedAt), doc); err != nil {
		return fmt.Errorf("put price %s: %w", p.ID, err)
	}
	return nil
}

// DeletePrice implements store.PriceStore.
func (s *Store) DeletePrice(ctx context.Context, projectID, id string) error {
	tag, err := s.pool.Exec(ctx, "DELETE FROM prices WHERE project_id = $1 AND id = $2", projectID, id)
	if err != nil {
		return fmt.Errorf("delete price %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("price %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// UnpricedModels implements store.Analytics over the partial index of unpriced model calls.
func (s *Store) UnpricedModels(ctx context.Context, projectID string, since time.Time) ([]store.ModelCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT provider, model, count(*) FROM spans
		WHERE project_id = $1 AND start_ns >= $2
		  AND cost_usd IS NULL AND genai_type IN ('llm', 'embedding')
		GROUP BY provider, model
		ORDER BY count(*) DESC, provider, model`, projectID, toNS(since))
	if err != nil {
		return nil, fmt.Errorf("count unpriced models: %w", err)
	}
	counts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ModelCount, error) {
		var c store.ModelCount
		err := r.Scan(&c.Provider, &c.Model, &c.Count)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("count unpriced models: %w", err)
	}
	return counts, nil
}

// utc is t in UTC, keeping the zero time zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
