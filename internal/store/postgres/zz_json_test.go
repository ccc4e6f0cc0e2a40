package postgres

import (
	"context"
	"testing"
	"time"
)

func TestZZJSON(t *testing.T) {
	dsn := tempSchema(t) + "&pool_max_conns=1"
	s, err := open(context.Background(), dsn, quietLogger(), defaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var pid int
	s.pool.QueryRow(ctx, "select pg_backend_pid()").Scan(&pid)
	b := benchBatch(1, 1000, time.Now())
	rows, _ := newSpanRows(uniqueSpans(b.Spans), make([]bool, 1000))
	for _, q := range []string{
		"CREATE TABLE tj (a jsonb, g jsonb)", "CREATE TABLE tt (a json, g json)", "CREATE TABLE th (a jsonb, g json)",
		"CREATE TABLE tjl (a jsonb COMPRESSION lz4, g jsonb COMPRESSION lz4)", "CREATE TABLE ttl (a json COMPRESSION lz4, g json COMPRESSION lz4)",
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for round := 0; round < 2; round++ {
		for _, q := range []struct {
			name, sql string
		}{
			{"jsonb pglz", "INSERT INTO tj SELECT * FROM unnest($1::jsonb[], $2::jsonb[])"},
			{"json pglz", "INSERT INTO tt SELECT * FROM unnest($1::json[], $2::json[])"},
			{"jsonb/json", "INSERT INTO th SELECT * FROM unnest($1::jsonb[], $2::json[])"},
			{"jsonb lz4", "INSERT INTO tjl SELECT * FROM unnest($1::jsonb[], $2::jsonb[])"},
			{"json lz4", "INSERT INTO ttl SELECT * FROM unnest($1::json[], $2::json[])"},
			{"select jsonb", "SELECT count(*) FROM unnest($1::jsonb[], $2::jsonb[])"},
			{"select json", "SELECT count(*) FROM unnest($1::json[], $2::json[])"},
		} {
			c0 := procCPU(pid)
			t0 := time.Now()
			const n = 40
			for i := 0; i < n; i++ {
				if _, err := s.pool.Exec(ctx, q.sql, rows.attributes, rows.call); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("%-15s backend CPU/batch %v wall %v", q.name, (procCPU(pid)-c0)/n, time.Since(t0)/n)
		}
	}
}
