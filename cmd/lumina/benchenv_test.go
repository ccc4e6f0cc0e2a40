//go:build soak || alertbench

package main

import (
	"os"
	"strconv"
	"testing"
	"time"
)

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return d
}

func envFloat(t *testing.T, name string, def float64) float64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return f
}

// isolated is db with a schema of the test's own (dropped when it ends), so a benchmark on
// a shared PostgreSQL never meets the rows, rules or open alerts of an earlier run.
func isolated(t *testing.T, db string) string {
	t.Helper()
	t.Setenv("LUMINA_TEST_POSTGRES_URL", db)
	return pgSchema(t, "")
}
