package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/use-lumina/lumina/internal/cost"
	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// Pricing is what the price routes need of the cost engine.
type Pricing interface {
	Resolve(ctx context.Context, projectID, provider, model string) (cost.Resolution, error)
	Invalidate(projectID string)
	Table() *cost.Table
}

// RegisterPrices adds the price routes: custom prices per project, the built-in table, and
// an explanation of which price a provider and model resolve to.
func (s *Server) RegisterPrices(mux *http.ServeMux, prices store.PriceStore, pricing Pricing, now func() time.Time) {
	p := &priceRoutes{store: prices, pricing: pricing, now: now}
	mux.HandleFunc("GET /api/v1/prices", s.handle(p.list))
	mux.HandleFunc("POST /api/v1/prices", s.handle(p.create))
	mux.HandleFunc("DELETE /api/v1/prices/{id}", s.handle(p.delete))
	mux.HandleFunc("GET /api/v1/prices/resolve", s.handle(p.resolve))
}

type priceRoutes struct {
	store   store.PriceStore
	pricing Pricing
	now     func() time.Time
}

// maxPriceBody bounds a POST /api/v1/prices body.
const maxPriceBody = 64 << 10

func (p *priceRoutes) list(ctx context.Context, project string, r *http.Request) (any, error) {
	custom, err := p.store.Prices(ctx, project)
	if err != nil {
		return nil, err
	}
	out := struct {
		Custom  []genai.Price `json:"custom"`
		Builtin []genai.Price `json:"builtin,omitempty"`
		// BuiltinCount is the size of the built-in table; ?builtin=true&q=… lists matches.
		BuiltinCount int           `json:"builtin_count"`
		Sources      []cost.Source `json:"sources"`
	}{Custom: nonNil(custom), BuiltinCount: p.pricing.Table().Len(), Sources: p.pricing.Table().Sources()}
	if r.URL.Query().Get("builtin") == "true" {
		q := strings.ToLower(r.URL.Query().Get("q"))
		for _, price := range p.pricing.Table().Prices() {
			if q == "" || strings.Contains(strings.ToLower(price.Model), q) || strings.Contains(strings.ToLower(price.Provider), q) {
				out.Builtin = append(out.Builtin, price)
				if len(out.Builtin) == 500 {
					break
				}
			}
		}
	}
	return out, nil
}

func (p *priceRoutes) create(ctx context.Context, project string, r *http.Request) (any, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxPriceBody))
	if err != nil {
		return nil, errorf(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("price body over %d bytes", maxPriceBody))
	}
	var price genai.Price
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&price); err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid_body", "price JSON: "+err.Error())
	}
	if err := cost.ValidatePrice(price); err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid_price", err.Error())
	}
	if price.ID == "" {
		price.ID = "custom-" + uuid.Must(uuid.NewV7()).String()
	}
	price.ProjectID, price.Source, price.CreatedAt = project, "custom", p.now().UTC()
	if err := p.store.PutPrice(ctx, price); err != nil {
		return nil, err
	}
	p.pricing.Invalidate(project)
	return price, nil
}

func (p *priceRoutes) delete(ctx context.Context, project string, r *http.Request) (any, error) {
	id := r.PathValue("id")
	if err := p.store.DeletePrice(ctx, project, id); err != nil {
		return nil, err
	}
	p.pricing.Invalidate(project)
	return map[string]string{"deleted": id}, nil
}

func (p *priceRoutes) resolve(ctx context.Context, project string, r *http.Request) (any, error) {
	q := r.URL.Query()
	if q.Get("model") == "" {
		return nil, errorf(http.StatusBadRequest, "invalid_parameter", "model is required")
	}
	return p.pricing.Resolve(ctx, project, q.Get("provider"), q.Get("model"))
}
