package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

func TestTraceListQuality(t *testing.T) {
	srv := newTestServer(t, func() time.Time { return testNow }, nil)
	// Each ragTrace has two LLM calls: spans[2] (scored 0.62 by the fixture) and spans[4].
	good := ragTrace(301, testNow.Add(-3*time.Hour), "rag-api", "good", false)
	good[2].GenAI.Quality.Score = f64(0.9)
	good[4].GenAI.Quality = &genai.Quality{Score: f64(0.8), Tier: genai.QualityTier1, Method: "tier1:prompt"}
	poor := ragTrace(302, testNow.Add(-2*time.Hour), "rag-api", "poor", false)
	poor[4].GenAI.Quality = &genai.Quality{Score: f64(0.4), Tier: genai.QualityTier1, Method: "tier1:prompt"}
	unscored := ragTrace(303, testNow.Add(-time.Hour), "rag-api", "unscored", false)
	unscored[2].GenAI.Quality = &genai.Quality{Tier: genai.QualityTier1, Method: "tier1:first_sample"}
	var batch store.Batch
	for _, spans := range [][]genai.Span{good, poor, unscored} {
		batch.Spans = append(batch.Spans, spans...)
	}
	if err := srv.store.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, srv, "/traces")
	rows := map[string]string{}
	for _, row := range strings.Split(body, "<tr data-href=")[1:] {
		for _, n := range []int{301, 302, 303} {
			if strings.Contains(row, `data-trace-id="`+tid(n)+`"`) {
				rows[tid(n)] = row
			}
		}
	}
	for _, tc := range []struct {
		n    int
		want string
	}{
		{301, `<td class="num"><span title="Mean of 2 scored LLM calls; lowest 0.80">0.85</span></td>`},
		{302, `<td class="num"><span class="errtext" title="Mean of 2 scored LLM calls; lowest 0.40">0.51</span></td>`},
		{303, `<td class="num"><span class="muted">—</span></td>`},
	} {
		row, ok := rows[tid(tc.n)]
		if !ok {
			t.Fatalf("the trace list has no row for trace %d", tc.n)
		}
		if !strings.Contains(row, tc.want) {
			t.Errorf("trace %d: the row lacks %s:\n%s", tc.n, tc.want, row)
		}
	}
	if !strings.Contains(body, `<th scope="col" class="num" title="Mean quality score of the trace's scored LLM calls">Quality</th>`) {
		t.Error("the trace list has no Quality column header")
	}
}
