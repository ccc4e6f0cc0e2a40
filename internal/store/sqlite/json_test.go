package sqlite

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

func TestAppendJSON(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want any // what encoding/json decodes the output to
		text string
	}{
		{"nil", nil, nil, "null"},
		{"string escapes", "a\"b\\c\n\r\t\x01</script>&", "a\"b\\c\n\r\t\x01</script>&", `"a\"b\\c\n\r\t\u0001</script>&"`},
		{"unicode", "héllo 世界 😀 \u2028", "héllo 世界 😀 \u2028", "\"héllo 世界 😀 \u2028\""},
		{"invalid utf-8", "a\xffb", "a\ufffdb", `"a\ufffdb"`},
		{"bools", []any{true, false}, []any{true, false}, "[true,false]"},
		{"numbers", []any{0.0, -1.5, 1e21, 123456789.0, 5e-324, 1e-7, 0.1}, []any{0.0, -1.5, 1e21, 123456789.0, 5e-324, 1e-7, 0.1}, "[0,-1.5,1e+21,123456789,5e-324,1e-7,0.1]"},
		{"integers", []any{int64(-7), 42}, []any{-7.0, 42.0}, "[-7,42]"},
		{"non-finite floats", []any{math.NaN(), math.Inf(1), math.Inf(-1)}, []any{"NaN", "+Inf", "-Inf"}, `["NaN","+Inf","-Inf"]`},
		{"sorted keys", map[string]any{"b": 1.0, "a": map[string]any{}, "c": []any{}}, map[string]any{"a": map[string]any{}, "b": 1.0, "c": []any{}}, `{"a":{},"b":1,"c":[]}`},
		{"nil map and slice", []any{map[string]any(nil), []any(nil)}, []any{nil, nil}, "[null,null]"},
		{"string list", []string{"x", "y"}, []any{"x", "y"}, `["x","y"]`},
		{"other types", struct {
			A int `json:"a"`
		}{3}, map[string]any{"a": 3.0}, `{"a":3}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := appendJSON(nil, tt.in)
			if err != nil {
				t.Fatalf("appendJSON: %v", err)
			}
			if string(b) != tt.text {
				t.Errorf("text: got %s, want %s", b, tt.text)
			}
			var got any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("decode %s: %v", b, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded: got %#v, want %#v", got, tt.want)
			}
		})
	}
}
