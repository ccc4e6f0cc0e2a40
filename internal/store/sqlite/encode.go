package sqlite

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
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
	buf     bytes.Buffer // encoding/json's output
	enc     *json.Encoder
	scratch []byte // appendJSON's output
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
	return e.fast(m)
}

// value is a free-form column (a log body): NULL for nil.
func (e *encoder) value(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return e.fast(v)
}

// fast is v's JSON through appendJSON.
func (e *encoder) fast(v any) (string, error) {
	b, err := appendJSON(e.scratch[:0], v)
	e.scratch = b
	if err != nil {
		return "", err
	}
	return string(b), nil
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

// eventRow and linkRow are the stored forms of span events and links (written by
// encoder.events and encoder.links): times as Unix nanoseconds and attribute maps kept even
// when empty, so reads are exact.
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
	b := append(e.scratch[:0], '[')
	for i, ev := range evs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"t":`...)
		b = strconv.AppendInt(b, nanos(ev.Time), 10)
		b = append(b, `,"n":`...)
		b = appendString(b, ev.Name)
		if ev.DroppedAttributes != 0 {
			b = append(b, `,"d":`...)
			b = strconv.AppendUint(b, uint64(ev.DroppedAttributes), 10)
		}
		b = append(b, `,"a":`...)
		var err error
		if b, err = appendObject(b, ev.Attributes); err != nil {
			return nil, err
		}
		b = append(b, '}')
	}
	e.scratch = append(b, ']')
	return string(e.scratch), nil
}

func (e *encoder) links(ls []genai.Link) (any, error) {
	if ls == nil {
		return nil, nil
	}
	b := append(e.scratch[:0], '[')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"t":`...)
		b = appendString(b, l.TraceID)
		b = append(b, `,"s":`...)
		b = appendString(b, l.SpanID)
		if l.TraceState != "" {
			b = append(b, `,"ts":`...)
			b = appendString(b, l.TraceState)
		}
		if l.DroppedAttributes != 0 {
			b = append(b, `,"d":`...)
			b = strconv.AppendUint(b, uint64(l.DroppedAttributes), 10)
		}
		b = append(b, `,"a":`...)
		var err error
		if b, err = appendObject(b, l.Attributes); err != nil {
			return nil, err
		}
		b = append(b, '}')
	}
	e.scratch = append(b, ']')
	return string(e.scratch), nil
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
	return e.fast(ss)
}

func decodeStrings(col []byte, what string) ([]string, error) {
	var ss []string
	if err := decode(col, &ss, what); err != nil {
		return nil, err
	}
	return ss, nil
}
