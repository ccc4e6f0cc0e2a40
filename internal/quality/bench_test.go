package quality

import (
	"fmt"
	"strings"
	"testing"
)

// A ~1.2 KB markdown answer, the size of a typical support response.
var benchAnswer = strings.Repeat(passwordAnswer+"\n\n", 3)

// BenchmarkScore scores a response against a full set of references (4 for the prompt,
// 16 for the endpoint): the per-span cost of tier 1 in the worker.
func BenchmarkScore(b *testing.B) {
	s, _ := newTestScorer()
	for i := range 16 {
		s.Score("p", "support / chat", llmCall(fmt.Sprintf("prompt %d", i%4), benchAnswer+fmt.Sprint(i)))
	}
	c := llmCall("prompt 1", benchAnswer+" reworded slightly")
	b.SetBytes(int64(len(benchAnswer)))
	b.ReportAllocs()
	for b.Loop() {
		s.Score("p", "support / chat", c)
	}
}

// BenchmarkScoreJSON is the same for a JSON endpoint.
func BenchmarkScoreJSON(b *testing.B) {
	s, _ := newTestScorer()
	for i := range 16 {
		s.Score("p", "crm / extract", llmCall(fmt.Sprintf("prompt %d", i%4), customerJSON))
	}
	c := llmCall("prompt 1", `{"full_name": "Ada Lovelace", "email_address": "ada@example.com", "tier": "pro", "seats": 5}`)
	b.ReportAllocs()
	for b.Loop() {
		s.Score("p", "crm / extract", c)
	}
}

// BenchmarkSketch is the one-pass SimHash + MinHash of a response.
func BenchmarkSketch(b *testing.B) {
	b.SetBytes(int64(len(benchAnswer)))
	b.ReportAllocs()
	for b.Loop() {
		sketchText(benchAnswer)
	}
}
