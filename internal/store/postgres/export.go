package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// maxUntracedLogs bounds one page of UntracedLogs.
const maxUntracedLogs = 1000

// UntracedLogs implements store.UntracedLogReader, walking logs_time in (time, id) order.
func (s *Store) UntracedLogs(ctx context.Context, q store.UntracedLogQuery) ([]genai.LogRecord, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLogLimit
	}
	limit = min(limit, maxUntracedLogs)
	where := []string{"l.project_id = $1", `NOT EXISTS (SELECT 1 FROM traces t
		WHERE t.project_id = l.project_id AND t.trace_id = l.trace_id)`}
	args := []any{q.ProjectID}
	arg := binder(&args)
	if !q.Since.IsZero() {
		where = append(where, "l.time_ns >= "+arg(toNS(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, "l.time_ns < "+arg(toNS(q.Until)))
	}
	if q.AfterID != "" {
		where = append(where, "(l.time_ns, l.id) > ("+arg(toNS(q.AfterTime))+", "+arg(q.AfterID)+")")
	}
	sql := fmt.Sprintf("SELECT %s FROM logs l WHERE %s ORDER BY l.time_ns, l.id LIMIT %d",
		logReadColumns, strings.Join(where, " AND "), limit)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list untraced logs: %w", err)
	}
	logs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (genai.LogRecord, error) { return scanLog(r) })
	if err != nil {
		return nil, fmt.Errorf("list untraced logs: %w", err)
	}
	return logs, nil
}
