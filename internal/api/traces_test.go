package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/store/sqlite"
)

func TestTraceQualityJSON(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lumina.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	start := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	call := func(tr, sp int, score *float64) genai.Span {
		s := genai.Span{ProjectID: "default", TraceID: fmt.Sprintf("%032x", tr), SpanID: fmt.Sprintf("%016x", sp), Name: "chat",
			ServiceName: "svc", StartTime: start.Add(time.Duration(tr) * time.Second), EndTime: start.Add(time.Duration(tr)*time.Second + time.Millisecond),
			StatusCode: genai.StatusOK, GenAI: &genai.Call{Type: genai.TypeLLM, Operation: "chat", Provider: "openai", RequestModel: "gpt-4o"}}
		if score != nil {
			s.GenAI.Quality = &genai.Quality{Score: score, Tier: genai.QualityTier1, Method: "test"}
		}
		return s
	}
	f := func(v float64) *float64 { return &v }
	if err := st.Write(ctx, store.Batch{Spans: []genai.Span{call(1, 1, f(0.9)), call(1, 2, f(0.5)), call(2, 3, nil)}}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	New(st, func(*http.Request) (string, error) { return "default", nil }, nil, slog.New(slog.DiscardHandler)).Register(mux)
	read := func(path string, v any) {
		t.Helper()
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: got %d %s", path, rec.Code, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	type item struct {
		TraceID string            `json:"trace_id"`
		Quality *traceQualityJSON `json:"quality"`
	}
	var list struct{ Traces []item }
	read("/api/v1/traces", &list)
	if len(list.Traces) != 2 {
		t.Fatalf("got %d traces, want 2", len(list.Traces))
	}
	byID := map[string]*traceQualityJSON{}
	for _, it := range list.Traces {
		byID[it.TraceID] = it.Quality
	}
	want := traceQualityJSON{ScoredCalls: 2, Mean: 0.7, Min: 0.5}
	if q := byID[fmt.Sprintf("%032x", 1)]; q == nil || q.ScoredCalls != want.ScoredCalls || q.Min != want.Min || q.Mean < 0.7-1e-9 || q.Mean > 0.7+1e-9 {
		t.Errorf("trace 1 quality: got %+v, want %+v", q, want)
	}
	if q, ok := byID[fmt.Sprintf("%032x", 2)]; !ok || q != nil {
		t.Errorf("trace 2 quality: got %+v, want it absent (no scored call)", q)
	}
	var detail item
	read("/api/v1/traces/"+fmt.Sprintf("%032x", 1), &detail)
	if detail.Quality == nil || detail.Quality.ScoredCalls != 2 || detail.Quality.Min != 0.5 {
		t.Errorf("trace detail quality: got %+v, want %+v", detail.Quality, want)
	}
}
