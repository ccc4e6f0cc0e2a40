package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

var _ store.AlertStore = (*Store)(nil)

// AlertRules implements store.AlertStore.
func (s *Store) AlertRules(ctx context.Context, projectID string) ([]store.AlertRule, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT doc FROM alert_rules WHERE ? = '' OR project_id = ?
		ORDER BY project_id, id`, projectID, projectID)
	if err != nil {
		return nil, fmt.Errorf("list alert rules of %q: %w", projectID, err)
	}
	out, err := scanDocs[store.AlertRule](rows)
	if err != nil {
		return nil, fmt.Errorf("list alert rules of %q: %w", projectID, err)
	}
	return out, nil
}

// PutAlertRule implements store.AlertStore.
func (s *Store) PutAlertRule(ctx context.Context, r store.AlertRule) error {
	if r.ID == "" || r.ProjectID == "" {
		return fmt.Errorf("put alert rule %q: a rule needs an id and a project", r.ID)
	}
	doc, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("put alert rule %q: encode: %w", r.ID, err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO alert_rules (project_id, id, doc) VALUES (?, ?, ?)
		ON CONFLICT (project_id, id) DO UPDATE SET doc = excluded.doc`, r.ProjectID, r.ID, string(doc)); err != nil {
		return fmt.Errorf("put alert rule %q: %w", r.ID, err)
	}
	return nil
}

// DeleteAlertRule implements store.AlertStore.
func (s *Store) DeleteAlertRule(ctx context.Context, projectID, id string) error {
	return s.deleteOne(ctx, "alert rule", `DELETE FROM alert_rules WHERE project_id = ? AND id = ?`, projectID, id)
}

// PutAlert implements store.AlertStore: the status columns only move forward, and the
// count and last-seen time keep the greater value.
func (s *Store) PutAlert(ctx context.Context, a store.Alert) error {
	_, err := s.putAlert(ctx, a, a.Count, false)
	return err
}

// RecordAlert implements store.AlertStore.
func (s *Store) RecordAlert(ctx context.Context, a store.Alert, repeats int) (store.Alert, error) {
	return s.putAlert(ctx, a, repeats, true)
}

// alertForward is the SET list that moves a stored alert forward: ?1 status rank, ?2 and ?3
// the acknowledged and resolved times, ?4 resolved by, ?5 the count (added when ?6, else
// the greater kept), ?7 the last-seen time.
const alertForward = `status_rank = max(status_rank, ?1),
	acknowledged_at = CASE WHEN acknowledged_at <> 0 THEN acknowledged_at ELSE ?2 END,
	resolved_at = CASE WHEN resolved_at <> 0 THEN resolved_at ELSE ?3 END,
	resolved_by = CASE WHEN resolved_by <> '' THEN resolved_by ELSE ?4 END,
	repeat_count = CASE WHEN ?6 THEN repeat_count + ?5 ELSE max(repeat_count, ?5) END,
	last_seen_at = max(last_seen_at, ?7)`

