package lumina

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEachField(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // key=value pairs joined by ;
		ok   bool
	}{
		{`{}`, ``, true},
		{` { "a" : 1 , "b":"x\"}y" ,"c":{"d":[1,{"e":"]"}]},"f":null,"g":true}`, `a=1;b="x\"}y";c={"d":[1,{"e":"]"}]};f=null;g=true`, true},
		{`{"k\"ey":[[],{}]}`, `k\"ey=[[],{}]`, true},
		{`{"a":"x\\","b":"\\\"q\\\\","c":1}`, `a="x\\";b="\\\"q\\\\";c=1`, true},
		{`{"a":1`, `a=1`, false},
		{`{"a":"unterminated}`, ``, false},
		{`[1,2]`, ``, false},
		{`{"a" 1}`, ``, false},
	} {
		var got []string
		ok := eachField([]byte(tc.in), func(k, v []byte) bool {
			got = append(got, string(k)+"="+string(v))
			return true
		})
		if g := strings.Join(got, ";"); g != tc.want || ok != tc.ok {
			t.Errorf("eachField(%s) = %q, %v; want %q, %v", tc.in, g, ok, tc.want, tc.ok)
		}
	}
	var elems []string
	eachElement([]byte(` [ {"a":[1]} , "s,]" ,3 ] `), func(v []byte) { elems = append(elems, string(v)) })
	if g := strings.Join(elems, "|"); g != `{"a":[1]}|"s,]"|3` {
		t.Errorf("eachElement = %q", g)
	}
	if s, ok := plainString([]byte(`"gpt-4o"`)); !ok || s != "gpt-4o" {
		t.Errorf("plainString = %q, %v", s, ok)
	}
	if got := jsonString([]byte(`"a\u00e9"`)); got != "aé" {
		t.Errorf("jsonString escaped = %q", got)
	}
}

// TestUnquoteSimple wants unquoteSimple to decode what encoding/json decodes, or to give up.
func TestUnquoteSimple(t *testing.T) {
	for _, tc := range []struct {
		in     string
		giveUp bool
	}{
		{in: `"plain"`},
		{in: `""`},
		{in: `"{\"location\":\"Paris\"}"`},
		{in: `"a\\b\/c\bd\fe\nf\rg\th"`},
		{in: `"héllo ✓\n"`},
		{in: `"\u00e9"`, giveUp: true},
		{in: `"\x"`, giveUp: true},
		{in: `"tab	inside"`, giveUp: true},
		{in: "\"\xff\\n\"", giveUp: true},
		{in: `"a\"`, giveUp: true},
		{in: `"a"b"`, giveUp: true},
		{in: `null`, giveUp: true},
	} {
		got, ok := unquoteSimple([]byte(tc.in))
		if ok == tc.giveUp {
			t.Errorf("%s: handled %v, want %v", tc.in, ok, !tc.giveUp)
			continue
		}
		if !ok {
			continue
		}
		var want string
		if err := json.Unmarshal([]byte(tc.in), &want); err != nil {
			t.Errorf("%s: encoding/json: %v, but unquoteSimple decoded it", tc.in, err)
		} else if got != want {
			t.Errorf("%s: got %q, want %q", tc.in, got, want)
		}
	}
}

// FuzzUnquoteSimple checks that whatever unquoteSimple decodes, encoding/json decodes the
// same way.
func FuzzUnquoteSimple(f *testing.F) {
	for _, s := range []string{`"a\nb"`, `"{\"k\":1}"`, `"é\t"`, `"\u0041"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, ok := unquoteSimple(in)
		if !ok {
			return
		}
		var want string
		if err := json.Unmarshal(in, &want); err != nil {
			t.Fatalf("%q: encoding/json: %v, but unquoteSimple decoded it", in, err)
		}
		if got != want {
			t.Fatalf("%q: got %q, want %q", in, got, want)
		}
	})
}
