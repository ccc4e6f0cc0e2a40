package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// UntracedLogs implements store.UntracedLogReader, walking logs_time in (time, id) order.
func (s *Store) UntracedLogs(ctx context.Context, q store.UntracedLogQuery) ([]genai.LogRecord, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLogLimit
	}
	limit = min(limit, maxLogLimit)
	where := []string{"l.project_id = ?", `NOT EXISTS (SELECT 1 FROM traces t
		WHERE t.project_id = l.project_id AND t.trace_id = l.trace_id)`}
	args := []any{q.ProjectID}
	if !q.Since.IsZero() {
		where, args = append(where, "l.time >= ?"), append(args, nanos(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "l.time < ?"), append(args, nanos(q.Until))
	}
	if q.AfterID != "" {
		where, args = append(where, "(l.time, l.id) > (?, ?)"), append(args, nanos(q.AfterTime), q.AfterID)
	}
	query := "SELECT " + prefixed("l.", logColumns) + " FROM logs l WHERE " + strings.Join(where, " AND ") +
		" ORDER BY l.time, l.id LIMIT ?"
	logs, err := queryLogs(ctx, s.r, query, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list untraced logs: %w", err)
	}
	return logs, nil
}
