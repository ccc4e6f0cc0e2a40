package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// Limits of a log listing.
const (
	defaultLogLimit = 100
	maxLogLimit     = 1000
)

// Logs lists the project's log records matching q, oldest first (ties by record id), at most
// q.Limit of them (100 when zero, 1000 at most).
func (s *Store) Logs(ctx context.Context, q store.LogQuery) ([]genai.LogRecord, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLogLimit
	}
	limit = min(limit, maxLogLimit)
	where := []string{"l.project_id = ?"}
	args := []any{q.ProjectID}
	if q.TraceID != "" {
		where, args = append(where, "l.trace_id = ?"), append(args, q.TraceID)
	}
	if q.SpanID != "" {
		where, args = append(where, "l.span_id = ?"), append(args, q.SpanID)
	}
	if q.Orphans {
		where = append(where, `l.genai = 1 AND NOT EXISTS (SELECT 1 FROM spans s
			WHERE s.project_id = l.project_id AND s.trace_id = l.trace_id AND s.span_id = l.span_id)`)
	}
	query := "SELECT " + prefixed("l.", logColumns) + " FROM logs l WHERE " + strings.Join(where, " AND ") +
		" ORDER BY l.time, l.id LIMIT ?"
	logs, err := queryLogs(ctx, s.r, query, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	return logs, nil
}

// querier is what log reads need from a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryLogs runs a SELECT of logColumns.
func queryLogs(ctx context.Context, db querier, query string, args ...any) ([]genai.LogRecord, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var logs []genai.LogRecord
	for rows.Next() {
		var (
			l                      genai.LogRecord
			t, observed, severity  int64
			body, attrs, res, msgs []byte
			output, genaiFlag      bool
		)
		if err := rows.Scan(&l.ProjectID, &l.ID, &l.TraceID, &l.SpanID, &t, &observed, &l.EventName,
			&l.SeverityText, &severity, &l.ServiceName, &l.ScopeName, &body, &attrs, &res, &msgs,
			&output, &genaiFlag); err != nil {
			return nil, fmt.Errorf("scan log record: %w", err)
		}
		l.Time, l.ObservedTime, l.SeverityNumber, l.Output = fromNanos(t), fromNanos(observed), int32(severity), output
		if err := decode(body, &l.Body, "log body"); err != nil {
			return nil, err
		}
		if err := decode(attrs, &l.Attributes, "log attributes"); err != nil {
			return nil, err
		}
		if err := decode(res, &l.Resource, "log resource"); err != nil {
			return nil, err
		}
		if err := decode(msgs, &l.Messages, "log messages"); err != nil {
			return nil, err
		}
		logs = append(logs, l)
	}
	return logs, rows.Err()
}
