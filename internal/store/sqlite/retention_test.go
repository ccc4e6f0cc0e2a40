package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// TestRetentionReclaimsSpace deletes most of a database after Vacuum switched it to
// incremental auto-vacuum and checks that the file gives the space back. It logs how long
// each step took (the figures docs/limits.md quotes); it asserts no timing.
func TestRetentionReclaimsSpace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lumina.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const traces, perTrace = 2000, 10
	payload := strings.Repeat("lorem ipsum ", 100)
	for b := 0; b < traces/200; b++ {
		var spans []genai.Span
		for tr := b * 200; tr < (b+1)*200; tr++ {
			start := old
			if tr%10 == 0 {
				start = old.AddDate(0, 1, 0) // one trace in ten is recent
			}
			for i := 0; i < perTrace; i++ {
				spans = append(spans, genai.Span{ProjectID: "p", TraceID: fmt.Sprintf("%032x", tr+1), SpanID: fmt.Sprintf("%016x", i+1),
					Name: "s", ServiceName: "svc", StartTime: start.Add(time.Duration(i) * time.Millisecond),
					EndTime: start.Add(time.Second), StatusCode: genai.StatusOK, Attributes: map[string]any{"payload": payload}})
			}
		}
		if err := s.Write(ctx, store.Batch{Spans: spans}); err != nil {
			t.Fatal(err)
		}
	}
	began := time.Now()
	if err := s.Vacuum(ctx); err != nil {
		t.Fatal(err)
	}
	vacuumed := time.Since(began)
	before := fileSize(t, path)
	began = time.Now()
	st, err := s.DeleteBefore(ctx, store.RetentionPolicy{Cutoff: old.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	deleted := time.Since(began)
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	after := fileSize(t, path)
	t.Logf("%d spans in %.1f MB: VACUUM %v; DeleteBefore of %d traces / %d spans in %d batches with incremental vacuum %v; reclaimed %.1f MB, file now %.1f MB",
		traces*perTrace, float64(before)/1e6, vacuumed, st.Traces, st.Spans, st.Batches, deleted, float64(st.ReclaimedBytes)/1e6, float64(after)/1e6)
	if st.Traces != traces*9/10 || st.Spans != traces*9/10*perTrace {
		t.Errorf("deleted %d traces and %d spans, want %d and %d", st.Traces, st.Spans, traces*9/10, traces*9/10*perTrace)
	}
	// The file itself shrinks once a checkpoint copies the truncation from the WAL, which
	// an active reader may postpone, so the test reads what SQLite reports.
	if st.ReclaimedBytes < before/2 {
		t.Errorf("reclaimed %d of %d bytes, want at least half (90%% of the rows were deleted)", st.ReclaimedBytes, before)
	}
	if free, err := s.FreeBytes(ctx); err != nil || free != 0 {
		t.Errorf("FreeBytes after incremental vacuum: got %d, %v, want 0", free, err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