// putAlert applies a to the alert a.ID, else to the open alert of its dedup key, else
// inserts it, in one transaction of the single writer.
func (s *Store) putAlert(ctx context.Context, a store.Alert, count int, add bool) (store.Alert, error) {
	if a.ID == "" || a.ProjectID == "" {
		return store.Alert{}, fmt.Errorf("put alert %q: an alert needs an id and a project", a.ID)
	}
	doc, err := json.Marshal(a)
	if err != nil {
		return store.Alert{}, fmt.Errorf("put alert %q: encode: %w", a.ID, err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.Alert{}, fmt.Errorf("put alert %q: %w", a.ID, err)
	}
	defer tx.Rollback()
	forward := []any{store.AlertStatusRank(a.Status), nanos(a.AcknowledgedAt), nanos(a.ResolvedAt), a.ResolvedBy, count, add, nanos(a.LastSeenAt)}
	res, err := tx.ExecContext(ctx, `UPDATE alerts SET `+alertForward+`, fired_at = ?8, type = ?9, severity = ?10,
		service = ?11, dedup_key = ?12, doc = ?13 WHERE project_id = ?14 AND id = ?15`,
		append(forward, nanos(a.FiredAt), a.Type, a.Severity, a.Service, a.DedupKey, string(doc), a.ProjectID, a.ID)...)
	if err != nil {
		return store.Alert{}, fmt.Errorf("put alert %q: %w", a.ID, err)
	}
	id := a.ID
	if n, _ := res.RowsAffected(); n == 0 {
		var open string
		if a.DedupKey != "" && store.AlertStatusRank(a.Status) < 2 {
			err = tx.QueryRowContext(ctx, `SELECT id FROM alerts WHERE project_id = ? AND dedup_key = ? AND status_rank < 2`,
				a.ProjectID, a.DedupKey).Scan(&open)
			if err != nil && err != sql.ErrNoRows {
				return store.Alert{}, fmt.Errorf("put alert %q: find the open alert of %q: %w", a.ID, a.DedupKey, err)
			}
		}
		if open != "" {
			id = open
			forward[5] = true // a repeat of the open alert
			_, err = tx.ExecContext(ctx, `UPDATE alerts SET `+alertForward+` WHERE project_id = ?8 AND id = ?9`,
				append(forward, a.ProjectID, open)...)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO alerts (project_id, id, fired_at, status_rank, type, severity,
				service, acknowledged_at, resolved_at, resolved_by, dedup_key, repeat_count, last_seen_at, doc)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				a.ProjectID, a.ID, nanos(a.FiredAt), store.AlertStatusRank(a.Status), a.Type, a.Severity, a.Service,
				nanos(a.AcknowledgedAt), nanos(a.ResolvedAt), a.ResolvedBy, a.DedupKey, a.Count, nanos(a.LastSeenAt), string(doc))
		}
		if err != nil {
			return store.Alert{}, fmt.Errorf("put alert %q: %w", a.ID, err)
		}
	}
	stored, err := scanAlert(tx.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE project_id = ? AND id = ?`,
		a.ProjectID, id).Scan)
	if err != nil {
		return store.Alert{}, fmt.Errorf("put alert %q: read it back: %w", a.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return store.Alert{}, fmt.Errorf("put alert %q: %w", a.ID, err)
	}
	return stored, nil
}

const alertColumns = `status_rank, acknowledged_at, resolved_at, resolved_by, repeat_count, last_seen_at, doc`

// scanAlert reads alertColumns, overlaying the forward-only columns on the document.
func scanAlert(scan func(...any) error) (store.Alert, error) {
	var (
		a             store.Alert
		rank          int
		acked, solved int64
		count, seen   int64
		by, doc       string
	)
	if err := scan(&rank, &acked, &solved, &by, &count, &seen, &doc); err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(doc), &a); err != nil {
		return a, fmt.Errorf("decode alert: %w", err)
	}
	a.Status, a.AcknowledgedAt, a.ResolvedAt, a.ResolvedBy = store.AlertStatusOfRank(rank), fromNanos(acked), fromNanos(solved), by
	a.Count = int(count)
	if t := fromNanos(seen); t.After(a.LastSeenAt) {
		a.LastSeenAt = t
	}
	a.FiredAt, a.LastSeenAt = a.FiredAt.UTC(), a.LastSeenAt.UTC()
	return a, nil
}

// Alert implements store.AlertStore.
func (s *Store) Alert(ctx context.Context, projectID, id string) (store.Alert, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE project_id = ? AND id = ?`, projectID, id)
	a, err := scanAlert(row.Scan)
	if err == sql.ErrNoRows {
		return a, fmt.Errorf("alert %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("read alert %q: %w", id, err)
	}
	return a, nil
}

// Alerts implements store.AlertStore.
func (s *Store) Alerts(ctx context.Context, q store.AlertQuery) (store.AlertPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	where := []string{"project_id = ?"}
	args := []any{q.ProjectID}
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if q.Type != "" {
		add("type = ?", q.Type)
	}
	if q.Severity != "" {
		add("severity = ?", q.Severity)
	}
	if q.Status != "" {
		add("status_rank = ?", store.AlertStatusRank(q.Status))
	}
	if q.Service != "" {
		add("service = ?", q.Service)
	}
	if q.TraceID != "" { // few alerts per project: the document is read, not indexed
		add("json_extract(doc, '$.trace_id') = ?", q.TraceID)
	}
	if !q.Since.IsZero() {
		add("fired_at >= ?", nanos(q.Since))
	}
	if !q.Until.IsZero() {
		add("fired_at < ?", nanos(q.Until))
	}
	if q.Cursor != "" {
		c, err := store.DecodeCursor(q.Cursor)
		if err != nil {
			return store.AlertPage{}, err
		}
		where = append(where, "(fired_at < ? OR (fired_at = ? AND id < ?))")
		args = append(args, c.Key, c.Key, c.TraceID)
	}
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, `SELECT id, fired_at, `+alertColumns+` FROM alerts WHERE `+
		strings.Join(where, " AND ")+` ORDER BY fired_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return store.AlertPage{}, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var page store.AlertPage
	var ids []string
	var fired []int64
	for rows.Next() {
		var id string
		var f int64
		a, err := scanAlert(func(dst ...any) error { return rows.Scan(append([]any{&id, &f}, dst...)...) })
		if err != nil {
			return store.AlertPage{}, fmt.Errorf("list alerts: %w", err)
		}
		page.Alerts, ids, fired = append(page.Alerts, a), append(ids, id), append(fired, f)
	}
	if err := rows.Err(); err != nil {
		return store.AlertPage{}, fmt.Errorf("list alerts: %w", err)
	}
	if len(page.Alerts) > limit {
		page.Alerts = page.Alerts[:limit]
		page.NextCursor = store.Cursor{Key: fired[limit-1], TraceID: ids[limit-1]}.Encode()
	}
	return page, nil
}

// OpenAlerts implements store.AlertStore.
func (s *Store) OpenAlerts(ctx context.Context) ([]store.Alert, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE status_rank < 2 ORDER BY project_id, fired_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list open alerts: %w", err)
	}
	defer rows.Close()
	var out []store.Alert
	for rows.Next() {
		a, err := scanAlert(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("list open alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list open alerts: %w", err)
	}
	return out, nil
}

// AlertCounts implements store.AlertStore.
func (s *Store) AlertCounts(ctx context.Context, projectID string, since time.Time) ([]store.AlertCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT type, severity, status_rank, count(*) FROM alerts
		WHERE project_id = ? AND fired_at >= ? GROUP BY type, severity, status_rank
		ORDER BY type, severity, status_rank`, projectID, nanos(since))
	if err != nil {
		return nil, fmt.Errorf("count alerts: %w", err)
	}
	defer rows.Close()
	var out []store.AlertCount
	for rows.Next() {
		var c store.AlertCount
		var rank int
		if err := rows.Scan(&c.Type, &c.Severity, &rank, &c.Count); err != nil {
			return nil, fmt.Errorf("count alerts: %w", err)
		}
		c.Status = store.AlertStatusOfRank(rank)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count alerts: %w", err)
	}
	return out, nil
}

