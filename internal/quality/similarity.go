package quality

import (
	"context"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// Similarity methods, as reported in Similarity.Method.
const (
	MethodLevenshtein       = "char:levenshtein"        // normalized edit distance over characters
	MethodLevenshteinPrefix = "char:levenshtein_prefix" // the same over the first MaxEditRunes characters
	MethodJaccard           = "token:jaccard"           // word-token set overlap
	MethodCosine            = "token:cosine"            // word-token frequency cosine
	MethodEmbeddings        = "semantic:embeddings"     // cosine of embedding vectors
	MethodNotConfigured     = "semantic:not_configured" // no embeddings provider: no score
)

// MaxEditRunes bounds the edit-distance inputs: the distance is quadratic in time, so longer
// texts are compared on their first MaxEditRunes characters and the method says so.
const MaxEditRunes = 4000

// Similarity is one comparison of two texts. Score is in 0..1 (1 = identical) and nil when
// the method could not run (not configured, provider error); Method always says what ran.
type Similarity struct {
	Score  *float64 `json:"score"`
	Method string   `json:"method"`
	Model  string   `json:"model,omitempty"`
	Note   string   `json:"note,omitempty"`
}

// CharSimilarity is 1 − Levenshtein(a, b) / max(len(a), len(b)) over characters (runes):
// the "hash similarity" replay shows. Memory is linear in the shorter text; texts longer
// than MaxEditRunes are compared on their prefixes (method MethodLevenshteinPrefix).
func CharSimilarity(a, b string) Similarity {
	ra, rb := []rune(a), []rune(b)
	method := MethodLevenshtein
	var note string
	if len(ra) > MaxEditRunes || len(rb) > MaxEditRunes {
		method = MethodLevenshteinPrefix
		note = fmt.Sprintf("compared the first %d characters of %d and %d", MaxEditRunes, len(ra), len(rb))
		ra, rb = ra[:min(len(ra), MaxEditRunes)], rb[:min(len(rb), MaxEditRunes)]
	}
	longest := max(len(ra), len(rb))
	if longest == 0 {
		return Similarity{Score: ptr(1), Method: method, Note: note}
	}
	return Similarity{Score: ptr(1 - float64(levenshtein(ra, rb))/float64(longest)), Method: method, Note: note}
}

// levenshtein is the edit distance with two rows sized by the shorter input.
func levenshtein(a, b []rune) int {
	if len(a) < len(b) {
		a, b = b, a
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// TokenJaccard is the Jaccard similarity of the two texts' content-token sets (lower-cased
// words, stop words dropped, light stemming). Two texts without tokens are identical.
func TokenJaccard(a, b string) Similarity {
	sa, sb := tokenCounts(a), tokenCounts(b)
	if len(sa) == 0 && len(sb) == 0 {
		return Similarity{Score: ptr(1), Method: MethodJaccard}
	}
	both := 0
	for t := range sa {
		if _, ok := sb[t]; ok {
			both++
		}
	}
	return Similarity{Score: ptr(float64(both) / float64(len(sa)+len(sb)-both)), Method: MethodJaccard}
}

// TokenCosine is the cosine similarity of the two texts' content-token frequency vectors.
func TokenCosine(a, b string) Similarity {
	sa, sb := tokenCounts(a), tokenCounts(b)
	if len(sa) == 0 && len(sb) == 0 {
		return Similarity{Score: ptr(1), Method: MethodCosine}
	}
	var dot, na, nb float64
	for t, x := range sa {
		na += float64(x * x)
		dot += float64(x * sb[t])
	}
	for _, y := range sb {
		nb += float64(y * y)
	}
	if na == 0 || nb == 0 {
		return Similarity{Score: ptr(0), Method: MethodCosine}
	}
	return Similarity{Score: ptr(dot / math.Sqrt(na*nb)), Method: MethodCosine}
}

func tokenCounts(s string) map[string]int {
	m := map[string]int{}
	forEachToken(s, func(t []byte) { m[string(t)]++ })
	return m
}

// Embedder turns texts into embedding vectors, one per text, in order. cmd/lumina wires it
// to internal/llm's OpenAI embeddings client.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float64, error)
}

// Semantic compares texts by meaning through an embeddings provider. The zero value (or
// a nil Embedder) is "not configured" and says so instead of scoring.
type Semantic struct {
	Embedder Embedder
	Model    string // reported in Similarity.Model
}

// ErrNotConfigured is returned when a provider-backed feature has no provider configured.
var ErrNotConfigured = errors.New("not configured")

// Similarity compares a and b. Without an embedder it returns method
// MethodNotConfigured, no score and ErrNotConfigured; a provider failure returns method
// MethodEmbeddings, no score and the error.
func (s Semantic) Similarity(ctx context.Context, a, b string) (Similarity, error) {
	if s.Embedder == nil {
		return Similarity{Method: MethodNotConfigured, Note: "no embeddings provider: set OPENAI_API_KEY"}, ErrNotConfigured
	}
	out := Similarity{Method: MethodEmbeddings, Model: s.Model}
	if !utf8.ValidString(a) || !utf8.ValidString(b) {
		return out, errors.New("embed texts: invalid UTF-8")
	}
	vecs, err := s.Embedder.Embed(ctx, []string{a, b})
	if err != nil {
		return out, fmt.Errorf("embed texts: %w", err)
	}
	if len(vecs) != 2 || len(vecs[0]) == 0 || len(vecs[0]) != len(vecs[1]) {
		return out, fmt.Errorf("embed texts: got %d vectors of mismatched or zero size", len(vecs))
	}
	var dot, na, nb float64
	for i := range vecs[0] {
		dot += vecs[0][i] * vecs[1][i]
		na += vecs[0][i] * vecs[0][i]
		nb += vecs[1][i] * vecs[1][i]
	}
	if na == 0 || nb == 0 {
		return out, errors.New("embed texts: zero vector")
	}
	// Cosine of embeddings is in −1..1; negative similarity means unrelated here.
	out.Score = ptr(clamp01(dot / math.Sqrt(na*nb)))
	return out, nil
}
