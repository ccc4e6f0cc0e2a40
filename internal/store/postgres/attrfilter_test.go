package postgres

import (
	"testing"

	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/store/storetest"
)

// TestAttributeFiltersUnresolved runs the attribute filter tests with no match resolved to
// its traces ahead of the listing (every one has more than resolveTraces = 0), so each
// takes the subquery path, which the suite's small data never reaches otherwise.
func TestAttributeFiltersUnresolved(t *testing.T) {
	storetest.RunAttributeFilters(t, func(t *testing.T) store.Store {
		cfg := defaultConfig()
		cfg.resolveTraces = 0
		return openTemp(t, cfg)
	})
}