// PutBaselines implements store.AlertStore.
func (s *Store) PutBaselines(ctx context.Context, bs []store.Baseline) error {
	if len(bs) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("put baselines: %w", err)
	}
	defer tx.Rollback()
	for _, b := range bs {
		state := b.State
		doc, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("put baselines: encode: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_baselines (project_id, service, endpoint, model, metric, doc, state)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, service, endpoint, model, metric)
			DO UPDATE SET doc = excluded.doc, state = excluded.state`,
			b.ProjectID, b.Service, b.Endpoint, b.Model, b.Metric, string(doc), state); err != nil {
			return fmt.Errorf("put baselines: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("put baselines: %w", err)
	}
	return nil
}

// Baselines implements store.AlertStore.
func (s *Store) Baselines(ctx context.Context, projectID string) ([]store.Baseline, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT doc, state FROM alert_baselines WHERE ? = '' OR project_id = ?
		ORDER BY project_id, service, endpoint, model, metric`, projectID, projectID)
	if err != nil {
		return nil, fmt.Errorf("list baselines: %w", err)
	}
	defer rows.Close()
	var out []store.Baseline
	for rows.Next() {
		var doc string
		var state []byte
		var b store.Baseline
		if err := rows.Scan(&doc, &state); err != nil {
			return nil, fmt.Errorf("list baselines: %w", err)
		}
		if err := json.Unmarshal([]byte(doc), &b); err != nil {
			return nil, fmt.Errorf("list baselines: decode: %w", err)
		}
		if projectID == "" {
			b.State = state
		}
		b.WindowStart, b.UpdatedAt = b.WindowStart.UTC(), b.UpdatedAt.UTC()
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list baselines: %w", err)
	}
	return out, nil
}

