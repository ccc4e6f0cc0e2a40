package genai

import (
	"encoding/json"
	"reflect"
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
