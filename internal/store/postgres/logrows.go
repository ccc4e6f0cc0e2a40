package postgres

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/use-lumina/lumina/internal/genai"
)

// logRows holds a batch's log records column by column.
type logRows struct {
	projectID, id, traceID, spanID          []string
	timeNS, observedNS                      []int64
	severityNumber                          []int32
	isGenAI, output                         []bool
	eventName, severityText, service, scope []string
	body, attributes, resource, messages    [][]byte
}

// insertLogsSQL inserts logRows; records are keyed by content hash, so a redelivered
// record is already there and left alone.
const insertLogsSQL = `INSERT INTO logs (
	project_id, id, trace_id, span_id, time_ns, observed_ns, severity_number, is_genai, output,
	event_name, severity_text, service_name, scope_name, body, attributes, resource, messages)
SELECT * FROM unnest(
	$1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::int[],
	$8::boolean[], $9::boolean[], $10::text[], $11::text[], $12::text[], $13::text[],
	$14::jsonb[], $15::jsonb[], $16::jsonb[], $17::json[])
ON CONFLICT (project_id, id) DO NOTHING`

func (r *logRows) args() []any {
	return []any{
		r.projectID, r.id, r.traceID, r.spanID, r.timeNS, r.observedNS, r.severityNumber,
		r.isGenAI, r.output, r.eventName, r.severityText, r.service, r.scope,
		r.body, r.attributes, r.resource, r.messages,
	}
}

// isGenAIRecord reports whether a record carries GenAI content: normalized messages, or a
// gen_ai.* event name.
func isGenAIRecord(r *genai.LogRecord) bool {
	return len(r.Messages) > 0 || strings.HasPrefix(r.EventName, "gen_ai.")
}

// newLogRows encodes log records (already unique and sorted).
func newLogRows(logs []genai.LogRecord) (*logRows, error) {
	r := &logRows{}
	enc := &jsonEncoder{}
	for i := range logs {
		l := &logs[i]
		body, err := enc.value(l.Body)
		if err != nil {
			return nil, fmt.Errorf("log %s body: %w", l.ID, err)
		}
		attrs, err := enc.value(l.Attributes)
		if err != nil {
			return nil, fmt.Errorf("log %s attributes: %w", l.ID, err)
		}
		res, err := enc.sharedMap(l.Resource)
		if err != nil {
			return nil, fmt.Errorf("log %s resource: %w", l.ID, err)
		}
		var msgs []byte
		if l.Messages != nil {
			if msgs, err = marshalJSON(l.Messages); err != nil {
				return nil, fmt.Errorf("log %s messages: %w", l.ID, err)
			}
		}
		r.projectID = append(r.projectID, l.ProjectID) // cleaned by uniqueLogs
		r.id = append(r.id, l.ID)
		r.traceID = append(r.traceID, clean(l.TraceID))
		r.spanID = append(r.spanID, clean(l.SpanID))
		r.timeNS = append(r.timeNS, toNS(l.Time))
		r.observedNS = append(r.observedNS, toNS(l.ObservedTime))
		r.severityNumber = append(r.severityNumber, l.SeverityNumber)
		r.isGenAI = append(r.isGenAI, isGenAIRecord(l))
		r.output = append(r.output, l.Output)
		r.eventName = append(r.eventName, clean(l.EventName))
		r.severityText = append(r.severityText, clean(l.SeverityText))
		r.service = append(r.service, clean(l.ServiceName))
		r.scope = append(r.scope, clean(l.ScopeName))
		r.body = append(r.body, body)
		r.attributes = append(r.attributes, attrs)
		r.resource = append(r.resource, res)
		r.messages = append(r.messages, msgs)
	}
	return r, nil
}

// uniqueLogs returns the records sorted by project and id, keeping the last of any that
// repeat a key.
func uniqueLogs(logs []genai.LogRecord) []genai.LogRecord {
	out := make([]genai.LogRecord, len(logs))
	copy(out, logs)
	for i := range out {
		out[i].ProjectID, out[i].ID = clean(out[i].ProjectID), clean(out[i].ID)
	}
	key := func(a, b genai.LogRecord) int {
		return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.ID, b.ID))
	}
	slices.SortStableFunc(out, key)
	w := 0
	for i := range out {
		if w > 0 && key(out[w-1], out[i]) == 0 {
			out[w-1] = out[i]
			continue
		}
		out[w] = out[i]
		w++
	}
	return out[:w]
}
