package lumina

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidJSON(t *testing.T) {
	for _, in := range []string{
		``, ` `, `null`, `nul`, `true`, `false`, `0`, `-0`, `01`, `-`, `1.`, `1.5`, `1e5`, `1E+5`, `1e`, `.5`,
		`"a"`, `"a`, `"\u00e9\n\"\\\/\b\f\r\t"`, `"\x"`, `"\u12"`, "\"\x01\"", "\"\xff\"", `""`,
		`{}`, `[]`, `{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `[1,]`, `[1 2]`, `[1,2]`, ` [ {"a" : [ null ] } ] `,
		`{"a":[1,{"b":"x"}]}x`, `[1]]`, `{"a":tru}`, `[1true]`, `[-]`, `{"k":"v"}{}`,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	} {
		if got, want := validJSON([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("validJSON(%.40q) = %v, want %v", in, got, want)
		}
	}
	// Strings read eight bytes at a time: each special byte at each position of a word.
	for _, special := range []string{`"`, `\`, `\n`, `\u0041`, "\x00", "\x1f", "\x7f", "\xff", "é"} {
		for at := range 20 {
			in := `["` + strings.Repeat("a", at) + special + strings.Repeat("b", 20-at) + `"]`
			if got, want := validJSON([]byte(in)), json.Valid([]byte(in)); got != want {
				t.Errorf("validJSON(%q) = %v, want %v", in, got, want)
			}
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"x\u00e9"}],"c":-1.5e3}`, `[true,false,null]`, `"\"`, `01`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if got, want := validJSON(in), json.Valid(in); got != want {
			t.Fatalf("validJSON(%q) = %v, want %v", in, got, want)
		}
	})
}
