// Package testenv gives integration tests the external services CI provides: PostgreSQL,
// Redis and NATS URLs from LUMINA_TEST_* variables. A test skips when its service is not
// configured, unless LUMINA_TEST_REQUIRE_SERVICES=1, when it fails instead.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
)

// Service variables.
const (
	PostgresURL = "LUMINA_TEST_POSTGRES_URL"
	RedisURL    = "LUMINA_TEST_REDIS_URL"
	NATSURL     = "LUMINA_TEST_NATS_URL"
)

// URL returns the value of the service variable, skipping or failing the test without it.
func URL(t testing.TB, variable string) string {
	t.Helper()
	v := os.Getenv(variable)
	if v == "" {
		if os.Getenv("LUMINA_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is not set and LUMINA_TEST_REQUIRE_SERVICES=1", variable)
		}
		t.Skipf("%s is not set", variable)
	}
	return v
}

// Name returns a unique lower-case name with the given prefix, for isolating a test's
// streams, schemas and key prefixes on shared services.
func Name(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
