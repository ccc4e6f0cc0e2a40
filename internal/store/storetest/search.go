package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// RunSearch runs the suite's tests of TraceQuery.Text, the full-text search over prompts
// and responses (Run includes them), for a backend to run again with another query
// strategy.
func RunSearch(t *testing.T, open Opener) {
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"SearchText", testSearchText},
		{"SearchWithFiltersAndPages", testSearchWithFiltersAndPages},
		{"SearchRewrite", testSearchRewrite},
		{"SearchRetention", testSearchRetention},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// chat is an LLM span of trace tr with the given prompt and response.
func chat(p string, tr, id int, start time.Duration, prompt, response string) genai.Span {
	s := llm(p, tr, id, 0, "gpt-4o", 10, 5, f64(0.01))
	s.StartTime, s.EndTime = at(start), at(start+time.Second)
	if prompt != "" {
		s.GenAI.InputMessages = []genai.Message{{Role: "user", Content: prompt}}
	}
	if response != "" {
		s.GenAI.OutputMessages = []genai.Message{{Role: "assistant", Content: response}}
	}
	return s
}

// searchFixture writes, in project A:
//
//	1: t=0   prompt "Where is my REFUND for order #1234?", response "Your refund was issued on Monday."
//	2: t=1m  system "You are a translator.", prompt "Translate hello for me", response "Bonjour"
//	3: t=2m  prompt "weather in Paris?", response a tool call lookup_weather {"city":"Paris"}
//	4: t=3m  an agent span whose messages say "refund" (only LLM spans are indexed)
//
// and in project B, trace 5 with "refund" in its prompt.
func searchFixture(t *testing.T, s store.Store) {
	t.Helper()
	t2 := chat(projectA, 2, 21, time.Minute, "Translate hello for me", "Bonjour")
	t2.GenAI.SystemInstructions = "You are a translator."
	t3 := chat(projectA, 3, 31, 2*time.Minute, "weather in Paris?", "")
	t3.GenAI.OutputMessages = []genai.Message{{Role: "assistant",
		ToolCalls: []genai.ToolCall{{ID: "call_1", Name: "lookup_weather", Arguments: `{"city":"Paris"}`}}}}
	t4 := agent(projectA, 4, 41, 0, 0, 0)
	t4.StartTime, t4.EndTime = at(3*time.Minute), at(3*time.Minute+time.Second)
	t4.GenAI.InputMessages = []genai.Message{{Role: "user", Content: "refund please"}}
	write(t, s, []genai.Span{
		chat(projectA, 1, 11, 0, "Where is my REFUND for order #1234?", "Your refund was issued on Monday."),
		t2, t3, t4,
	})
	write(t, s, []genai.Span{chat(projectB, 5, 51, 0, "refund", "ok")})
}

// searchIDs lists the trace ids of the first page of q in project A.
func searchIDs(t *testing.T, s store.Store, q store.TraceQuery) []string {
	t.Helper()
	q.ProjectID = projectA
	page, err := s.Traces(context.Background(), q)
	if err != nil {
		t.Fatalf("Traces(text %q): %v", q.Text, err)
	}
	return traceIDs(page.Traces)
}

