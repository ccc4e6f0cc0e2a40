package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// llmSpan is an LLM span of trace n whose prompt is text.
func llmSpan(n int, text string) genai.Span {
	s := testSpan("p", n)
	s.GenAI = &genai.Call{Type: genai.TypeLLM, Operation: "chat", Provider: "openai", RequestModel: "gpt-4o",
		InputMessages: []genai.Message{{Role: "user", Content: text}}}
	return s
}

// searchTraces is the ids of the traces of project p whose spans match text.
func searchTraces(t *testing.T, s *Store, text string) []string {
	t.Helper()
	page, err := s.Traces(context.Background(), store.TraceQuery{ProjectID: "p", Text: text, Limit: 100})
	if err != nil {
		t.Fatalf("search %q: %v", text, err)
	}
	var ids []string
	for _, tr := range page.Traces {
		ids = append(ids, tr.TraceID)
	}
	return ids
}

func write(t *testing.T, s *Store, spans ...genai.Span) {
	t.Helper()
	if err := s.Write(context.Background(), store.Batch{Spans: spans}); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func queueLen(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.r.QueryRow("SELECT count(*) FROM span_text_queue").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestQueuedTextOutlivesTheIndexer: what a write queued for the index and the indexer did
// not apply (it stopped, as in a crash) is applied by the next process; and the rows
// applied leave the queue.
func TestQueuedTextOutlivesTheIndexer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lumina.db")
	s1 := openAt(t, path)
	defer s1.Close()
	s1.ix.stop()
	write(t, s1, llmSpan(1, "where is my parcel"))
	if n := queueLen(t, s1); n != 1 {
		t.Fatalf("queue after the write: %d rows, want 1", n)
	}

	s2 := openAt(t, path) // the next process, s1 not closed
	defer s2.Close()
	if got := searchTraces(t, s2, "parcel"); len(got) != 1 || got[0] != testSpan("p", 1).TraceID {
		t.Errorf("search after the restart: got %v, want trace 1", got)
	}
	if n := s2.ix.readBackCount(); n != 1 {
		t.Errorf("texts read back from the spans: %d, want 1", n)
	}
	write(t, s2, llmSpan(2, "refund please"))
	if got := searchTraces(t, s2, "refund"); len(got) != 1 {
		t.Errorf("search for the second write: got %v, want trace 2", got)
	}
	write(t, s2, testSpan("p", 3)) // this write deletes what the index has applied
	if n := queueLen(t, s2); n != 0 {
		t.Errorf("queue after a write that followed the index: %d rows, want 0", n)
	}
}

// TestHandedTextsFindTheirSpans: the texts a write hands the indexer go to the spans that
// queued them, in a batch whose spans arrive out of trace order and mix documents with
// removals; none is read back from the spans.
func TestHandedTextsFindTheirSpans(t *testing.T) {
	s := openTemp(t)
	word := func(n int) string { return "word" + string(rune('a'+n)) }
	var spans []genai.Span
	for n := range 12 {
		sp := llmSpan(n%4, word(n))
		sp.SpanID = fmt.Sprintf("%016x", 100+n)
		spans = append(spans, sp)
	}
	write(t, s, spans...)
	if got := searchTraces(t, s, word(1)); len(got) != 1 { // the index is idle before the next write
		t.Fatalf("search for span 1: got %v, want trace 1", got)
	}
	// Trace 0's spans lose their text (a removal each), the others are written again with
	// new words, in one batch.
	for i := range spans {
		if i%4 == 0 {
			spans[i].GenAI.InputMessages = nil
		} else {
			spans[i].GenAI.InputMessages[0].Content = word(i) + " again" + word(i)
		}
	}
	write(t, s, spans...)
	for i := range spans {
		want := 1
		if i%4 == 0 {
			want = 0
		}
		got := searchTraces(t, s, "again"+word(i))
		if len(got) != want || want == 1 && got[0] != spans[i].TraceID {
			t.Errorf("span %d: search found %v, want %d trace(s) (%s)", i, got, want, spans[i].TraceID)
		}
		if got := searchTraces(t, s, word(i)); len(got) != want {
			t.Errorf("span %d: search for its first word found %v, want %d", i, got, want)
		}
	}
	if n := s.ix.readBackCount(); n != 0 {
		t.Errorf("texts read back from the spans: %d, want 0", n)
	}
}

// TestLostSearchIndexIsRebuilt: with the search database gone, Open indexes the stored
// spans from their own text; a span whose call cannot be decoded is left out, not the rest.
func TestLostSearchIndexIsRebuilt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lumina.db")
	s := openAt(t, path)
	write(t, s, llmSpan(1, "where is my parcel"), llmSpan(2, "parcel lost again"), testSpan("p", 3),
		llmSpan(4, "parcel broken"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	removeSearchFiles(t, path)
	execClosed(t, path, "UPDATE spans SET genai = '{' WHERE trace_id = ?", testSpan("p", 4).TraceID)

	s = openAt(t, path)
	defer s.Close()
	if got := searchTraces(t, s, "parcel"); len(got) != 2 {
		t.Errorf("search after the rebuild: got %v, want traces 1 and 2", got)
	}
	if got := searchTraces(t, s, "lost again"); len(got) != 1 || got[0] != testSpan("p", 2).TraceID {
		t.Errorf("phrase search after the rebuild: got %v, want trace 2", got)
	}
}

// TestRestoredDatabaseRebuildsTheIndex: a main file restored from an older copy, beside a
// search database that indexed spans written after it, gets a new index. Without, the
// newer documents would match whatever spans take their rowids next.
func TestRestoredDatabaseRebuildsTheIndex(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lumina.db")
	s := openAt(t, path)
	write(t, s, llmSpan(1, "where is my parcel"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	backup := copyFile(t, path, filepath.Join(dir, "backup.db"))

	s = openAt(t, path)
	write(t, s, llmSpan(2, "zebra crossing"))
	if got := searchTraces(t, s, "zebra"); len(got) != 1 { // indexed before the restore
		t.Fatalf("search before the restore: got %v, want trace 2", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	copyFile(t, backup, path) // the restore, without the search database

	s = openAt(t, path)
	defer s.Close()
	write(t, s, testSpan("p", 4)) // takes the rowid trace 2's span had
	if got := searchTraces(t, s, "zebra"); len(got) != 0 {
		t.Errorf("search for a span the restored file does not hold: got %v, want none", got)
	}
	if got := searchTraces(t, s, "parcel"); len(got) != 1 {
		t.Errorf("search for the restored span: got %v, want trace 1", got)
	}
}

// TestMigrateSpanTextQueue upgrades a file as 0900 left it, its index inside it: 0910
// drops that index and Open builds the search database from the stored spans.
func TestMigrateSpanTextQueue(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lumina.db")
	s := openAt(t, path)
	write(t, s, llmSpan(1, "where is my parcel"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	removeSearchFiles(t, path)
	// Back to 0900's schema: 0910's changes undone, the index of 0700 and 0900 made again.
	execClosed(t, path, `DROP TRIGGER span_text_delete; DROP TRIGGER span_text_retype;
		DROP TABLE span_text_queue; DELETE FROM schema_migrations WHERE version IN (700, 900, 910)`)
	db, err := openDB(path, roleWriter, options{})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.version == 700 || m.version == 900 {
			if _, err := applyMigration(ctx, db, m); err != nil {
				t.Fatalf("migration %d: %v", m.version, err)
			}
		}
	}
	db.Close()

	s = openAt(t, path) // applies 0910
	defer s.Close()
	if got := searchTraces(t, s, "parcel"); len(got) != 1 {
		t.Errorf("search after the upgrade: got %v, want trace 1", got)
	}
	var old int
	if err := s.r.QueryRow("SELECT count(*) FROM main.sqlite_master WHERE type = 'table' AND name LIKE 'span_text%' AND name <> 'span_text_queue'").Scan(&old); err != nil || old != 0 {
		t.Errorf("main file: %d span_text tables left, %v; want the old index dropped", old, err)
	}
}

// TestSearchWaitsForTheIndex: a search right after a write sees it, though the index is
// written by another connection after the write returns.
func TestSearchWaitsForTheIndex(t *testing.T) {
	s := openTemp(t)
	for n := range 20 {
		write(t, s, llmSpan(n, "parcel number "+string(rune('a'+n))))
		if got := searchTraces(t, s, "parcel"); len(got) != n+1 {
			t.Fatalf("after write %d: search found %d traces, want %d", n+1, len(got), n+1)
		}
	}
	// A search does not wait for a backlog beyond searchWaitBacklog (a rebuild): it
	// returns what is indexed.
	start := time.Now()
	s.ix.waitFor(context.Background(), s.ix.appliedID()+searchWaitBacklog+1)
	if d := time.Since(start); d >= searchWait {
		t.Errorf("waitFor a backlog of %d rows took %v, want no wait", searchWaitBacklog+1, d)
	}
}

// execClosed runs query on the closed database at path, through a connection of its own.
func execClosed(t *testing.T, path, query string, args ...any) {
	t.Helper()
	db, err := openDB(path, roleWriter, options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}

func removeSearchFiles(t testing.TB, path string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(searchPath(path) + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

// copyFile copies the closed database at from to to, and returns to.
func copyFile(t *testing.T, from, to string) string {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(from + "-wal"); err == nil {
		t.Fatalf("%s has a WAL after Close", from)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return to
}
