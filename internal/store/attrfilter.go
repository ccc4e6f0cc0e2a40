package store

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// MaxAttributeFilters bounds TraceQuery.Attributes.
const MaxAttributeFilters = 8

// AttributeFilter matches a span attribute (not a resource attribute) by key and value: a
// string attribute equal to Value; a number equal to Value read as a JSON number ("5"
// matches 5 and 5.0); a boolean when Value is "true" or "false". Arrays and maps never match.
type AttributeFilter struct {
	Key   string
	Value string
}

// Number is Value as a JSON number, when it is one (an integer, a decimal or an exponent
// form, as JSON writes numbers: no "Inf", no hex, no leading "+").
func (f AttributeFilter) Number() (json.Number, bool) {
	b := []byte(f.Value)
	if len(b) == 0 || !(b[0] == '-' || b[0] >= '0' && b[0] <= '9') || !json.Valid(b) {
		return "", false
	}
	return json.Number(f.Value), true
}

// Int is Value as an integer, when it spells one.
func (f AttributeFilter) Int() (int64, bool) {
	n, err := strconv.ParseInt(f.Value, 10, 64)
	return n, err == nil
}

// Bool is Value as a boolean, when it is "true" or "false".
func (f AttributeFilter) Bool() (bool, bool) {
	switch f.Value {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// Documents are the JSON objects {Key: value} that a span's attributes contain when the
// filter matches, one per value Value may stand for: the string, and the number or the
// boolean it spells.
func (f AttributeFilter) Documents() []string {
	doc := func(v any) string {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		_ = e.Encode(map[string]any{f.Key: v}) // strings, json.Number and bool always encode
		return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	}
	docs := []string{doc(f.Value)}
	if n, ok := f.Number(); ok {
		docs = append(docs, doc(n))
	}
	if v, ok := f.Bool(); ok {
		docs = append(docs, doc(v))
	}
	return docs
}
