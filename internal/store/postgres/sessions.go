package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/use-lumina/lumina/internal/store"
)

// Conversations implements store.ConversationReader: one GROUP BY over the window's traces
// that have a session id (index traces_session), keyset-paginated on (last seen, session id).
func (s *Store) Conversations(ctx context.Context, q store.ConversationQuery) (store.ConversationPage, error) {
	limit := store.PageLimit(q.Limit)
	args := []any{q.ProjectID}
	arg := binder(&args)
	where := []string{"project_id = $1", "session_id <> ''"}
	if q.UserID != "" {
		where = append(where, "user_id = "+arg(q.UserID))
	}
	if !q.Since.IsZero() {
		where = append(where, "start_ns >= "+arg(toNS(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, "start_ns < "+arg(toNS(q.Until)))
	}
	having := ""
	if q.Cursor != "" {
		c, err := store.DecodeConversationCursor(q.Cursor)
		if err != nil {
			return store.ConversationPage{}, fmt.Errorf("list conversations: %w", err)
		}
		having = fmt.Sprintf(" HAVING (MAX(start_ns), session_id) < (%s::bigint, %s::text)", arg(c.LastSeen), arg(c.SessionID))
	}
	sql := `SELECT session_id, MAX(user_id), COUNT(DISTINCT NULLIF(user_id, '')), COUNT(*),
		COUNT(*) FILTER (WHERE status = 'error'), COALESCE(SUM(total_tokens), 0)::bigint,
		COALESCE(SUM(cost_usd), 0), COALESCE(SUM(unpriced_calls), 0)::bigint, MIN(start_ns), MAX(start_ns)
		FROM traces WHERE ` + strings.Join(where, " AND ") + ` GROUP BY session_id` + having +
		` ORDER BY MAX(start_ns) DESC, session_id DESC LIMIT ` + strconv.Itoa(limit+1)
	rows, err := s.pool.Query(ctx, sql, args...)
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
		ss.FirstSeen, ss.LastSeen = fromNS(first), fromNS(last)
		page.Conversations = append(page.Conversations, ss)
	}
	if err := rows.Err(); err != nil {
		return store.ConversationPage{}, fmt.Errorf("list conversations: %w", err)
	}
	if len(page.Conversations) > limit {
		page.Conversations = page.Conversations[:limit]
		last := page.Conversations[limit-1]
		page.NextCursor = store.ConversationCursor{LastSeen: toNS(last.LastSeen), SessionID: last.SessionID}.Encode()
	}
	return page, nil
}
