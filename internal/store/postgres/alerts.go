package postgres

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/store"
)

var _ store.AlertStore = (*Store)(nil)

// alertNS is t in Unix nanoseconds for the alert tables, where the zero time is 0.
func alertNS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func alertTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// docJSON encodes an alert-table document for jsonb, which rejects the \u0000 escape.
func docJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return bytes.ReplaceAll(b, []byte(`\u0000`), []byte(`\ufffd`)), nil
}

// collectDocs decodes rows of one jsonb document column.
func collectDocs[T any](rows pgx.Rows) ([]T, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) {
		var doc []byte
		var v T
		if err := r.Scan(&doc); err != nil {
			return v, err
		}
		if err := json.Unmarshal(doc, &v); err != nil {
			return v, fmt.Errorf("decode json: %w", err)
		}
		return v, nil
	})
}

// AlertRules implements store.AlertStore.
func (s *Store) AlertRules(ctx context.Context, projectID string) ([]store.AlertRule, error) {
	rows, err := s.pool.Query(ctx, `SELECT doc FROM alert_rules WHERE $1 = '' OR project_id = $1
		ORDER BY project_id, id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list alert rules of %q: %w", projectID, err)
	}
	out, err := collectDocs[store.AlertRule](rows)
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
	doc, err := docJSON(r)
	if err != nil {
		return fmt.Errorf("put alert rule %q: %w", r.ID, err)
	}
	if _, err := s.db(ctx).Exec(ctx, `INSERT INTO alert_rules (project_id, id, doc) VALUES ($1, $2, $3)
		ON CONFLICT (project_id, id) DO UPDATE SET doc = EXCLUDED.doc`, clean(r.ProjectID), clean(r.ID), doc); err != nil {
		return fmt.Errorf("put alert rule %q: %w", r.ID, err)
	}
	return nil
}

// DeleteAlertRule implements store.AlertStore.
func (s *Store) DeleteAlertRule(ctx context.Context, projectID, id string) error {
	return s.deleteAlertRow(ctx, "alert rule", "DELETE FROM alert_rules WHERE project_id = $1 AND id = $2", projectID, id)
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

// alertForward is the SET list that moves a stored alert forward: $3 status rank, $4 and
// $5 the acknowledged and resolved times, $6 resolved by, $7 the count (added when $8,
// else the greater kept), $9 the last-seen time.
const alertForward = `status_rank = GREATEST(alerts.status_rank, $3),
	acknowledged_ns = CASE WHEN alerts.acknowledged_ns <> 0 THEN alerts.acknowledged_ns ELSE $4 END,
	resolved_ns = CASE WHEN alerts.resolved_ns <> 0 THEN alerts.resolved_ns ELSE $5 END,
	resolved_by = CASE WHEN alerts.resolved_by <> '' THEN alerts.resolved_by ELSE $6 END,
	repeat_count = CASE WHEN $8 THEN alerts.repeat_count + $7 ELSE GREATEST(alerts.repeat_count, $7) END,
	last_seen_ns = GREATEST(alerts.last_seen_ns, $9)`

// putAlert applies a to the alert a.ID, else to the open alert of its dedup key, else
// inserts it. Each step is one statement, so no transaction is held between them; an
// insert that meets a concurrent one (the same id, or an open alert of the same key)
// stores nothing and the steps start again, then finding the winner's row.
func (s *Store) putAlert(ctx context.Context, a store.Alert, count int, add bool) (store.Alert, error) {
	if a.ID == "" || a.ProjectID == "" {
		return store.Alert{}, fmt.Errorf("put alert %q: an alert needs an id and a project", a.ID)
	}
	doc, err := docJSON(a)
	if err != nil {
		return store.Alert{}, fmt.Errorf("put alert %q: %w", a.ID, err)
	}
	rank, acked, solved, by, seen := store.AlertStatusRank(a.Status), alertNS(a.AcknowledgedAt), alertNS(a.ResolvedAt), clean(a.ResolvedBy), alertNS(a.LastSeenAt)
	project, id, key := clean(a.ProjectID), clean(a.ID), clean(a.DedupKey)
	for range 5 {
		out, err := s.alertRows(ctx, `UPDATE alerts SET `+alertForward+`, fired_ns = $10, type = $11, severity = $12,
			service = $13, dedup_key = $14, doc = $15 WHERE project_id = $1 AND id = $2 RETURNING `+alertColumns,
			project, id, rank, acked, solved, by, count, add, seen, alertNS(a.FiredAt), clean(a.Type), clean(a.Severity),
			clean(a.Service), key, doc)
		if err != nil || len(out) > 0 {
			return first(out), wrapPut(a.ID, err)
		}
		if key != "" && rank < 2 {
			out, err := s.alertRows(ctx, `UPDATE alerts SET `+alertForward+`
				WHERE project_id = $1 AND dedup_key = $2 AND status_rank < 2 RETURNING `+alertColumns,
				project, key, rank, acked, solved, by, count, true, seen)
			if err != nil || len(out) > 0 {
				return first(out), wrapPut(a.ID, err)
			}
		}
		out, err = s.alertRows(ctx, `INSERT INTO alerts (project_id, id, fired_ns, status_rank, type, severity, service,
			acknowledged_ns, resolved_ns, resolved_by, dedup_key, repeat_count, last_seen_ns, doc)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING RETURNING `+alertColumns,
			project, id, alertNS(a.FiredAt), rank, clean(a.Type), clean(a.Severity), clean(a.Service), acked, solved, by,
			key, a.Count, seen, doc)
		if err != nil || len(out) > 0 {
			return first(out), wrapPut(a.ID, err)
		}
	}
	return store.Alert{}, fmt.Errorf("put alert %q: kept meeting concurrent writes of dedup key %q", a.ID, a.DedupKey)
}

func (s *Store) alertRows(ctx context.Context, query string, args ...any) ([]store.Alert, error) {
	rows, err := s.db(ctx).Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	out, _, err := collectAlerts(rows)
	return out, err
}

func first(as []store.Alert) store.Alert {
	if len(as) == 0 {
		return store.Alert{}
	}
	return as[0]
}

func wrapPut(id string, err error) error {
	if err != nil {
		return fmt.Errorf("put alert %q: %w", id, err)
	}
	return nil
}

const alertColumns = `id, fired_ns, status_rank, acknowledged_ns, resolved_ns, resolved_by, repeat_count, last_seen_ns, doc`

// collectAlerts reads alertColumns, overlaying the forward-only columns on the document.
func collectAlerts(rows pgx.Rows) ([]store.Alert, []int64, error) {
	var fired []int64
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Alert, error) {
		var (
			a             store.Alert
			id, by        string
			f             int64
			rank          int16
			acked, solved int64
			count, seen   int64
			doc           []byte
		)
		if err := r.Scan(&id, &f, &rank, &acked, &solved, &by, &count, &seen, &doc); err != nil {
			return a, err
		}
		if err := json.Unmarshal(doc, &a); err != nil {
			return a, fmt.Errorf("decode alert: %w", err)
		}
		a.Status, a.AcknowledgedAt, a.ResolvedAt, a.ResolvedBy = store.AlertStatusOfRank(int(rank)), alertTime(acked), alertTime(solved), by
		a.Count = int(count)
		if t := alertTime(seen); t.After(a.LastSeenAt) {
			a.LastSeenAt = t
		}
		a.FiredAt, a.LastSeenAt = a.FiredAt.UTC(), a.LastSeenAt.UTC()
		fired = append(fired, f)
		return a, nil
	})
	return out, fired, err
}

// Alert implements store.AlertStore.
func (s *Store) Alert(ctx context.Context, projectID, id string) (store.Alert, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+alertColumns+` FROM alerts WHERE project_id = $1 AND id = $2`, projectID, id)
	if err != nil {
		return store.Alert{}, fmt.Errorf("read alert %q: %w", id, err)
	}
	out, _, err := collectAlerts(rows)
	if err != nil {
		return store.Alert{}, fmt.Errorf("read alert %q: %w", id, err)
	}
	if len(out) == 0 {
		return store.Alert{}, fmt.Errorf("alert %q: %w", id, store.ErrNotFound)
	}
	return out[0], nil
}

// Alerts implements store.AlertStore.
func (s *Store) Alerts(ctx context.Context, q store.AlertQuery) (store.AlertPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	where := []string{"project_id = $1"}
	args := []any{q.ProjectID}
	add := func(cond string, vs ...any) {
		for _, v := range vs {
			args = append(args, v)
			cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(args)), 1)
		}
		where = append(where, cond)
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
		add("doc->>'trace_id' = ?", q.TraceID)
	}
	if !q.Since.IsZero() {
		add("fired_ns >= ?", alertNS(q.Since))
	}
	if !q.Until.IsZero() {
		add("fired_ns < ?", alertNS(q.Until))
	}
	if q.Cursor != "" {
		c, err := store.DecodeCursor(q.Cursor)
		if err != nil {
			return store.AlertPage{}, err
		}
		add("(fired_ns, id) < (?, ?)", c.Key, c.TraceID)
	}
	args = append(args, limit+1)
	rows, err := s.pool.Query(ctx, `SELECT `+alertColumns+` FROM alerts WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY fired_ns DESC, id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return store.AlertPage{}, fmt.Errorf("list alerts: %w", err)
	}
	out, fired, err := collectAlerts(rows)
	if err != nil {
		return store.AlertPage{}, fmt.Errorf("list alerts: %w", err)
	}
	page := store.AlertPage{Alerts: out}
	if len(out) > limit {
		page.Alerts = out[:limit]
		page.NextCursor = store.Cursor{Key: fired[limit-1], TraceID: out[limit-1].ID}.Encode()
	}
	return page, nil
}

