package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/use-lumina/lumina/internal/store"
)

// EndUsers implements store.EndUserReader: one GROUP BY over the window's traces that have a
// user id (the window is a range of index traces_start), keyset-paginated on (last seen,
// user id).
func (s *Store) EndUsers(ctx context.Context, q store.EndUserQuery) (store.EndUserPage, error) {
	limit := store.PageLimit(q.Limit)
	where, args := []string{"project_id = ?", "user_id <> ''"}, []any{q.ProjectID}
	if !q.Since.IsZero() {
		where, args = append(where, "start_time >= ?"), append(args, nanos(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "start_time < ?"), append(args, nanos(q.Until))
	}
	having := ""
	if q.Cursor != "" {
		c, err := store.DecodeEndUserCursor(q.Cursor)
		if err != nil {
			return store.EndUserPage{}, fmt.Errorf("list end users: %w", err)
		}
		having = " HAVING (MAX(start_time), user_id) < (?, ?)"
		args = append(args, c.LastSeen, c.UserID)
	}
	query := `SELECT user_id, COUNT(*), COUNT(DISTINCT NULLIF(session_id, '')),
		SUM(status = 'error'), SUM(total_tokens), COALESCE(SUM(cost_usd), 0), SUM(unpriced_calls),
		MIN(start_time), MAX(start_time)
		FROM traces WHERE ` + strings.Join(where, " AND ") + ` GROUP BY user_id` + having +
		` ORDER BY MAX(start_time) DESC, user_id DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return store.EndUserPage{}, fmt.Errorf("list end users: %w", err)
	}
	defer rows.Close()
	page := store.EndUserPage{Users: []store.EndUser{}}
	for rows.Next() {
		var u store.EndUser
		var first, last int64
		if err := rows.Scan(&u.UserID, &u.Traces, &u.Sessions, &u.Errors, &u.TotalTokens,
			&u.CostUSD, &u.UnpricedCalls, &first, &last); err != nil {
			return store.EndUserPage{}, fmt.Errorf("list end users: %w", err)
		}
		u.FirstSeen, u.LastSeen = fromNanos(first), fromNanos(last)
		page.Users = append(page.Users, u)
	}
	if err := rows.Err(); err != nil {
		return store.EndUserPage{}, fmt.Errorf("list end users: %w", err)
	}
	if len(page.Users) > limit {
		page.Users = page.Users[:limit]
		last := page.Users[limit-1]
		page.NextCursor = store.EndUserCursor{LastSeen: nanos(last.LastSeen), UserID: last.UserID}.Encode()
	}
	return page, nil
}
