package quality

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/use-lumina/lumina/internal/genai"
)

// checkMatchesLegacy compares every optimized text function with its legacy version
// (legacy_test.go) on inputs built from a, b and c.
func checkMatchesLegacy(t *testing.T, a, b, c string) {
	t.Helper()
	for _, s := range []string{a, b, c, a + b + c} {
		var got, want []string
		forEachToken(s, func(tok []byte) { got = append(got, string(tok)) })
		legacyForEachToken(s, func(tok []byte) { want = append(want, string(tok)) })
		if !slices.Equal(got, want) {
			t.Fatalf("tokens of %q: got %q, want %q", s, got, want)
		}
		gs, ws := sketchText(s), legacySketchText(s)
		if gs.simhash != ws.simhash || gs.tokens != ws.tokens || !slices.Equal(gs.minhash, ws.minhash) {
			t.Fatalf("sketch of %q: got %x/%d/%v, want %x/%d/%v", s, gs.simhash, gs.tokens, gs.minhash, ws.simhash, ws.tokens, ws.minhash)
		}
		if got, want := hashNormalized(s), fnv64(legacyNormalizeSpace(s)); got != want {
			t.Fatalf("hashNormalized(%q) = %x, want %x", s, got, want)
		}
		if got, want := normalizeSpace(s), legacyNormalizeSpace(s); got != want {
			t.Fatalf("normalizeSpace(%q) = %q, want %q", s, got, want)
		}
		if got, want := isRefusal(s), legacyIsRefusal(s); got != want {
			t.Fatalf("isRefusal(%q) = %v, want %v", s, got, want)
		}
		w1, w2 := []byte(s), []byte(s)
		if got, want := stem(w1), legacyStem(w2); !bytes.Equal(got, want) {
			t.Fatalf("stem(%q) = %q, want %q", s, got, want)
		}
		if _, want := legacyStopwords[s]; isStopword([]byte(s)) != want {
			t.Fatalf("isStopword(%q) = %v, want %v", s, !want, want)
		}
	}
	sketches := [][]uint32{sketchText(a).minhash, sketchText(b).minhash, sketchText(c).minhash, sketchText(a + b).minhash, nil}
	for _, x := range sketches {
		for _, y := range sketches {
			if got, want := minHashJaccard(x, y), legacyMinHashJaccard(x, y); got != want {
				t.Fatalf("minHashJaccard(%v, %v) = %v, want %v", x, y, got, want)
			}
		}
	}
	calls := []*genai.Call{
		{SystemInstructions: a, InputMessages: []genai.Message{{Role: "user", Content: b}}, OutputMessages: []genai.Message{{Content: c}}},
		{InputMessages: []genai.Message{{Role: a, Raw: b, ToolCalls: []genai.ToolCall{{Name: c, Arguments: a}}}, {Role: "tool", Content: c}},
			OutputMessages: []genai.Message{{Raw: a}, {Content: b, ToolCalls: []genai.ToolCall{{Name: c, Arguments: b}}}}},
		{OutputMessages: []genai.Message{{Content: "", Raw: b}}},
		{OutputMessages: []genai.Message{{ToolCalls: []genai.ToolCall{{Name: a}}}}},
		{},
	}
	for _, call := range calls {
		if got, want := promptHash(call), legacyPromptHash(call); got != want {
			t.Fatalf("promptHash(%+v) = %x, want %x", call, got, want)
		}
		if got, want := promptHash(call), fnv64(promptText(call)); got != want {
			t.Fatalf("promptHash(%+v) = %x, fnv64(promptText) = %x", call, got, want)
		}
		gt, gn := responseText(call)
		wt, wn := legacyResponseText(call)
		if gt != wt || gn != wn {
			t.Fatalf("responseText(%+v) = %q, %d; want %q, %d", call, gt, gn, wt, wn)
		}
	}
}

// FuzzTextFunctionsMatchLegacy checks that the optimized tokenizer, stemmer, stop-word set,
// sketches, hashes, refusal check and text extraction agree with the straightforward
// versions they replaced, on any input.
func FuzzTextFunctionsMatchLegacy(f *testing.F) {
	seeds := append([]string{"", " ", "a", "clicking", "studies", "flies", "repeatedly", "hopefully", "ed", "being",
		"  Hello   World\n", "ÉTÉ  à\tla plage ", "İstanbul ΣΊΣΥΦΟΣ", "caf\xe9 \xff\xfe\xe2\x80", "\u0085x\u00a0y\u2028z",
		"I’m sorry, but I can’t help", strings.Repeat("word ", 20000)}, refusalPhrases...)
	seeds = append(seeds, goldenVocab...)
	for i, s := range seeds {
		f.Add(s, seeds[(i+1)%len(seeds)], seeds[(i+7)%len(seeds)])
	}
	f.Fuzz(checkMatchesLegacy)
}

// TestTextFunctionsMatchLegacy runs the same comparison on a seeded stream of texts of
// the golden test's vocabulary.
func TestTextFunctionsMatchLegacy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for range 300 {
		checkMatchesLegacy(t, goldenText(rng, rng.IntN(400)), goldenText(rng, rng.IntN(20)), goldenText(rng, rng.IntN(3)))
	}
}

// TestStopwords checks that every stop word fits packWord and is found.
func TestStopwords(t *testing.T) {
	for _, w := range strings.Fields(stopwordList) {
		if len(w) > maxStopwordLen {
			t.Errorf("%q is longer than maxStopwordLen %d", w, maxStopwordLen)
		}
		if !isStopword([]byte(w)) {
			t.Errorf("isStopword(%q) = false", w)
		}
	}
}

// TestRefusalPhrasesHaveHeads checks that every refusal phrase is longer than the four
// bytes refusalIn indexes them by.
func TestRefusalPhrasesHaveHeads(t *testing.T) {
	for _, p := range refusalPhrases {
		if len(p) <= 4 {
			t.Errorf("refusal phrase %q is too short for refusalByHead", p)
		}
	}
}
