package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// spanColumns is the column order of spanArgs.
var spanColumns = []string{
	"project_id", "trace_id", "span_id", "parent_span_id", "trace_state", "name", "kind",
	"service_name", "start_time", "end_time", "status_code", "status_message",
	"scope_name", "scope_version", "resource_schema_url", "scope_schema_url",
	"dropped_attributes", "dropped_events", "dropped_links",
	"attributes", "resource", "events", "links",
	"genai_type", "operation", "provider", "model", "session_id", "user_id", "environment",
	"input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
	"reasoning_tokens", "total_tokens", "usage_reported", "cost_usd", "cost_source", "counted",
	"tags", "genai",
}

// traceColumns is the column order of traceArgs and scanTrace.
var traceColumns = []string{
	"project_id", "trace_id", "service_name", "name", "start_time", "end_time", "duration",
	"span_count", "error_count", "llm_call_count", "status", "models", "services",
	"input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
	"reasoning_tokens", "total_tokens", "cost_usd", "unpriced_calls", "has_root",
	"session_id", "user_id", "environment", "tags",
}

// logColumns is the column order of logArgs and scanLog.
var logColumns = []string{
	"project_id", "id", "trace_id", "span_id", "time", "observed_time", "event_name",
	"severity_text", "severity_number", "service_name", "scope_name", "body", "attributes",
	"resource", "messages", "output", "genai",
}

// summaryColumns are the light span columns a rollup reads: no JSON but the tags.
const summaryColumns = `rowid, span_id, parent_span_id, name, service_name, start_time, end_time,
	status_code, genai_type, model, input_tokens, output_tokens, cache_read_tokens,
	cache_write_tokens, reasoning_tokens, total_tokens, usage_reported, cost_usd, cost_source,
	session_id, user_id, environment, tags, counted`

// upsert is an INSERT of rows rows of columns that replaces every non-key column on a key
// conflict.
func upsert(table string, columns []string, rows int, key ...string) string {
	var set []string
	for _, c := range columns[len(key):] {
		set = append(set, c+" = excluded."+c)
	}
	return insert(table, columns, rows) + " ON CONFLICT (" + strings.Join(key, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
}

// insert is an INSERT of rows rows of columns.
func insert(table string, columns []string, rows int) string {
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ") + ")"
	return "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(tuple+", ", rows), ", ")
}

// writeStmts are the statements of a write transaction, prepared once on the writer
// connection and bound to each transaction with Tx.StmtContext.
type writeStmts struct {
	upsertSpan    *sql.Stmt
	upsertSpans   *sql.Stmt // spanChunk rows
	insertLog     *sql.Stmt
	summaries     *sql.Stmt
	setCounted    *sql.Stmt
	oldTraces     *sql.Stmt
	upsertTrace   *sql.Stmt
	upsertTraces  *sql.Stmt // traceChunk rows
	addServices   *sql.Stmt
	moveService   *sql.Stmt
	removeService *sql.Stmt
	addModels     *sql.Stmt
	moveModel     *sql.Stmt
	removeModel   *sql.Stmt
	queueText     *sql.Stmt
	dequeueText   *sql.Stmt
}

