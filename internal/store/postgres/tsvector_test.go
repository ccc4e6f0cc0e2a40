package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// TestTSVectorMatchesToTSVector sends each text's tsvector to the server in the binary
// format, as the span write does, and compares it with what to_tsvector('simple', text)
// computes there: the same lexemes, positions and limits.
func TestTSVectorMatchesToTSVector(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, tempSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	call := func(content ...string) string {
		c := &genai.Call{Type: genai.TypeLLM, SystemInstructions: content[0]}
		for _, m := range content[1:] {
			c.InputMessages = append(c.InputMessages, genai.Message{Role: "user", Content: m})
		}
		return store.SearchText(c)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	vocabulary := []string{"refund", "Order", "order", "shipped", "café", "Straße", "中文", "naïve",
		"abc123", "123abc", "007", "42", "x", "ÉCOLE", "日本語のテキスト", "résumé", "zoë", "δοκιμή"}
	random := func(n int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = vocabulary[rng.IntN(len(vocabulary))]
		}
		return strings.Join(ws, " ")
	}
	var many []string
	for i := range 17000 {
		many = append(many, fmt.Sprintf("w%d", i%400))
	}
	texts := []string{
		"",
		call("You are a support agent.", "Where is my order #1234? It shipped on 2026-11-30, didn't it?"),
		call("", "refund refund refund", "the refund, please"),
		call(random(50)),
		call(random(3000)),
		strings.Repeat("again ", 300) + "end",            // more positions than a lexeme keeps
		strings.Join(many, " ") + " late late",           // positions past the largest one
		strings.Repeat("a", 2047) + " b",                 // the longest word indexed
		strings.Repeat("a", 2048) + " b " + "c",          // too long: not indexed, not counted
		"x " + strings.Repeat("é", 1500) + " y z",        // too long in bytes, not in characters
		call("Ünïcödé wörds ÀND ASCII", "MiXeD 中文 text"), // lower-cased by SearchText
	}
	for i, text := range texts {
		vec := tsvector(text)
		if text == "" || strings.Trim(text, " ") == "" {
			if vec != nil {
				t.Errorf("text %d: empty text gave %x, want nil (NULL)", i, vec)
			}
			continue
		}
		res := conn.PgConn().ExecParams(ctx, `SELECT $1::tsvector = to_tsvector('simple'::regconfig, $2::text),
			$1::tsvector::text, to_tsvector('simple'::regconfig, $2::text)::text`,
			[][]byte{vec, []byte(text)}, []uint32{oidTSVector, oidText}, []int16{1, 0}, nil).Read()
		if res.Err != nil {
			t.Fatalf("text %d: %v", i, res.Err)
		}
		if string(res.Rows[0][0]) != "t" {
			got, want := string(res.Rows[0][1]), string(res.Rows[0][2])
			t.Errorf("text %d: tsvector differs from to_tsvector\n got %.300s\nwant %.300s", i, got, want)
		}
	}
}

// TestMigrateSearchVec upgrades spans indexed through search_text (before migration 0840):
// their vectors are computed from that text, the column is gone, and the search finds
// them by word and by phrase.
func TestMigrateSearchVec(t *testing.T) {
	dsn, conn := migratedBefore(t, 840)
	ctx := context.Background()
	const text = "where is my refund for order 1234"
	for _, row := range [][]any{{"s1", "llm", text}, {"s2", "", ""}} {
		if _, err := conn.Exec(ctx, `INSERT INTO spans (project_id, trace_id, span_id, start_ns, end_ns, genai_type, search_text)
			VALUES ('p', 't1', $1, 1, 2, $2, $3)`, row...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO traces (project_id, trace_id, start_ns, end_ns, duration_ns, span_count,
		error_count, llm_call_count, unpriced_calls, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
		reasoning_tokens, total_tokens, has_root, service_name, name, status, session_id, user_id, environment,
		model_keys, service_keys, tags)
		VALUES ('p', 't1', 1, 2, 1, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, true, 'svc', 'root', 'ok', '', '', '', '{}', '{}', '{}')`); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, dsn, quietLogger()) // applies 0840
	if err != nil {
		t.Fatalf("open (migrate to 0840): %v", err)
	}
	defer s.Close()
	var same, empty int
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE search_vec = to_tsvector('simple', $1::text)),
		count(*) FILTER (WHERE search_vec IS NULL) FROM spans`, text).Scan(&same, &empty); err != nil {
		t.Fatal(err)
	}
	if same != 1 || empty != 1 {
		t.Errorf("after the upgrade: %d spans with the text's vector and %d without one, want 1 and 1", same, empty)
	}
	var gone bool
	if err := conn.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'spans' AND column_name = 'search_text')`).Scan(&gone); err != nil || !gone {
		t.Errorf("search_text still a column of spans (err %v)", err)
	}
	for _, q := range []string{"refund", `"order 1234"`, "REFUND my"} {
		page, err := s.Traces(ctx, store.TraceQuery{ProjectID: "p", Text: q, Limit: 10})
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		if len(page.Traces) != 1 || page.Traces[0].TraceID != "t1" {
			t.Errorf("search %q after the upgrade: got %+v, want trace t1", q, page.Traces)
		}
	}
	page, err := s.Traces(ctx, store.TraceQuery{ProjectID: "p", Text: `"1234 order"`, Limit: 10})
	if err != nil || len(page.Traces) != 0 {
		t.Errorf(`search "1234 order" (words out of order) after the upgrade: got %+v, %v, want none`, page.Traces, err)
	}
	// A word too long to be a lexeme matches nothing, rather than failing in tsquery's parser.
	page, err = s.Traces(ctx, store.TraceQuery{ProjectID: "p", Text: "refund " + strings.Repeat("a", maxLexemeBytes+1), Limit: 10})
	if err != nil || len(page.Traces) != 0 {
		t.Errorf("search with a %d-byte word: got %+v, %v, want none and no error", maxLexemeBytes+1, page.Traces, err)
	}
}

func BenchmarkTSVector(b *testing.B) {
	batch := benchBatch(0, 5, time.Now())
	text := store.SearchText(batch.Spans[1].GenAI)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tsvector(text)
	}
}
