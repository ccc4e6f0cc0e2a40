package quality

import "testing"

func TestHashNormalized(t *testing.T) {
	for _, s := range []string{"", "  Hello   World\n", "ÉTÉ  à\tla plage ", "a"} {
		if got, want := hashNormalized(s), fnv64(normalizeSpace(s)); got != want {
			t.Errorf("%q: got %x, want %x", s, got, want)
		}
	}
}

func TestTokens(t *testing.T) {
	got := tokens("Clicking the Settings → Account page, you'll see 24 entries!")
	want := []string{"click", "setting", "account", "page", "see", "24", "entry"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestRefusal(t *testing.T) {
	for text, want := range map[string]bool{
		"I'm sorry, but I can't help with that request.":                            true,
		"I’m unable to provide medical advice. Please consult a doctor.":            true,
		"As an AI language model, I cannot browse the internet.":                    true,
		"Sure! Here is how to reset your password.":                                 false,
		"To reset it, open Settings. " + string(make([]byte, 300)) + "I can't help": false,
	} {
		if got := isRefusal(text); got != want {
			t.Errorf("%.40q: got %v, want %v", text, got, want)
		}
	}
}

func TestMinHashJaccardExactForSmallSets(t *testing.T) {
	a := sketchText("alpha beta gamma delta").minhash
	b := sketchText("beta gamma delta epsilon").minhash
	if got := minHashJaccard(a, b); got != 3.0/5 {
		t.Errorf("got %v, want 0.6", got)
	}
	if got := minHashJaccard(nil, nil); got != 1 {
		t.Errorf("empty: got %v, want 1", got)
	}
	if got := SimHashSimilarity(sketchText("same words here").simhash, sketchText("here same words").simhash); got != 1 {
		t.Errorf("simhash of a permutation: got %v, want 1", got)
	}
}

func TestShape(t *testing.T) {
	cases := []struct {
		text string
		kind kind
		keys int
	}{
		{`{"a": 1, "b": {"c": [ {"d": 2} ]}}`, kindJSON, 4},
		{"```json\n[{\"id\": 1}]\n```", kindJSON, 1},
		{`{"a": `, kindBadJSON, 0},
		{"# Title\n\n- one\n- two\n\n1. first\n", kindMarkdown, 0},
		{"Just a sentence.", kindText, 0},
	}
	for _, tc := range cases {
		sh := shapeOf(tc.text)
		if sh.kind != tc.kind || len(sh.keys) != tc.keys {
			t.Errorf("%q: got kind %s with %d keys, want %s with %d", tc.text, sh.kind, len(sh.keys), tc.kind, tc.keys)
		}
	}
}