// PutChannel implements store.AlertStore.
func (s *Store) PutChannel(ctx context.Context, c store.Channel) error {
	if c.ID == "" || c.ProjectID == "" {
		return fmt.Errorf("put channel %q: a channel needs an id and a project", c.ID)
	}
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("put channel %q: encode: %w", c.ID, err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO alert_channels (project_id, id, doc) VALUES (?, ?, ?)
		ON CONFLICT (project_id, id) DO UPDATE SET doc = excluded.doc`, c.ProjectID, c.ID, string(doc)); err != nil {
		return fmt.Errorf("put channel %q: %w", c.ID, err)
	}
	return nil
}

// Channels implements store.AlertStore.
func (s *Store) Channels(ctx context.Context, projectID string) ([]store.Channel, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT doc FROM alert_channels WHERE ? = '' OR project_id = ?
		ORDER BY project_id, id`, projectID, projectID)
	if err != nil {
		return nil, fmt.Errorf("list channels of %q: %w", projectID, err)
	}
	out, err := scanDocs[store.Channel](rows)
	if err != nil {
		return nil, fmt.Errorf("list channels of %q: %w", projectID, err)
	}
	return out, nil
}

// DeleteChannel implements store.AlertStore.
func (s *Store) DeleteChannel(ctx context.Context, projectID, id string) error {
	return s.deleteOne(ctx, "channel", `DELETE FROM alert_channels WHERE project_id = ? AND id = ?`, projectID, id)
}

// EnqueueDeliveries implements store.AlertStore.
func (s *Store) EnqueueDeliveries(ctx context.Context, ds []store.Delivery) error {
	_, err := s.enqueue(ctx, ds, time.Time{})
	return err
}

// EnqueueClaimed implements store.AlertStore.
func (s *Store) EnqueueClaimed(ctx context.Context, ds []store.Delivery, until time.Time) ([]store.Delivery, error) {
	return s.enqueue(ctx, ds, until)
}