// OpenAlerts implements store.AlertStore.
func (s *Store) OpenAlerts(ctx context.Context) ([]store.Alert, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+alertColumns+` FROM alerts WHERE status_rank < 2 ORDER BY project_id, fired_ns, id`)
	if err != nil {
		return nil, fmt.Errorf("list open alerts: %w", err)
	}
	out, _, err := collectAlerts(rows)
	if err != nil {
		return nil, fmt.Errorf("list open alerts: %w", err)
	}
	return out, nil
}

// AlertCounts implements store.AlertStore.
func (s *Store) AlertCounts(ctx context.Context, projectID string, since time.Time) ([]store.AlertCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT type, severity, status_rank, count(*) FROM alerts
		WHERE project_id = $1 AND fired_ns >= $2 GROUP BY type, severity, status_rank
		ORDER BY type, severity, status_rank`, projectID, alertNS(since))
	if err != nil {
		return nil, fmt.Errorf("count alerts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AlertCount, error) {
		var c store.AlertCount
		var rank int16
		err := r.Scan(&c.Type, &c.Severity, &rank, &c.Count)
		c.Status = store.AlertStatusOfRank(int(rank))
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("count alerts: %w", err)
	}
	return out, nil
}

// PutBaselines implements store.AlertStore.
func (s *Store) PutBaselines(ctx context.Context, bs []store.Baseline) error {
	if len(bs) == 0 {
		return nil
	}
	// Every process upserts in key order, so two workers saving overlapping baselines wait
	// for each other instead of deadlocking.
	bs = slices.Clone(bs)
	slices.SortFunc(bs, func(a, b store.Baseline) int {
		return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.Service, b.Service),
			cmp.Compare(a.Endpoint, b.Endpoint), cmp.Compare(a.Model, b.Model), cmp.Compare(a.Metric, b.Metric))
	})
	batch := &pgx.Batch{}
	for _, b := range bs {
		doc, err := docJSON(b)
		if err != nil {
			return fmt.Errorf("put baselines: %w", err)
		}
		batch.Queue(`INSERT INTO alert_baselines (project_id, service, endpoint, model, metric, doc, state)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (project_id, service, endpoint, model, metric)
			DO UPDATE SET doc = EXCLUDED.doc, state = EXCLUDED.state`,
			clean(b.ProjectID), clean(b.Service), clean(b.Endpoint), clean(b.Model), clean(b.Metric), doc, b.State)
	}
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, batch).Close()
	}); err != nil {
		return fmt.Errorf("put baselines: %w", err)
	}
	return nil
}

// Baselines implements store.AlertStore.
func (s *Store) Baselines(ctx context.Context, projectID string) ([]store.Baseline, error) {
	rows, err := s.pool.Query(ctx, `SELECT doc, state FROM alert_baselines WHERE $1 = '' OR project_id = $1
		ORDER BY project_id, service, endpoint, model, metric`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list baselines: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Baseline, error) {
		var doc, state []byte
		var b store.Baseline
		if err := r.Scan(&doc, &state); err != nil {
			return b, err
		}
		if err := json.Unmarshal(doc, &b); err != nil {
			return b, fmt.Errorf("decode baseline: %w", err)
		}
		if projectID == "" {
			b.State = state
		}
		b.WindowStart, b.UpdatedAt = b.WindowStart.UTC(), b.UpdatedAt.UTC()
		return b, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list baselines: %w", err)
	}
	return out, nil
}

// PutChannel implements store.AlertStore.
func (s *Store) PutChannel(ctx context.Context, c store.Channel) error {
	if c.ID == "" || c.ProjectID == "" {
		return fmt.Errorf("put channel %q: a channel needs an id and a project", c.ID)
	}
	doc, err := docJSON(c)
	if err != nil {
		return fmt.Errorf("put channel %q: %w", c.ID, err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO alert_channels (project_id, id, doc) VALUES ($1, $2, $3)
		ON CONFLICT (project_id, id) DO UPDATE SET doc = EXCLUDED.doc`, clean(c.ProjectID), clean(c.ID), doc); err != nil {
		return fmt.Errorf("put channel %q: %w", c.ID, err)
	}
	return nil
}

