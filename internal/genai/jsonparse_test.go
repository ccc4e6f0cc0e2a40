package genai

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

var jsonSeeds = []string{
	`[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]`,
	`{"a":1,"b":[true,false,null],"c":{"d":-1.5e3}}`, `[]`, `{}`, `""`, `"x"`, `0`, `-0`, `1e400`,
	`"\u00e9\ud83d\ude42\n\t\"\\\/"`, `"\ud800"`, `"\ud800\u0041"`, `"bad \x escape"`, `"ctl ` + "\x01" + `"`,
	`[1,]`, `{"a":}`, `{"a" 1}`, `01`, `1.`, `.5`, `+1`, `-`, `tru`, `nul`, `[1 2]`, `{"a":1}}`,
	` [ 1 , 2 ] `, `"invalid utf8 ` + "\xff\xfe" + `"`, `{"k":"v","k":"w"}`, `[[[[[]]]]]`, `"a\u0000b"`,
	`[{"role":"user","parts":[{"type":"text","content":"He`, `123abc`, `1E+2`, `-12.5e-3`,
}

func sameAsStdlib(t *testing.T, in string) {
	var want any
	wantErr := json.Unmarshal([]byte(in), &want)
	got, gotErr := parseJSON(in)
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("parseJSON(%q): error %v, encoding/json error %v", in, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("parseJSON(%q): got %#v, want %#v", in, got, want)
	}
}

func TestParseJSONMatchesStdlib(t *testing.T) {
	for _, s := range jsonSeeds {
		sameAsStdlib(t, s)
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) { sameAsStdlib(t, in) })
}

func TestParseJSONPrefix(t *testing.T) {
	cases := []struct {
		in   string
		want any
		cut  bool
		ok   bool
	}{
		{`[{"a":"xy"},{"b":"z`, []any{map[string]any{"a": "xy"}, map[string]any{"b": "z"}}, true, true},
		{`[{"a":1},{"b":`, []any{map[string]any{"a": float64(1)}, map[string]any{}}, true, true},
		{`{"a":[1,2`, map[string]any{"a": []any{float64(1), float64(2)}}, true, true},
		{`{"a":tr`, map[string]any{}, true, true},
		{`[1.`, []any{}, true, true},
		{`"caf\u00`, "caf", true, true},
		{"\"caf\xc3", "caf", true, true},
		{`[1]`, []any{float64(1)}, false, true},
		{`[1]x`, nil, false, false},
		{`[1 2`, nil, false, false},
		{`[{"role":"user","content":"hi…[truncated by Lumina: 9000 bytes]`, []any{map[string]any{"role": "user", "content": "hi"}}, true, true},
	}
	for _, c := range cases {
		got, cut, err := parseJSONPrefix(c.in)
		if (err == nil) != c.ok || cut != c.cut || (c.ok && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("parseJSONPrefix(%q): got %#v, cut %v, err %v; want %#v, cut %v, ok %v", c.in, got, cut, err, c.want, c.cut, c.ok)
		}
	}
}

func FuzzParseJSONPrefix(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		// A complete document parses the same leniently, and never reports a cut.
		if want, err := parseJSON(in); err == nil {
			got, cut, err := parseJSONPrefix(in)
			if err != nil || cut || !reflect.DeepEqual(got, want) {
				t.Fatalf("parseJSONPrefix(%q) = %#v, %v, %v; want %#v", in, got, cut, err, want)
			}
			// Every prefix of a valid document is accepted as cut (or complete).
			for i := range len(in) {
				if _, _, err := parseJSONPrefix(in[:i]); err != nil && len(strings.TrimSpace(in[:i])) > 0 {
					t.Fatalf("prefix %q of valid %q rejected: %v", in[:i], in, err)
				}
			}
		}
	})
}