// enqueue inserts the items not stored yet, due at their NextAttempt or, when until is
// set, claimed until then, and returns them.
func (s *Store) enqueue(ctx context.Context, ds []store.Delivery, until time.Time) ([]store.Delivery, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("enqueue deliveries: %w", err)
	}
	defer tx.Rollback()
	var added []store.Delivery
	for _, d := range ds {
		doc, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("enqueue deliveries: encode: %w", err)
		}
		due := d.NextAttempt
		if !until.IsZero() {
			due = until
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO alert_deliveries (id, project_id, alert_id, channel_id, status, next_attempt, created_at, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			d.ID, d.ProjectID, d.AlertID, d.ChannelID, d.Status, nanos(due), nanos(d.CreatedAt), string(doc))
		if err != nil {
			return nil, fmt.Errorf("enqueue deliveries: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("enqueue deliveries: %w", err)
		} else if n == 1 {
			added = append(added, d)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("enqueue deliveries: %w", err)
	}
	return added, nil
}

// DueDeliveries implements store.AlertStore.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT doc FROM alert_deliveries WHERE status = 'pending' AND next_attempt <= ?
		ORDER BY next_attempt, id LIMIT ?`, nanos(now), max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("list due deliveries: %w", err)
	}
	out, err := scanDocs[store.Delivery](rows)
	if err != nil {
		return nil, fmt.Errorf("list due deliveries: %w", err)
	}
	return out, nil
}

// ClaimDeliveries implements store.AlertStore.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Delivery, error) {
	rows, err := s.w.QueryContext(ctx, `UPDATE alert_deliveries SET next_attempt = ?
		WHERE id IN (SELECT id FROM alert_deliveries WHERE status = 'pending' AND next_attempt <= ?
			ORDER BY next_attempt, id LIMIT ?)
		RETURNING doc`, nanos(now.Add(lease)), nanos(now), max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("claim due deliveries: %w", err)
	}
	out, err := scanDocs[store.Delivery](rows)
	if err != nil {
		return nil, fmt.Errorf("claim due deliveries: %w", err)
	}
	sortDeliveries(out)
	return out, nil
}

// sortDeliveries orders claimed items by NextAttempt, then id (RETURNING has no order).
func sortDeliveries(ds []store.Delivery) {
	slices.SortFunc(ds, func(a, b store.Delivery) int {
		if c := a.NextAttempt.Compare(b.NextAttempt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// UpdateDelivery implements store.AlertStore.
func (s *Store) UpdateDelivery(ctx context.Context, d store.Delivery) error {
	doc, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("update delivery %q: encode: %w", d.ID, err)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE alert_deliveries SET status = ?, next_attempt = ?, doc = ? WHERE id = ?`,
		d.Status, nanos(d.NextAttempt), string(doc), d.ID)
	if err != nil {
		return fmt.Errorf("update delivery %q: %w", d.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("update delivery %q: %w", d.ID, store.ErrNotFound)
	}
	return nil
}

// Deliveries implements store.AlertStore.
func (s *Store) Deliveries(ctx context.Context, projectID, alertID string) ([]store.Delivery, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT doc FROM alert_deliveries WHERE project_id = ? AND alert_id = ?
		ORDER BY created_at, id`, projectID, alertID)
	if err != nil {
		return nil, fmt.Errorf("list deliveries of alert %q: %w", alertID, err)
	}
	out, err := scanDocs[store.Delivery](rows)
	if err != nil {
		return nil, fmt.Errorf("list deliveries of alert %q: %w", alertID, err)
	}
	return out, nil
}

// ChannelDeliveries implements store.AlertStore through alert_deliveries_channel.
func (s *Store) ChannelDeliveries(ctx context.Context, projectID, channelID string, limit int) ([]store.Delivery, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT doc FROM alert_deliveries WHERE project_id = ? AND channel_id = ?
		ORDER BY created_at DESC, id DESC LIMIT ?`, projectID, channelID, store.DeliveryLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list deliveries of channel %q: %w", channelID, err)
	}
	out, err := scanDocs[store.Delivery](rows)
	if err != nil {
		return nil, fmt.Errorf("list deliveries of channel %q: %w", channelID, err)
	}
	return out, nil
}

// scanDocs decodes rows of one JSON document column and closes rows.
func scanDocs[T any](rows *sql.Rows) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var v T
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// deleteOne runs a DELETE of one row and maps "nothing deleted" to ErrNotFound.
func (s *Store) deleteOne(ctx context.Context, what, query, projectID, id string) error {
	res, err := s.w.ExecContext(ctx, query, projectID, id)
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("delete %s %q: %w", what, id, store.ErrNotFound)
	}
	return nil
}