// Channels implements store.AlertStore.
func (s *Store) Channels(ctx context.Context, projectID string) ([]store.Channel, error) {
	rows, err := s.pool.Query(ctx, `SELECT doc FROM alert_channels WHERE $1 = '' OR project_id = $1
		ORDER BY project_id, id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list channels of %q: %w", projectID, err)
	}
	out, err := collectDocs[store.Channel](rows)
	if err != nil {
		return nil, fmt.Errorf("list channels of %q: %w", projectID, err)
	}
	return out, nil
}

// DeleteChannel implements store.AlertStore.
func (s *Store) DeleteChannel(ctx context.Context, projectID, id string) error {
	return s.deleteAlertRow(ctx, "channel", "DELETE FROM alert_channels WHERE project_id = $1 AND id = $2", projectID, id)
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
	batch := &pgx.Batch{}
	for _, d := range ds {
		doc, err := docJSON(d)
		if err != nil {
			return nil, fmt.Errorf("enqueue deliveries: %w", err)
		}
		due := d.NextAttempt
		if !until.IsZero() {
			due = until
		}
		batch.Queue(`INSERT INTO alert_deliveries (id, project_id, alert_id, channel_id, status, next_attempt_ns, created_ns, doc)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
			clean(d.ID), clean(d.ProjectID), clean(d.AlertID), clean(d.ChannelID), clean(d.Status), alertNS(due), alertNS(d.CreatedAt), doc)
	}
	var added []store.Delivery
	if err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		added = added[:0]
		res := tx.SendBatch(ctx, batch)
		for _, d := range ds {
			tag, err := res.Exec()
			if err != nil {
				res.Close()
				return err
			}
			if tag.RowsAffected() == 1 {
				added = append(added, d)
			}
		}
		return res.Close()
	}); err != nil {
		return nil, fmt.Errorf("enqueue deliveries: %w", err)
	}
	return added, nil
}

