package lumina

import (
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