func (w *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&w.upsertSpan, upsert("spans", spanColumns, 1, "project_id", "trace_id", "span_id")},
		{&w.upsertSpans, upsert("spans", spanColumns, spanChunk, "project_id", "trace_id", "span_id")},
		{&w.insertLog, insert("logs", logColumns, 1) + " ON CONFLICT (project_id, id) DO NOTHING"},
		{&w.summaries, "SELECT " + summaryColumns + " FROM spans WHERE project_id = ? AND trace_id = ? ORDER BY span_id"},
		{&w.setCounted, "UPDATE spans SET counted = ? WHERE rowid = ?"},
		{&w.oldTraces, `SELECT trace_id, models, services, start_time FROM traces
			WHERE project_id = ? AND trace_id IN (SELECT value FROM json_each(?))`},
		{&w.upsertTrace, upsert("traces", traceColumns, 1, "project_id", "trace_id")},
		{&w.upsertTraces, upsert("traces", traceColumns, traceChunk, "project_id", "trace_id")},
		// The index adds take a JSON array of [project, value, trace, start] rows: a batch's
		// worth in one statement.
		{&w.addServices, `INSERT OR IGNORE INTO trace_services (project_id, service_name, trace_id, start_time)
			SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each(?)`},
		{&w.moveService, `UPDATE trace_services SET start_time = ?
			WHERE project_id = ? AND service_name = ? AND trace_id = ? AND start_time = ?`},
		{&w.removeService, `DELETE FROM trace_services
			WHERE project_id = ? AND service_name = ? AND trace_id = ? AND start_time = ?`},
		{&w.addModels, `INSERT OR IGNORE INTO trace_models (project_id, model, trace_id, start_time)
			SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each(?)`},
		{&w.moveModel, `UPDATE trace_models SET start_time = ?
			WHERE project_id = ? AND model = ? AND trace_id = ? AND start_time = ?`},
		{&w.removeModel, `DELETE FROM trace_models
			WHERE project_id = ? AND model = ? AND trace_id = ? AND start_time = ?`},
		// The search index's queue (indexer.go) takes a JSON array of [project, trace,
		// span, remove] rows; CROSS JOIN walks the array in order, looking each span up in
		// spans_key. A removal's body is '', a document's NULL (the span's own text).
		{&w.queueText, `INSERT INTO span_text_queue (span, body)
			SELECT s.rowid, CASE WHEN j.value->>3 THEN '' END FROM json_each(?) j CROSS JOIN spans s
			WHERE s.project_id = j.value->>0 AND s.trace_id = j.value->>1 AND s.span_id = j.value->>2
			ORDER BY j.key`},
		{&w.dequeueText, "DELETE FROM span_text_queue WHERE id <= ?"},
	} {
		stmt, err := db.PrepareContext(ctx, p.query)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", p.query, err)
		}
		*p.dst = stmt
	}
	return nil
}

func (w *writeStmts) close() error {
	var errs []error
	for _, s := range []*sql.Stmt{
		w.upsertSpan, w.upsertSpans, w.insertLog, w.summaries, w.setCounted, w.oldTraces, w.upsertTrace,
		w.upsertTraces, w.addServices, w.moveService, w.removeService, w.addModels, w.moveModel, w.removeModel,
		w.queueText, w.dequeueText,
	} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// txStmts are writeStmts bound to one transaction.
type txStmts writeStmts

func (w *writeStmts) bind(ctx context.Context, tx *sql.Tx) *txStmts {
	return &txStmts{
		upsertSpan:    tx.StmtContext(ctx, w.upsertSpan),
		upsertSpans:   tx.StmtContext(ctx, w.upsertSpans),
		insertLog:     tx.StmtContext(ctx, w.insertLog),
		summaries:     tx.StmtContext(ctx, w.summaries),
		setCounted:    tx.StmtContext(ctx, w.setCounted),
		oldTraces:     tx.StmtContext(ctx, w.oldTraces),
		upsertTrace:   tx.StmtContext(ctx, w.upsertTrace),
		upsertTraces:  tx.StmtContext(ctx, w.upsertTraces),
		addServices:   tx.StmtContext(ctx, w.addServices),
		moveService:   tx.StmtContext(ctx, w.moveService),
		removeService: tx.StmtContext(ctx, w.removeService),
		addModels:     tx.StmtContext(ctx, w.addModels),
		moveModel:     tx.StmtContext(ctx, w.moveModel),
		removeModel:   tx.StmtContext(ctx, w.removeModel),
		queueText:     tx.StmtContext(ctx, w.queueText),
		dequeueText:   tx.StmtContext(ctx, w.dequeueText),
	}
}
