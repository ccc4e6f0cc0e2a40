package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/use-lumina/lumina/internal/store"
)

// EndUsers implements store.EndUserReader: one GROUP BY over the window's traces that have a
// user id (index traces_user), keyset-paginated on (last seen, user id).
func (s *Store) EndUsers(ctx context.Context, q store.EndUserQuery) (store.EndUserPage, error) {
	limit := store.PageLimit(q.Limit)
	args := []any{q.ProjectID}
	arg := binder(&args)
	where := []string{"project_id = $1", "user_id <> ''"}
	if !q.Since.IsZero() {
		where = append(where, "start_ns >= "+arg(toNS(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, "start_ns < "+arg(toNS(q.Until)))
	}
	having := ""
	if q.Cursor != "" {
		c, err := store.DecodeEndUserCursor(q.Cursor)
		if err != nil {
			return store.EndUserPage{}, fmt.Errorf("list end users: %w", err)
		}
		having = fmt.Sprintf(" HAVING (MAX(start_ns), user_id) < (%s::bigint, %s::text)", arg(c.LastSeen), arg(c.UserID))
	}
	sql := `SELECT user_id, COUNT(*), COUNT(DISTINCT NULLIF(session_id, '')),
		COUNT(*) FILTER (WHERE status = 'error'), COALESCE(SUM(total_tokens), 0)::bigint,
		COALESCE(SUM(cost_usd), 0), COALESCE(SUM(unpriced_calls), 0)::bigint, MIN(start_ns), MAX(start_ns)
		FROM traces WHERE ` + strings.Join(where, " AND ") + ` GROUP BY user_id` + having +
		` ORDER BY MAX(start_ns) DESC, user_id DESC LIMIT ` + strconv.Itoa(limit+1)
	rows, err := s.pool.Query(ctx, sql, args...)
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
		u.FirstSeen, u.LastSeen = fromNS(first), fromNS(last)
		page.Users = append(page.Users, u)
	}
	if err := rows.Err(); err != nil {
		return store.EndUserPage{}, fmt.Errorf("list end users: %w", err)
	}
	if len(page.Users) > limit {
		page.Users = page.Users[:limit]
		last := page.Users[limit-1]
		page.NextCursor = store.EndUserCursor{LastSeen: toNS(last.LastSeen), UserID: last.UserID}.Encode()
	}
	return page, nil
}
