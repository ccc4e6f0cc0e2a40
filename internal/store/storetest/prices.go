package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

func testPrices(t *testing.T, s store.Store) {
	ctx := context.Background()
	list := func() []genai.Price {
		t.Helper()
		got, err := s.Prices(ctx, projectA)
		if err != nil {
			t.Fatalf("Prices: %v", err)
		}
		return got
	}
	if got := list(); len(got) != 0 {
		t.Fatalf("Prices of a new project: got %d, want 0", len(got))
	}
	full := genai.Price{
		ID: "price-full", ProjectID: projectA, Provider: "openai", Model: "gpt-4o", MatchType: "prefix",
		InputPerMTok: 2.5, OutputPerMTok: 10, CacheReadPerMTok: f64(1.25), CacheWritePerMTok: f64(3.75),
		CacheWrite1hPerMTok: f64(5), ReasoningPerMTok: f64(0),
		Tiers:         []genai.PriceTier{{AboveInputTokens: 128000, InputPerMTok: 5, OutputPerMTok: 20, CacheReadPerMTok: f64(2.5)}},
		EffectiveFrom: at(-24 * time.Hour), Source: "custom", CreatedAt: at(time.Second),
	}
	bare := genai.Price{ID: "price-bare", ProjectID: projectA, Model: "my-model", CreatedAt: at(2 * time.Second)}
	for _, p := range []genai.Price{full, bare} {
		if err := s.PutPrice(ctx, p); err != nil {
			t.Fatalf("PutPrice(%s): %v", p.ID, err)
		}
	}
	diff(t, "Prices (newest first)", list(), []genai.Price{bare, full})

	// Replacing keeps one row per id and takes every field from the new price.
	replaced := genai.Price{
		ID: "price-full", ProjectID: projectA, Model: "gpt-4o", InputPerMTok: 3, OutputPerMTok: 12,
		Source: "custom", CreatedAt: at(3 * time.Second),
	}
	if err := s.PutPrice(ctx, replaced); err != nil {
		t.Fatalf("PutPrice(replace): %v", err)
	}
	diff(t, "Prices after replace", list(), []genai.Price{replaced, bare})

	if err := s.DeletePrice(ctx, projectA, "price-bare"); err != nil {
		t.Fatalf("DeletePrice: %v", err)
	}
	diff(t, "Prices after delete", list(), []genai.Price{replaced})
	for _, tc := range []struct{ project, id string }{
		{projectA, "price-bare"},
		{projectA, "never-existed"},
		{projectB, "price-full"},
	} {
		if err := s.DeletePrice(ctx, tc.project, tc.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeletePrice(%s, %s): got %v, want ErrNotFound", tc.project, tc.id, err)
		}
	}
	diff(t, "Prices after failed deletes", list(), []genai.Price{replaced})
}

func testUnpricedModels(t *testing.T, s store.Store) {
	ctx := context.Background()
	mk := func(p string, tr, id int, provider, model string, cost *float64, start time.Duration) genai.Span {
		sp := llm(p, tr, id, 0, model, 10, 5, cost)
		sp.GenAI.Provider = provider
		sp.StartTime, sp.EndTime = at(start), at(start+time.Second)
		return sp
	}
	emb := mk(projectA, 1, 9, "voyage", "voyage-3", nil, time.Minute)
	emb.GenAI.Type, emb.GenAI.Operation = genai.TypeEmbedding, "embeddings"
	tool := span(projectA, 1, 10, 0, "execute_tool", time.Minute, time.Second)
	tool.GenAI = &genai.Call{Type: genai.TypeTool, Operation: "execute_tool", Cost: genai.Cost{Source: genai.CostUnpriced}}
	responseModel := mk(projectA, 1, 11, "acme", "acme-large", nil, time.Minute)
	responseModel.GenAI.ResponseModel = "acme-large-2026-01"
	write(t, s, []genai.Span{
		mk(projectA, 1, 1, "acme", "acme-large", nil, time.Minute),
		mk(projectA, 1, 2, "acme", "acme-large", nil, 2*time.Minute),
		mk(projectA, 2, 3, "acme", "acme-large", nil, 3*time.Minute),
		mk(projectA, 2, 4, "acme", "acme-small", nil, 3*time.Minute),
		mk(projectA, 2, 5, "other", "acme-small", nil, 3*time.Minute),
		mk(projectA, 2, 6, "openai", "gpt-4o", f64(0.1), 3*time.Minute),
		mk(projectA, 3, 7, "acme", "acme-large", nil, -time.Minute), // before since
		emb, tool, responseModel,
		mk(projectB, 1, 1, "acme", "acme-large", nil, time.Minute),
		mk(projectB, 1, 2, "acme", "acme-b", nil, time.Minute),
	})
	got, err := s.UnpricedModels(ctx, projectA, at(0))
	if err != nil {
		t.Fatalf("UnpricedModels: %v", err)
	}
	diff(t, "UnpricedModels", got, []store.ModelCount{
		{Provider: "acme", Model: "acme-large", Count: 3},
		{Provider: "acme", Model: "acme-large-2026-01", Count: 1},
		{Provider: "acme", Model: "acme-small", Count: 1},
		{Provider: "other", Model: "acme-small", Count: 1},
		{Provider: "voyage", Model: "voyage-3", Count: 1},
	})
	got, err = s.UnpricedModels(ctx, projectA, at(time.Hour))
	if err != nil {
		t.Fatalf("UnpricedModels(later): %v", err)
	}
	if len(got) != 0 {
		t.Errorf("UnpricedModels since a later time: got %+v, want none", got)
	}
}