// DueDeliveries implements store.AlertStore.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT doc FROM alert_deliveries WHERE status = 'pending' AND next_attempt_ns <= $1
		ORDER BY next_attempt_ns, id LIMIT $2`, alertNS(now), max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("list due deliveries: %w", err)
	}
	out, err := collectDocs[store.Delivery](rows)
	if err != nil {
		return nil, fmt.Errorf("list due deliveries: %w", err)
	}
	return out, nil
}

// ClaimDeliveries implements store.AlertStore; SKIP LOCKED lets dispatchers in several
// processes claim at once without waiting for each other.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Delivery, error) {
	rows, err := s.pool.Query(ctx, `UPDATE alert_deliveries d SET next_attempt_ns = $1
		FROM (SELECT id FROM alert_deliveries WHERE status = 'pending' AND next_attempt_ns <= $2
			ORDER BY next_attempt_ns, id LIMIT $3 FOR UPDATE SKIP LOCKED) c
		WHERE d.id = c.id RETURNING d.doc`, alertNS(now.Add(lease)), alertNS(now), max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("claim due deliveries: %w", err)
	}
	out, err := collectDocs[store.Delivery](rows)
	if err != nil {
		return nil, fmt.Errorf("claim due deliveries: %w", err)
	}
	slices.SortFunc(out, func(a, b store.Delivery) int {
		if c := a.NextAttempt.Compare(b.NextAttempt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// UpdateDelivery implements store.AlertStore.
func (s *Store) UpdateDelivery(ctx context.Context, d store.Delivery) error {
	doc, err := docJSON(d)
	if err != nil {
		return fmt.Errorf("update delivery %q: %w", d.ID, err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE alert_deliveries SET status = $1, next_attempt_ns = $2, doc = $3 WHERE id = $4`,
		clean(d.Status), alertNS(d.NextAttempt), doc, d.ID)
	if err != nil {
		return fmt.Errorf("update delivery %q: %w", d.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("update delivery %q: %w", d.ID, store.ErrNotFound)
	}
	return nil
}

