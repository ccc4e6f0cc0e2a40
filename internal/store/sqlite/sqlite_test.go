package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/store/storetest"
)

// openTemp opens a store in a fresh directory that the test removes.
func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "lumina.db"), nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// TestConformancePrepared runs the contract with every batch encoded by Prepare before its
// Write, as the worker does (store.Preparer): in two parts, prepared one by one and joined.
func TestConformancePrepared(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return preparing{openTemp(t)} })
}

// preparing is a Store whose Write prepares the batch first, in two parts that it joins.
type preparing struct{ *Store }

func (p preparing) Write(ctx context.Context, b store.Batch) error {
	half := func(i int) store.Batch {
		s, l := len(b.Spans)/2, len(b.Logs)/2
		if i == 0 {
			return store.Batch{Spans: b.Spans[:s], Logs: b.Logs[:l]}
		}
		return store.Batch{Spans: b.Spans[s:], Logs: b.Logs[l:]}
	}
	parts := []store.Batch{half(0), half(1)}
	for i := range parts {
		p.Prepare(&parts[i])
	}
	b = p.Join(parts)
	if _, ok := b.Prepared.(*prepared); !ok {
		return fmt.Errorf("Join left %T, want *prepared", b.Prepared)
	}
	return p.Store.Write(ctx, b)
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lumina.db")
	want := testSpan("a", 1)
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Write(ctx, store.Batch{Spans: []genai.Span{want}}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i := range 2 {
		s := openAt(t, path)
		d, err := s.Trace(ctx, "a", want.TraceID)
		if err != nil {
			t.Fatalf("reopen %d: Trace: %v", i+1, err)
		}
		if len(d.Spans) != 1 || d.Spans[0].Name != want.Name || !d.Spans[0].StartTime.Equal(want.StartTime) {
			t.Errorf("reopen %d: got spans %+v, want the one written", i+1, d.Spans)
		}
		ms, err := migrations(migrationFiles)
		if err != nil {
			t.Fatal(err)
		}
		var n, max int
		if err := s.r.QueryRow("SELECT count(*), max(version) FROM schema_migrations").Scan(&n, &max); err != nil {
			t.Fatalf("read schema_migrations: %v", err)
		}
		if n != len(ms) || max != ms[len(ms)-1].version {
			t.Errorf("reopen %d: schema_migrations has %d rows up to %d, want %d up to %d", i+1, n, max, len(ms), ms[len(ms)-1].version)
		}
		if applied, err := migrate(ctx, s.w); err != nil || applied != 0 {
			t.Errorf("migrate again: got %d applied, %v, want 0, nil", applied, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

// openAt opens the store at path without registering a Close.
func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

// testSpan is a minimal root span of trace n.
func testSpan(project string, n int) genai.Span {
	start := time.Date(2026, 3, 14, 9, 0, 0, 123, time.UTC)
	return genai.Span{
		ProjectID: project, TraceID: fmt.Sprintf("%032x", n), SpanID: fmt.Sprintf("%016x", n),
		Name: "root", ServiceName: "svc", StartTime: start, EndTime: start.Add(time.Second),
		StatusCode: genai.StatusOK,
	}
}

func TestMigrationFiles(t *testing.T) {
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr bool
	}{
		{"ordered by number", fstest.MapFS{
			"migrations/0010_c.sql": {Data: []byte("SELECT 3")},
			"migrations/0002_b.sql": {Data: []byte("SELECT 2")},
			"migrations/0001_a.sql": {Data: []byte("SELECT 1")},
		}, []int{1, 2, 10}, false},
		{"no number", fstest.MapFS{"migrations/init.sql": {}}, nil, true},
		{"not sql", fstest.MapFS{"migrations/0001_a.txt": {}}, nil, true},
		{"zero", fstest.MapFS{"migrations/0000_a.sql": {}}, nil, true},
		{"duplicate version", fstest.MapFS{"migrations/0001_a.sql": {}, "migrations/01_b.sql": {}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := migrations(tt.files)
			if (err != nil) != tt.wantErr {
				t.Fatalf("migrations: got error %v, want error %v", err, tt.wantErr)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.version)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("versions: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConnectionSettings(t *testing.T) {
	s := openTemp(t)
	for _, tt := range []struct {
		db     *sql.DB
		pragma string
		want   string
	}{
		{s.w, "journal_mode", "wal"},
		{s.w, "synchronous", "1"}, // NORMAL
		{s.w, "page_size", "4096"},
		{s.w, "busy_timeout", fmt.Sprint(busyTimeoutMS)},
		{s.w, "query_only", "0"},
		{s.r, "journal_mode", "wal"},
		{s.r, "query_only", "1"},
		{s.r, "busy_timeout", fmt.Sprint(busyTimeoutMS)},
	} {
		var got string
		if err := tt.db.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s: got %s, want %s", tt.pragma, got, tt.want)
		}
	}
	if _, err := s.r.Exec("DELETE FROM spans"); err == nil {
		t.Errorf("write through the read pool: got nil error, want a query_only failure")
	}
	if got := s.w.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer MaxOpenConnections: got %d, want 1", got)
	}

	full, err := Open(context.Background(), filepath.Join(t.TempDir(), "full.db"), nil, WithFullSync())
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	for name, db := range map[string]*sql.DB{"writer": full.w, "reader": full.r} {
		var got string
		if err := db.QueryRow("PRAGMA synchronous").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != "2" {
			t.Errorf("WithFullSync: %s's PRAGMA synchronous = %s, want 2 (FULL)", name, got)
		}
	}
}

// TestQuietStoreReachesTheDatabaseFile: with synchronous=NORMAL a commit is on disk once a
// checkpoint has copied it from the WAL into the database file, fsyncing the WAL first, so a
// small write on a quiet store (far below the checkpointer's byte threshold) must still
// reach the file within a few sync intervals.
func TestQuietStoreReachesTheDatabaseFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lumina.db")
	s := openAt(t, path)
	defer s.Close()
	sp := testSpan("a", 1)
	sp.Name = "marker-span-name-3f9c1e"
	if err := s.Write(ctx, store.Batch{Spans: []genai.Span{sp}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * syncInterval)
	for {
		b, err := os.ReadFile(path) // the database file alone, not the WAL beside it
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(sp.Name)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the span written is not in the database file after %s: no checkpoint ran", 5*syncInterval)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSteadyWritesRestartTheWAL writes batches back to back with short pauses, the way the
// worker commits under steady load, far more WAL than the backstop's 64 MB in all. The
// checkpointer's passes meet commits; its later passes, each run while the writer is idle,
// and when they all meet commits too its pass with writes held off, must complete one that
// lets the WAL restart from its beginning, so the WAL file never reaches the backstop (with
// a single pass, which a commit nearly always overlaps, it grew to the backstop every run,
// and the writer's own checkpoint ran inside a commit; without the held-off pass it did so
// in 6 of 6 runs beside three busy loops).
func TestSteadyWritesRestartTheWAL(t *testing.T) {
	if testing.Short() {
		t.Skip("writes about 100 MB of WAL")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lumina.db")
	s := openAt(t, path)
	defer s.Close()
	start := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	var largest int64
	for seq := range 120 {
		if err := s.Write(ctx, benchBatch(100, seq*100, start)); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path + "-wal"); err == nil {
			largest = max(largest, fi.Size())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// 9 MB on a quiet machine, 16–34 MB with both cores busy elsewhere.
	if limit := int64(backstopPages) * 4096 * 3 / 4; largest > limit {
		t.Errorf("the WAL grew to %d MB under steady writes, want under %d MB (three quarters of the backstop)", largest>>20, limit>>20)
	}
}

func TestReadsDoNotWaitForTheWriter(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if err := s.Write(ctx, store.Batch{Spans: []genai.Span{testSpan("a", 1)}}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	// Hold the write lock with an uncommitted change, as a long batch would.
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("DELETE FROM traces"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	// Reads see the last commit and do not wait; the deadline only turns a hang into a failure.
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	page, err := s.Traces(rctx, store.TraceQuery{ProjectID: "a"})
	if err != nil {
		t.Fatalf("Traces during a write: %v", err)
	}
	if len(page.Traces) != 1 {
		t.Errorf("Traces during a write: got %d traces, want the 1 committed", len(page.Traces))
	}
}

func TestWriteIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	// Break the last step of a write, the model index, after the spans went in.
	if _, err := s.w.Exec("DROP TABLE trace_models"); err != nil {
		t.Fatalf("drop: %v", err)
	}
	sp := testSpan("a", 1)
	sp.GenAI = &genai.Call{Type: genai.TypeLLM, RequestModel: "gpt-4o"}
	err := s.Write(ctx, store.Batch{Spans: []genai.Span{sp}, Logs: []genai.LogRecord{{ProjectID: "a", ID: "l1", TraceID: sp.TraceID}}})
	if err == nil {
		t.Fatalf("Write with a broken schema: got nil error, want one")
	}
	for _, table := range []string{"spans", "traces", "trace_services", "logs"} {
		var n int
		if err := s.r.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		if n != 0 {
			t.Errorf("%s after a failed write: got %d rows, want 0", table, n)
		}
	}
}

func TestWriteRejectsUnencodableBatch(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	good, bad := testSpan("a", 1), testSpan("a", 2)
	bad.Attributes = map[string]any{"x": make(chan int)} // no JSON form
	err := s.Write(ctx, store.Batch{Spans: []genai.Span{good, bad}})
	if err == nil || !strings.Contains(err.Error(), bad.SpanID) {
		t.Fatalf("Write with an unencodable attribute: got %v, want an error naming span %s", err, bad.SpanID)
	}
	page, err := s.Traces(ctx, store.TraceQuery{ProjectID: "a"})
	if err != nil || len(page.Traces) != 0 {
		t.Errorf("Traces after the failed write: got %d traces, %v, want 0, nil", len(page.Traces), err)
	}
}

func TestQueryPlansUseIndexes(t *testing.T) {
	s := openTemp(t)
	tests := []struct {
		name, query, want string
	}{
		{"listing by start time", "SELECT * FROM traces t WHERE t.project_id = 'p' AND (t.start_time, t.trace_id) < (1, 'x') ORDER BY t.start_time DESC, t.trace_id DESC LIMIT 51", "traces_start"},
		{"listing by duration", "SELECT * FROM traces t WHERE t.project_id = 'p' ORDER BY t.duration, t.trace_id LIMIT 51", "traces_duration"},
		{"listing by service", "SELECT t.* FROM trace_services x CROSS JOIN traces t ON t.project_id = x.project_id AND t.trace_id = x.trace_id WHERE x.project_id = 'p' AND x.service_name = 's' AND (x.start_time, x.trace_id) < (1, 'x') ORDER BY x.start_time DESC, x.trace_id DESC LIMIT 51", "USING PRIMARY KEY (project_id=? AND service_name=? AND (start_time,trace_id)<(?,?))"},
		{"listing by model", "SELECT t.* FROM trace_models x CROSS JOIN traces t ON t.project_id = x.project_id AND t.trace_id = x.trace_id WHERE x.project_id = 'p' AND x.model = 'm' ORDER BY x.start_time, x.trace_id LIMIT 51", "USING PRIMARY KEY (project_id=? AND model=?)"},
		{"listing by status", "SELECT * FROM traces t WHERE t.project_id = 'p' AND t.status = 'error' ORDER BY t.start_time DESC, t.trace_id DESC LIMIT 51", "traces_status"},
		{"listing by name", "SELECT * FROM traces t WHERE t.project_id = 'p' AND t.name = 'GET /' ORDER BY t.start_time DESC, t.trace_id DESC LIMIT 51", "traces_name"},
		{"service test per trace", "SELECT 1 FROM trace_services x WHERE x.project_id = 'p' AND x.service_name = 's' AND x.start_time = 1 AND x.trace_id = 't'", "PRIMARY KEY (project_id=? AND service_name=? AND start_time=? AND trace_id=?)"},
		{"stored traces of a batch", "SELECT trace_id FROM traces WHERE project_id = 'p' AND trace_id IN (SELECT value FROM json_each('[\"t\"]'))", "traces_key"},
		{"span summaries of a trace", "SELECT * FROM spans WHERE project_id = 'p' AND trace_id = 't' ORDER BY span_id", "spans_key"},
		{"spans of a trace", "SELECT * FROM spans INDEXED BY spans_key WHERE project_id = 'p' AND trace_id = 't' ORDER BY start_time, span_id", "spans_key"},
		{"orphan logs", "SELECT * FROM logs l WHERE l.project_id = 'p' AND l.genai = 1 ORDER BY l.time", "logs_genai"},
		{"the search index's queue", "SELECT id, span, body FROM span_text_queue WHERE id > 5 ORDER BY id LIMIT 1024", "INTEGER PRIMARY KEY (rowid>?)"},
		{"unpriced models", "SELECT provider, model, count(*) FROM spans WHERE project_id = 'p' AND cost_source = 'unpriced' AND start_time >= 0 GROUP BY provider, model", "spans_unpriced"},
	}
	for _, tt := range tests {
		rows, err := s.r.Query("EXPLAIN QUERY PLAN " + tt.query)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if got := strings.Join(plan, "; "); !strings.Contains(got, tt.want) || strings.HasPrefix(got, "SCAN") {
			t.Errorf("%s: got plan %q, want a search using %s", tt.name, got, tt.want)
		}
	}
}
