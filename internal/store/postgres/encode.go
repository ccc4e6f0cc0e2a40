package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// zeroNS stores the zero time.Time (an unset OTLP timestamp), which has no Unix-nanosecond
// value; it sorts before every real time.
const zeroNS = math.MinInt64

// toNS converts t to Unix nanoseconds. Times outside the int64 range (before 1678 or after
// 2262) are clamped to its ends, so hostile timestamps are stored rather than refused.
func toNS(t time.Time) int64 {
	switch {
	case t.IsZero():
		return zeroNS
	case t.Before(time.Unix(0, math.MinInt64+1)):
		return math.MinInt64 + 1
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// fromNS is the inverse of toNS, in UTC.
func fromNS(ns int64) time.Time {
	if ns == zeroNS {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// clean makes s storable in a PostgreSQL text value, which cannot hold NUL or invalid
// UTF-8: both become U+FFFD. Valid strings are returned as they are.
func clean(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// marshalJSON encodes v for a json or jsonb column; JSON null becomes SQL NULL (a nil slice).
// jsonb rejects the \u0000 escape, so NUL characters become U+FFFD; values JSON cannot
// express (NaN, ±Inf) are stored as strings rather than failing the batch.
func marshalJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		var uv *json.UnsupportedValueError
		if !errors.As(err, &uv) {
			return nil, fmt.Errorf("encode json: %w", err)
		}
		if b, err = json.Marshal(finite(v)); err != nil {
			return nil, fmt.Errorf("encode json: %w", err)
		}
	}
	if string(b) == "null" {
		return nil, nil
	}
	if bytes.Contains(b, []byte(`\u0000`)) {
		b = replaceNUL(b)
	}
	return b, nil
}

// finite returns a deep copy of v in which the floats JSON cannot express (NaN, ±Inf) are
// replaced: by their names where the type allows any value, by zero (or a nil pointer)
// where it is a float field. Only the rare failing encode pays for the reflection.
func finite(v any) any {
	if v == nil {
		return nil
	}
	return finiteValue(reflect.ValueOf(v)).Interface()
}

func finiteValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return reflect.Zero(v.Type())
		}
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		e := v.Elem()
		if e.Kind() == reflect.Float32 || e.Kind() == reflect.Float64 {
			if f := e.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
				return reflect.ValueOf(fmt.Sprint(f))
			}
		}
		return finiteValue(e)
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		if k := v.Elem().Kind(); k == reflect.Float32 || k == reflect.Float64 {
			if f := v.Elem().Float(); math.IsNaN(f) || math.IsInf(f, 0) {
				return reflect.Zero(v.Type())
			}
			return v
		}
		out := reflect.New(v.Elem().Type())
		out.Elem().Set(finiteValue(v.Elem()))
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if out.Field(i).CanSet() {
				out.Field(i).Set(finiteValue(v.Field(i)))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() || v.Type().Elem().Kind() == reflect.Uint8 {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(finiteValue(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), finiteValue(it.Value()))
		}
		return out
	}
	return v
}

// replaceNUL rewrites every \u0000 escape in encoded JSON as \ufffd, leaving escaped
// backslashes (\\u0000 is the text "\u0000", not a NUL) alone.
func replaceNUL(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) && string(b[i+2:i+6]) == "0000" {
			out = append(out, `\ufffd`...)
			i += 5
			continue
		}
		out = append(out, b[i], b[i+1])
		i++
	}
	return out
}

// unmarshalJSON decodes a json or jsonb column into dst; SQL NULL leaves dst at its zero value.
func unmarshalJSON(b []byte, dst any) error {
	if b == nil {
		return nil
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("decode json: %w", err)
	}
	return nil
}

// textArray formats ss as a PostgreSQL text[] literal, for parameters that unnest cannot
// carry as arrays of arrays.
func textArray(ss []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for _, r := range clean(s) {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// nilIfEmpty turns an empty slice read from the database into nil, as the domain types use.
func nilIfEmpty(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	return ss
}