// Deliveries implements store.AlertStore.
func (s *Store) Deliveries(ctx context.Context, projectID, alertID string) ([]store.Delivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT doc FROM alert_deliveries WHERE project_id = $1 AND alert_id = $2
		ORDER BY created_ns, id`, projectID, alertID)
	if err != nil {
		return nil, fmt.Errorf("list deliveries of alert %q: %w", alertID, err)
	}
	out, err := collectDocs[store.Delivery](rows)
	if err != nil {
		return nil, fmt.Errorf("list deliveries of alert %q: %w", alertID, err)
	}
	return out, nil
}

// ChannelDeliveries implements store.AlertStore through alert_deliveries_channel.
func (s *Store) ChannelDeliveries(ctx context.Context, projectID, channelID string, limit int) ([]store.Delivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT doc FROM alert_deliveries WHERE project_id = $1 AND channel_id = $2
		ORDER BY created_ns DESC, id DESC LIMIT $3`, clean(projectID), clean(channelID), store.DeliveryLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list deliveries of channel %q: %w", channelID, err)
	}
	out, err := collectDocs[store.Delivery](rows)
	if err != nil {
		return nil, fmt.Errorf("list deliveries of channel %q: %w", channelID, err)
	}
	return out, nil
}

func (s *Store) deleteAlertRow(ctx context.Context, what, query, projectID, id string) error {
	tag, err := s.pool.Exec(ctx, query, projectID, id)
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", what, id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete %s %q: %w", what, id, store.ErrNotFound)
	}
	return nil
}
