package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/store/storetest"
)

// TestSearchProbe runs the text search tests with every term counted as common, so each
// listing takes the probe of the next traces (and, when it holds less than a page, the
// full match list after it), which the suite's small data never reaches otherwise.
func TestSearchProbe(t *testing.T) {
	storetest.RunSearch(t, func(t *testing.T) store.Store {
		s := openTemp(t)
		s.textCommon = 1
		return s
	})
}

func TestMatchExpr(t *testing.T) {
	got := matchExpr([]store.SearchTerm{{"refund"}, {"late", "delivery"}, {`a"b`}})
	if want := `"refund" "late delivery" "a""b"`; got != want {
		t.Errorf("matchExpr: got %s, want %s", got, want)
	}
}

// BenchmarkTextSearch lists the first page of text searches over 100,000 spans (80,000 LLM
// spans whose prompt says "customer"; one in 997 also says "zebra"): a common term takes
// the probe, a rare one the full match list.
func BenchmarkTextSearch(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	start := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	for seq := range 100 {
		batch := benchBatch(1000, seq*200, start)
		for i := range batch.Spans {
			if c := batch.Spans[i].GenAI; c != nil && c.Type == genai.TypeLLM && (seq*1000+i)%997 == 0 {
				c.OutputMessages = append(c.OutputMessages, genai.Message{Role: "assistant", Content: "zebra crossing"})
			}
		}
		if err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []store.TraceQuery{
		{Text: "zebra"}, {Text: "customer"}, {Text: "zebra customer"},
		{Text: "zebra", Service: "shop-assistant"}, {Text: "customer", Sort: store.SortDuration},
	} {
		q.ProjectID = "bench"
		b.Run(strings.ReplaceAll(q.Text, " ", "+")+"/"+q.Service+q.Sort, func(b *testing.B) {
			for b.Loop() {
				page, err := s.Traces(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Traces) == 0 {
					b.Fatal("no traces")
				}
			}
		})
	}
}

// TestTextIndexPageSize: the full-text index writes 16,000-byte leaves (migration 0900);
// with FTS5's 4 KB default its merges made writes 2.5× slower (BenchmarkWrite).
func TestTextIndexPageSize(t *testing.T) {
	s := openTemp(t)
	var pgsz int
	if err := s.r.QueryRow("SELECT v FROM span_text_config WHERE k = 'pgsz'").Scan(&pgsz); err != nil {
		t.Fatalf("read the index's pgsz: %v", err)
	}
	if pgsz != 16000 {
		t.Errorf("span_text pgsz = %d, want 16000", pgsz)
	}
}
