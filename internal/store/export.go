package store

import (
	"context"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// UntracedLogQuery selects, for an export, the log records that no stored trace carries.
type UntracedLogQuery struct {
	ProjectID string
	Since     time.Time // inclusive; the zero time does not bound
	Until     time.Time // exclusive; the zero time does not bound
	// AfterTime and AfterID resume a listing after the last record of the previous page
	// (records are ordered by time, then id); an empty AfterID starts at the beginning.
	AfterTime time.Time
	AfterID   string
	Limit     int // 1..1000; backends treat 0 as 100
}

// UntracedLogReader lists the log records an export must carry on their own: those whose
// trace id names no stored trace of the project (no trace id at all, or a trace whose spans
// never arrived). Every other record comes with its trace from TraceReader.Trace, so the
// two together yield each stored record once.
type UntracedLogReader interface {
	// UntracedLogs lists up to q.Limit of the project's records matching q whose time is in
	// [q.Since, q.Until), ordered by time then id, starting after (q.AfterTime, q.AfterID).
	UntracedLogs(ctx context.Context, q UntracedLogQuery) ([]genai.LogRecord, error)
}
