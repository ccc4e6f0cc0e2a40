package lumina

import (
	"os"
	"strings"
	"testing"
)

// checkIndex fails when the index of text answers any skip differently from the walk: at
// every position, in the whole text and in every slice of it that ends inside.
func checkIndex(t *testing.T, text []byte) {
	t.Helper()
	ix := indexJSON(text)
	if ix == nil {
		return
	}
	defer ix.release()
	ends := []int{len(text)}
	for i, c := range text {
		if c == '}' || c == ']' {
			ends = append(ends, i, i+1)
		}
	}
	for _, end := range ends {
		b := text[:end]
		for i := range b {
			if got, want := ix.skipValue(b, i), skipValue(b, i); got != want {
				t.Fatalf("%.60q…[:%d]: skipValue at %d = %d with the index, %d without", text, end, i, got, want)
			}
		}
	}
}

func TestJSONIndexMatchesWalk(t *testing.T) {
	pad := strings.Repeat(" ", minIndexed)
	texts := []string{
		`{"a":[1,{"b":"x]}\"y"}],"c":{"d":[[],{}]}}` + pad,
		`{"a":[1,{"b":2}` + pad,            // never closes
		`{"a":"unterminated ` + pad + `]}`, // a string that never ends
		`]]{"a":[}]}` + pad,                // mismatched and extra closes
		`[{"k\\":["}]"]},{}]` + pad,
	}
	for _, f := range []string{"testdata/openai_chat.json", "testdata/openai_responses.json", "testdata/anthropic_message.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	for _, s := range texts {
		checkIndex(t, []byte(s))
	}
	// A slice of another text is never answered from the index.
	text := []byte(texts[0])
	ix := indexJSON(text)
	defer ix.release()
	other := append([]byte(nil), text...)
	if _, ok := ix.containerEnd(other, 0); ok {
		t.Errorf("containerEnd answered for a copy of the indexed text")
	}
}

func FuzzJSONIndex(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"x"}]}`, `[[[`, `{"a":"\"}"}]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 2048 {
			return
		}
		checkIndex(t, []byte(s+strings.Repeat(" ", minIndexed)))
	})
}
