package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// runExportTests checks what `lumina export` reads beside traces: the log records no
// stored trace carries, by time window, one keyset page at a time.
func runExportTests(t *testing.T, open Opener) {
	t.Run("UntracedLogs", func(t *testing.T) { testUntracedLogs(t, open(t)) })
}

func testUntracedLogs(t *testing.T, s store.Store) {
	ctx := context.Background()
	r, ok := s.(store.UntracedLogReader)
	if !ok {
		t.Fatalf("%T does not implement store.UntracedLogReader", s)
	}
	traced := plainLog(projectA, 1, 1, "traced", 10*time.Millisecond) // trace 1 is stored
	orphan := eventLog(projectA, 2, 7, "orphan", 20*time.Millisecond) // trace 2 never arrives
	bare := plainLog(projectA, 0, 0, "bare", 30*time.Millisecond)     // names no trace
	tie := plainLog(projectA, 0, 0, "bare2", 30*time.Millisecond)     // same time as bare
	late := plainLog(projectA, 0, 0, "late", time.Hour)
	other := plainLog(projectB, 0, 0, "other", 30*time.Millisecond)
	write(t, s, []genai.Span{span(projectA, 1, 1, 0, "root", 0, time.Second)}, traced, orphan, bare, tie, late, other)

	all := []genai.LogRecord{orphan, bare, tie, late}
	tests := []struct {
		name string
		q    store.UntracedLogQuery
		want []genai.LogRecord
	}{
		{"everything", store.UntracedLogQuery{}, all},
		{"since inclusive", store.UntracedLogQuery{Since: at(30 * time.Millisecond)}, []genai.LogRecord{bare, tie, late}},
		{"until exclusive", store.UntracedLogQuery{Until: at(30 * time.Millisecond)}, []genai.LogRecord{orphan}},
		{"window", store.UntracedLogQuery{Since: at(15 * time.Millisecond), Until: at(time.Minute)}, []genai.LogRecord{orphan, bare, tie}},
		{"first page", store.UntracedLogQuery{Limit: 2}, []genai.LogRecord{orphan, bare}},
		{"after a tie", store.UntracedLogQuery{AfterTime: bare.Time, AfterID: bare.ID, Limit: 2}, []genai.LogRecord{tie, late}},
		{"after the last", store.UntracedLogQuery{AfterTime: late.Time, AfterID: late.ID}, nil},
		{"other project", store.UntracedLogQuery{ProjectID: projectB}, []genai.LogRecord{other}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			if q.ProjectID == "" {
				q.ProjectID = projectA
			}
			got, err := r.UntracedLogs(ctx, q)
			if err != nil {
				t.Fatalf("UntracedLogs: %v", err)
			}
			if len(got) == 0 {
				got = nil
			}
			diff(t, "UntracedLogs", got, tt.want)
		})
	}
}
