package genai

import (
	"reflect"
	"testing"
)

func TestAsInt(t *testing.T) {
	cases := []struct {
		in   any
		want int64
		ok   bool
	}{
		{int64(11), 11, true},
		{float64(12), 12, true},
		{12.6, 13, true},
		{"42", 42, true},
		{" 42 ", 42, true},
		{"42.0", 42, true},
		{"", 0, false},
		{"none", 0, false},
		{"None", 0, false},
		{"null", 0, false},
		{"abc", 0, false},
		{int64(-1), -1, false},
		{map[string]any{"low": int64(5), "high": int64(0)}, 5, true},
		{map[string]any{"low": int64(0), "high": int64(1)}, 1 << 32, true},
		{map[string]any{"low": int64(-1), "high": int64(0), "unsigned": true}, 1<<32 - 1, true},
		{`{"low":7,"high":0}`, 7, true},
		{map[string]any{"x": 1}, 0, false},
		{true, 0, false},
		{nil, 0, false},
	}
	for _, c := range cases {
		got, ok := asInt(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("asInt(%#v): got %d, %v, want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestAsBool(t *testing.T) {
	cases := []struct {
		in       any
		want, ok bool
	}{
		{true, true, true}, {"True", true, true}, {"FALSE", false, true}, {"1", true, true},
		{int64(0), false, true}, {"", false, false}, {"none", false, false}, {"maybe", false, false},
	}
	for _, c := range cases {
		got, ok := asBool(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("asBool(%#v): got %v, %v, want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestAsStrings(t *testing.T) {
	cases := []struct {
		in   any
		want []string
	}{
		{[]any{"stop", "length"}, []string{"stop", "length"}},
		{`["stop","length"]`, []string{"stop", "length"}},
		{"stop, length", []string{"stop", "length"}},
		{"stop", []string{"stop"}},
		{`"[\"a\"]"`, []string{"a"}},
		{[]any{"", "none", "x"}, []string{"x"}},
		{"", nil},
		{"none", nil},
	}
	for _, c := range cases {
		got, _ := asStrings(c.in)
		if !reflect.DeepEqual(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("asStrings(%#v): got %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	cases := []struct {
		in   any
		want any
		ok   bool
	}{
		{`[1]`, []any{float64(1)}, true},
		{`"[1]"`, []any{float64(1)}, true},
		{`"\"[1]\""`, []any{float64(1)}, true},
		{`{"a":`, nil, false},
		{"plain text", nil, false},
		{map[string]any{"a": 1}, map[string]any{"a": 1}, true},
		{`"just a string"`, "just a string", true},
	}
	for _, c := range cases {
		got, ok := decodeJSON(c.in)
		if ok != c.ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("decodeJSON(%#v): got %#v, %v, want %#v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestFlatIndexCap(t *testing.T) {
	var g flatGroups
	g.add("gen_ai.prompt.", "3.content", "c")
	g.add("gen_ai.prompt.", "1.content", "a")
	g.add("gen_ai.prompt.", "10001.content", "too far")
	g.add("gen_ai.prompt.", "name", "not an index")
	items := g.list("gen_ai.prompt.")
	if len(items) != 2 || items[0].Index != 1 || items[1].Index != 3 {
		t.Fatalf("got %+v, want indices 1 and 3 in order", items)
	}
	if g.dropped != 1 {
		t.Errorf("got %d dropped, want 1", g.dropped)
	}
}
