package postgres

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+2:])
	var u, s int64
	fmt.Sscan(f[11], &u)
	fmt.Sscan(f[12], &s)
	return time.Duration(u+s) * 10 * time.Millisecond
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(0, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var zzVariants = map[string][]string{
	"base":      nil,
	"lz4":       {"ALTER TABLE spans ALTER COLUMN attributes SET COMPRESSION lz4", "ALTER TABLE spans ALTER COLUMN genai SET COMPRESSION lz4", "ALTER TABLE spans ALTER COLUMN resource SET COMPRESSION lz4"},
	"noidx":     {"DROP INDEX spans_project_start", "DROP INDEX spans_counted", "DROP INDEX spans_model", "DROP INDEX spans_session", "DROP INDEX spans_user", "DROP INDEX spans_error", "DROP INDEX spans_unpriced"},
	"nocounted": {"DROP INDEX spans_counted"},
	"nosess":    {"DROP INDEX spans_session", "DROP INDEX spans_user"},
	"hybrid":    {"ALTER TABLE spans ALTER COLUMN genai TYPE json, ALTER COLUMN events TYPE json, ALTER COLUMN links TYPE json"},
	"hybridlz4":    {"ALTER TABLE spans ALTER COLUMN genai TYPE json, ALTER COLUMN events TYPE json, ALTER COLUMN links TYPE json", "ALTER TABLE spans ALTER COLUMN attributes SET COMPRESSION lz4, ALTER COLUMN genai SET COMPRESSION lz4"},
	"alljson":   {"ALTER TABLE spans ALTER COLUMN genai TYPE json, ALTER COLUMN events TYPE json, ALTER COLUMN links TYPE json, ALTER COLUMN attributes TYPE json, ALTER COLUMN resource TYPE json"},
}

func TestZZTiming(t *testing.T) {
	for _, name := range strings.Split(os.Getenv("ZZV"), ",") {
		dsn := tempSchema(t) + "&pool_max_conns=1"
		s, err := open(context.Background(), dsn, quietLogger(), defaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for _, q := range zzVariants[name] {
			if _, err := s.pool.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		var pid int
		s.pool.QueryRow(ctx, "select pg_backend_pid()").Scan(&pid)
		const n = 30
		_ = n
		bs := make([][]any, n)
		_ = bs
		pre := make([]store.Batch, n)
		for i := range pre {
			pre[i] = benchBatch(i+1, 1000, time.Now())
		}
		c0, g0, t0 := procCPU(pid), selfCPU(), time.Now()
		for i := 0; i < n; i++ {
			if err := s.Write(ctx, pre[i]); err != nil {
				t.Fatal(err)
			}
		}
		c1, g1, el := procCPU(pid), selfCPU(), time.Since(t0)
		t.Logf("%-10s backend CPU/batch %v, go CPU/batch %v, wall/batch %v", name, (c1-c0)/n, (g1-g0)/n, el/n)
		s.Close()
	}
}
