package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/use-lumina/lumina/internal/store"
)

// Conversations implements store.ConversationReader: one GROUP BY over the window's traces
// that have a session id (index traces_session), keyset-paginated on (last seen, session id).
func (s *Store) Conversations(ctx context.Context, q store.ConversationQuery) (store.ConversationPage, error) {
	limit := store.PageLimit(q.Limit)
	where, args := []string{"project_id = ?", "session_id <> ''"}, []any{q.ProjectID}
	if q.UserID != "" {
		where, args = append(where, "user_id = ?"), append(args, q.UserID)
	}
	if !q.Since.IsZero() {
		where, args = append(where, "start_time >= ?"), append(args, nanos(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "start_time < ?"), append(args, nanos(q.Until))
	}
	having := ""
	if q.Cursor != "" {
		c, err := store.DecodeConversationCursor(q.Cursor)
		if err != nil {
			return store.ConversationPage{}, fmt.Errorf("list conversations: %w", err)
		}
		having = " HAVING (MAX(start_time), session_id) < (?, ?)"
		args = append(args, c.LastSeen, c.SessionID)
	}
	query := `SELECT session_id, MAX(user_id), COUNT(DISTINCT NULLIF(user_id, '')), COUNT(*),
		SUM(status = 'error'), SUM(total_tokens), COALESCE(SUM(cost_usd), 0), SUM(unpriced_calls),
		MIN(start_time), MAX(start_time)
		FROM traces WHERE ` + strings.Join(where, " AND ") + ` GROUP BY session_id` + having +
		` ORDER BY MAX(start_time) DESC, session_id DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return store.ConversationPage{}, fmt.Errorf("list conversations: %w", err)
	}
	defer rows.Close()
	page := store.ConversationPage{Conversations: []store.Conversation{}}
	for rows.Next() {
		var ss store.Conversation
		var first, last int64
		if err := rows.Scan(&ss.SessionID, &ss.UserID, &ss.Users, &ss.Traces, &ss.Errors, &ss.TotalTokens,
			&ss.CostUSD, &ss.UnpricedCalls, &first, &last); err != nil {
			return store.ConversationPage{}, fmt.Errorf("list conversations: %w", err)
		}
		ss.FirstSeen, ss.LastSeen = fromNanos(first), fromNanos(last)
		page.Conversations = append(page.Conversations, ss)
	}
	if err := rows.Err(); err != nil {
		return store.ConversationPage{}, fmt.Errorf("list conversations: %w", err)
	}
	if len(page.Conversations) > limit {
		page.Conversations = page.Conversations[:limit]
		last := page.Conversations[limit-1]
		page.NextCursor = store.ConversationCursor{LastSeen: nanos(last.LastSeen), SessionID: last.SessionID}.Encode()
	}
	return page, nil
}