func testSearchText(t *testing.T, s store.Store) {
	searchFixture(t, s)
	tests := []struct {
		name, text string
		want       []int
	}{
		{"empty text does not filter", "", []int{4, 3, 2, 1}},
		{"in a prompt", "order", []int{1}},
		{"in a response", "monday", []int{1}},
		{"in a prompt and a response", "refund", []int{1}},
		{"in the system instructions", "translator", []int{2}},
		{"in a response of one word", "bonjour", []int{2}},
		{"in tool call arguments", "city", []int{3}},
		{"in a tool call name", "lookup", []int{3}},
		{"word in several traces", "for", []int{2, 1}},
		{"a word and not its prefix", "you", []int{2}},
		{"all terms of one span", "refund monday", []int{1}},
		{"terms of different traces", "refund bonjour", nil},
		{"no match", "kangaroo", nil},
		{"whole words only", "refun", nil},
		{"a number", "1234", []int{1}},
		{"upper case query", "MONDAY", []int{1}},
		{"mixed case query and text", "ReFuNd", []int{1}},
		{"phrase", `"refund was issued"`, []int{1}},
		{"phrase out of order", `"issued refund"`, nil},
		{"phrase and word", `"hello" translator`, []int{2}},
		{"punctuation inside words", "refund!!! (monday)", []int{1}},
		{"only an agent span has it", "please", nil},
		{"project B's words", "ok", nil},
		// Query syntax of FTS5, tsquery and SQL is plain text.
		{"fts or", "refund OR bonjour", nil},
		{"fts not", "-refund", []int{1}},
		{"fts prefix", "refun*", nil},
		{"fts near", "NEAR(refund monday)", nil},
		{"fts column filter", "body:refund", nil},
		{"fts caret", "^refund", []int{1}},
		{"tsquery operators", "refund & !monday | x:*", nil},
		{"tsquery phrase operator", "refund <-> monday", []int{1}},
		{"sql", "'; DROP TABLE spans; --", nil},
		{"unbalanced quote", `"refund`, []int{1}},
		{"quotes only", `"""`, []int{4, 3, 2, 1}},
		{"symbols only", `* - ( ) : ^ ' \ % _ & | !`, []int{4, 3, 2, 1}},
		{"invalid utf-8", "\xff\xferefund", []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diff(t, "trace ids", searchIDs(t, s, store.TraceQuery{Text: tt.text}), ids(tt.want))
		})
	}
	// The hostile strings left the schema alone.
	if got := searchIDs(t, s, store.TraceQuery{Text: "refund"}); len(got) != 1 {
		t.Errorf("refund after the hostile queries: got %d traces, want 1", len(got))
	}
}

func testSearchWithFiltersAndPages(t *testing.T, s store.Store) {
	// Traces 1..12, one minute apart; every one mentions an invoice, odd ones are in
	// service "billing", and every third also mentions a refund; traces 13..40 mention
	// neither.
	var spans []genai.Span
	for n := 1; n <= 12; n++ {
		response := "Here is your invoice."
		if n%3 == 0 {
			response = "Your invoice and refund."
		}
		c := chat(projectA, n, n*10, time.Duration(n)*time.Minute, "Send me the invoice", response)
		if n%2 == 1 {
			c.ServiceName = "billing"
		}
		spans = append(spans, c)
	}
	// Newer traces without the words, more than a page of 1 probes (see the sqlite store).
	for n := 13; n <= 40; n++ {
		spans = append(spans, chat(projectA, n, n*10, time.Duration(n)*time.Minute, "nothing to see", "here"))
	}
	write(t, s, spans)

	tests := []struct {
		name string
		q    store.TraceQuery
		want []int
	}{
		{"text and service", store.TraceQuery{Text: "invoice", Service: "billing"}, []int{11, 9, 7, 5, 3, 1}},
		{"two terms and service", store.TraceQuery{Text: "invoice refund", Service: "billing"}, []int{9, 3}},
		{"text and model, ascending", store.TraceQuery{Text: "refund", Model: "gpt-4o", Ascending: true}, []int{3, 6, 9, 12}},
		{"text and time window", store.TraceQuery{Text: "invoice", Since: at(4 * time.Minute), Until: at(8 * time.Minute)}, []int{7, 6, 5, 4}},
		{"text and status", store.TraceQuery{Text: "invoice", Status: genai.StatusError}, nil},
		{"text and cost", store.TraceQuery{Text: "nothing", MinCostUSD: f64(0.005)}, []int{40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13}},
		{"text sorted by duration", store.TraceQuery{Text: "refund", Sort: store.SortDuration}, []int{12, 9, 6, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, limit := range []int{0, 1, 2, 4} {
				q := tt.q
				q.ProjectID, q.Limit = projectA, limit
				var got []string
				for pages := 0; ; pages++ {
					if pages > 50 {
						t.Fatalf("limit %d: more than 50 pages", limit)
					}
					page, err := s.Traces(context.Background(), q)
					if err != nil {
						t.Fatalf("limit %d: Traces: %v", limit, err)
					}
					if limit > 0 && len(page.Traces) > limit {
						t.Fatalf("limit %d: got a page of %d", limit, len(page.Traces))
					}
					got = append(got, traceIDs(page.Traces)...)
					if page.NextCursor == "" {
						break
					}
					q.Cursor = page.NextCursor
				}
				if got == nil {
					got = []string{}
				}
				diff(t, "trace ids over all pages", got, ids(tt.want))
			}
		})
	}
}

