package quality

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestCharSimilarity(t *testing.T) {
	cases := []struct {
		a, b   string
		want   float64
		method string
	}{
		{"", "", 1, MethodLevenshtein},
		{"kitten", "sitting", 1 - 3.0/7, MethodLevenshtein},
		{"héllo", "hello", 1 - 1.0/5, MethodLevenshtein},
		{"abc", "", 0, MethodLevenshtein},
		{strings.Repeat("a", MaxEditRunes+10), strings.Repeat("a", MaxEditRunes+500), 1, MethodLevenshteinPrefix},
	}
	for _, tc := range cases {
		got := CharSimilarity(tc.a, tc.b)
		if math.Abs(*got.Score-tc.want) > 1e-9 || got.Method != tc.method {
			t.Errorf("%.20q vs %.20q: got %v %s, want %v %s", tc.a, tc.b, *got.Score, got.Method, tc.want, tc.method)
		}
	}
}

func TestTokenSimilarity(t *testing.T) {
	a, b := "The cat sat on the mat", "A cat sat on a hat"
	if got := TokenJaccard(a, b); *got.Score != 2.0/4 || got.Method != MethodJaccard {
		t.Errorf("jaccard: got %v %s, want 0.5", *got.Score, got.Method)
	}
	if got := TokenCosine(a, b); math.Abs(*got.Score-2.0/3) > 1e-9 || got.Method != MethodCosine {
		t.Errorf("cosine: got %v %s, want 0.667", *got.Score, got.Method)
	}
	if got := TokenCosine("cat", ""); *got.Score != 0 {
		t.Errorf("cosine with empty: got %v, want 0", *got.Score)
	}
}

type fakeEmbedder struct {
	vecs [][]float64
	err  error
}

func (f fakeEmbedder) Embed(context.Context, []string) ([][]float64, error) { return f.vecs, f.err }

func TestSemantic(t *testing.T) {
	got, err := Semantic{}.Similarity(context.Background(), "a", "b")
	if !errors.Is(err, ErrNotConfigured) || got.Score != nil || got.Method != MethodNotConfigured {
		t.Errorf("unconfigured: got %+v, %v; want no score, %s", got, err, MethodNotConfigured)
	}
	got, err = Semantic{Embedder: fakeEmbedder{vecs: [][]float64{{1, 0}, {1, 1}}}, Model: "text-embedding-3-small"}.Similarity(context.Background(), "a", "b")
	if err != nil || math.Abs(*got.Score-1/math.Sqrt2) > 1e-9 || got.Method != MethodEmbeddings || got.Model != "text-embedding-3-small" {
		t.Errorf("configured: got %+v, %v", got, err)
	}
	got, err = Semantic{Embedder: fakeEmbedder{err: errors.New("429")}}.Similarity(context.Background(), "a", "b")
	if err == nil || got.Score != nil || got.Method != MethodEmbeddings {
		t.Errorf("provider error: got %+v, %v; want no score and the error", got, err)
	}
}
