package sqlite

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// nanos is t as stored: Unix nanoseconds, with 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos; times come back in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// boolInt is b as SQLite stores booleans.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// nullFloat is p as a nullable REAL.
func nullFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// floatPtr is a nullable REAL as a pointer.
func floatPtr(n sql.NullFloat64) *float64 {
	if !n.Valid {
		return nil
	}
	v := n.Float64
	return &v
}

// encoder turns values into JSON text columns, reusing one buffer for a whole batch. HTML
// escaping is off: the values are prompts and attributes, not markup, and decode the same.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func newEncoder() *encoder {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// text is v's JSON as a string column value.
func (e *encoder) text(v any) (string, error) {
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return "", err
	}
	return string(bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))), nil
}

// object is a map column: NULL for a nil map, so nil and empty maps both round-trip.
func (e *encoder) object(m map[string]any) (any, error) {
	if m == nil {
		return nil, nil
	}
	return e.text(m)
}

// value is a free-form column (a log body): NULL for nil.
func (e *encoder) value(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return e.text(v)
}

// decode parses a JSON column into dst; NULL leaves dst untouched.
func decode(col []byte, dst any, what string) error {
	if col == nil {
		return nil
	}
	if err := json.Unmarshal(col, dst); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}

// eventRow and linkRow are the stored forms of span events and links: times as Unix
// nanoseconds and attribute maps kept even when empty, so reads are exact.
type eventRow struct {
	Time       int64          `json:"t"`
	Name       string         `json:"n"`
	Attributes map[string]any `json:"a"`
	Dropped    uint32         `json:"d,omitempty"`
}

type linkRow struct {
	TraceID    string         `json:"t"`
	SpanID     string         `json:"s"`
	TraceState string         `json:"ts,omitempty"`
	Attributes map[string]any `json:"a"`
	Dropped    uint32         `json:"d,omitempty"`
}

func (e *encoder) events(evs []genai.Event) (any, error) {
	if evs == nil {
		return nil, nil
	}
	rows := make([]eventRow, len(evs))
	for i, ev := range evs {
		rows[i] = eventRow{Time: nanos(ev.Time), Name: ev.Name, Attributes: ev.Attributes, Dropped: ev.DroppedAttributes}
	}
	return e.text(rows)
}

func (e *encoder) links(ls []genai.Link) (any, error) {
	if ls == nil {
		return nil, nil
	}
	rows := make([]linkRow, len(ls))
	for i, l := range ls {
		rows[i] = linkRow{TraceID: l.TraceID, SpanID: l.SpanID, TraceState: l.TraceState, Attributes: l.Attributes, Dropped: l.DroppedAttributes}
	}
	return e.text(rows)
}

func decodeEvents(col []byte) ([]genai.Event, error) {
	if col == nil {
		return nil, nil
	}
	var rows []eventRow
	if err := decode(col, &rows, "span events"); err != nil {
		return nil, err
	}
	evs := make([]genai.Event, len(rows))
	for i, r := range rows {
		evs[i] = genai.Event{Time: fromNanos(r.Time), Name: r.Name, Attributes: r.Attributes, DroppedAttributes: r.Dropped}
	}
	return evs, nil
}

func decodeLinks(col []byte) ([]genai.Link, error) {
	if col == nil {
		return nil, nil
	}
	var rows []linkRow
	if err := decode(col, &rows, "span links"); err != nil {
		return nil, err
	}
	ls := make([]genai.Link, len(rows))
	for i, r := range rows {
		ls[i] = genai.Link{TraceID: r.TraceID, SpanID: r.SpanID, TraceState: r.TraceState, Attributes: r.Attributes, DroppedAttributes: r.Dropped}
	}
	return ls, nil
}

// list is a string-list column: NULL for an empty list, as Rollup returns nil for none.
func (e *encoder) list(ss []string) (any, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	return e.text(ss)
}

func decodeStrings(col []byte, what string) ([]string, error) {
	var ss []string
	if err := decode(col, &ss, what); err != nil {
		return nil, err
	}
	return ss, nil
}