func testSearchRewrite(t *testing.T, s store.Store) {
	first := chat(projectA, 1, 11, 0, "Where is my refund?", "")
	write(t, s, []genai.Span{first})
	// Redelivery, in a batch of its own and repeated within one batch.
	write(t, s, []genai.Span{first})
	write(t, s, []genai.Span{first, first, span(projectA, 1, 12, 11, "tool", time.Millisecond, time.Millisecond)})
	page, err := s.Traces(context.Background(), store.TraceQuery{ProjectID: projectA, Text: "refund", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "trace ids after redelivery", traceIDs(page.Traces), ids([]int{1}))

	// The same span again with its response: the old words stay, the new ones match.
	withAnswer := chat(projectA, 1, 11, 0, "Where is my refund?", "It was issued on Monday.")
	write(t, s, []genai.Span{withAnswer})
	diff(t, "after the response arrived: monday", searchIDs(t, s, store.TraceQuery{Text: "refund monday"}), ids([]int{1}))

	// Rewritten with other content: the old words no longer match.
	write(t, s, []genai.Span{chat(projectA, 1, 11, 0, "Cancel my subscription", "Done.")})
	diff(t, "after a rewrite: refund", searchIDs(t, s, store.TraceQuery{Text: "refund"}), ids(nil))
	diff(t, "after a rewrite: subscription", searchIDs(t, s, store.TraceQuery{Text: "subscription"}), ids([]int{1}))

	// Rewritten without content (as an LLM span, then as a plain span): nothing matches.
	write(t, s, []genai.Span{chat(projectA, 1, 11, 0, "", "")})
	diff(t, "after a rewrite without content", searchIDs(t, s, store.TraceQuery{Text: "subscription"}), ids(nil))
	write(t, s, []genai.Span{chat(projectA, 1, 11, 0, "subscription", "")})
	write(t, s, []genai.Span{span(projectA, 1, 11, 0, "plain", 0, time.Second)})
	diff(t, "after a rewrite as a plain span", searchIDs(t, s, store.TraceQuery{Text: "subscription"}), ids(nil))
}

func testSearchRetention(t *testing.T, s store.Store) {
	ctx := context.Background()
	day := 24 * time.Hour
	// The expired spans are written last, so a backend that reuses row ids for new rows
	// reuses theirs.
	write(t, s, []genai.Span{chat(projectA, 3, 31, 0, "new refund question", "new answer")})
	write(t, s, []genai.Span{
		chat(projectA, 1, 11, -10*day, "old refund question", "old answer"),
		chat(projectA, 2, 21, -9*day, "another old refund", ""),
	})
	if _, err := s.DeleteBefore(ctx, store.RetentionPolicy{Cutoff: at(-8 * day)}); err != nil {
		t.Fatalf("DeleteBefore: %v", err)
	}
	diff(t, "refund after retention", searchIDs(t, s, store.TraceQuery{Text: "refund", Since: at(-11 * day)}), ids([]int{3}))
	diff(t, "old after retention", searchIDs(t, s, store.TraceQuery{Text: "old"}), ids(nil))
	// New spans (which may reuse the storage of deleted ones) do not inherit their words.
	write(t, s, []genai.Span{
		chat(projectA, 4, 41, time.Minute, "", ""),
		chat(projectA, 5, 51, 2*time.Minute, "fresh", ""),
	})
	diff(t, "old after new writes", searchIDs(t, s, store.TraceQuery{Text: "old"}), ids(nil))
	diff(t, "fresh", searchIDs(t, s, store.TraceQuery{Text: "fresh"}), ids([]int{5}))
}
