package quality

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/otlp"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/scores.json")

// TestScoresGolden pins every tier-1 result, byte for byte, on a seeded stream of varied
// calls (prose, markdown, JSON, refusals, truncations, tool calls, Unicode, invalid UTF-8,
// texts over maxTokenBytes, redeliveries) and on the genai OTLP fixtures: the scorer's
// hot paths are optimized by hand, and a change of any score, flag, reason, sketch or
// prompt hash must be deliberate.
func TestScoresGolden(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	s := NewScorer(ScorerConfig{RefsPerEndpoint: 8, RefsPerPrompt: 3}, c.now)
	var got bytes.Buffer
	record := func(label string, q *genai.Quality) {
		b, err := json.Marshal(q)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&got, "%s\t%s\n", label, b)
	}
	for i, sp := range goldenSpans(t) {
		if sp.GenAI != nil && sp.GenAI.Type == genai.TypeLLM {
			record(fmt.Sprintf("fixture %d %s", i, sp.Name), s.ScoreSpan(&sp))
		}
	}
	rng := rand.New(rand.NewPCG(7, 11))
	var earlier []string
	for i := range 600 {
		c.advance(time.Minute)
		sp := goldenCall(rng, i, &earlier)
		record(fmt.Sprintf("call %d %s", i, sp.Name), s.ScoreSpan(&sp))
	}

	path := filepath.Join("testdata", "golden", "scores.txt")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (go test ./internal/quality -run TestScoresGolden -update): %v", err)
	}
	gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(gl), len(wl)) {
		if gl[i] != wl[i] {
			t.Fatalf("line %d differs from %s:\ngot  %s\nwant %s", i+1, path, gl[i], wl[i])
		}
	}
	if len(gl) != len(wl) {
		t.Fatalf("got %d lines, want %d", len(gl), len(wl))
	}
}

// goldenSpans are the normalized spans of the genai OTLP fixtures.
func goldenSpans(t *testing.T) []genai.Span {
	files, err := filepath.Glob(filepath.Join("..", "genai", "testdata", "fixtures", "*.traces.pb"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var out []genai.Span
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var u ptrace.ProtoUnmarshaler
		td, err := u.UnmarshalTraces(b)
		if err != nil {
			t.Fatalf("decode %s: %v", f, err)
		}
		spans := otlp.Spans(td, "fixtures")
		for i := range spans {
			genai.Normalize(&spans[i])
		}
		out = append(out, spans...)
	}
	return out
}

// goldenVocab mixes plain English, inflections the stemmer cuts, stop words, Unicode
// letters and digits, case and punctuation.
var goldenVocab = strings.Fields(`the customer Order invoices refunded shipping Account's password reset resetting
	please help me with my last payment it was charged twice and I would like to know why clicking settings
	according to our policy refunds are processed within five business days you can track flies studies
	carefully repeatedly hopefully ones was is edly ing ies es s ly being these those there
	Überweisung café naïve résumé İstanbul ΣΊΣΥΦΟΣ Привет 東京 データ 123 4.5 x86_64 e-mail
	don't can't it’s “quoted” (paren) [bracket] a-b-c ALLCAPS MiXeD 🙂 `)

func goldenText(rng *rand.Rand, words int) string {
	var b strings.Builder
	for i := range words {
		if i > 0 {
			b.WriteString([]string{" ", " ", " ", "  ", "\n", "\t", ", ", ". "}[rng.IntN(8)])
		}
		b.WriteString(goldenVocab[rng.IntN(len(goldenVocab))])
	}
	return b.String()
}

// goldenCall draws one LLM span: a few services and prompts, so that prompt and endpoint
// references both fill up, and every response shape the checks distinguish. earlier holds
// the responses drawn so far, for exact repeats.
func goldenCall(rng *rand.Rand, i int, earlier *[]string) genai.Span {
	prompts := []string{"How do I reset my password?", "Summarize the ticket.", "Extract the customer as JSON.", "how do I   RESET my password?"}
	prompt := prompts[rng.IntN(len(prompts))]
	if rng.IntN(8) == 0 {
		prompt = goldenText(rng, 40)
	}
	c := &genai.Call{
		Type: genai.TypeLLM, Operation: "chat", Provider: "openai", RequestModel: "gpt-4o-mini",
		ResponseID: fmt.Sprintf("resp_%d", i),
	}
	if rng.IntN(4) > 0 {
		c.SystemInstructions = []string{"You are a helpful support assistant.", "You are a   helpful\tsupport assistant.  ", "Réponds en français, İ."}[rng.IntN(3)]
	}
	c.InputMessages = []genai.Message{{Role: "user", Content: prompt}}
	if rng.IntN(5) == 0 {
		c.InputMessages = append(c.InputMessages,
			genai.Message{Role: "assistant", ToolCalls: []genai.ToolCall{{Name: "lookup", Arguments: `{"id": 7}`}}},
			genai.Message{Role: "tool", Raw: `{"status":"shipped"}`})
	}
	var out string
	switch k := rng.IntN(15); k {
	case 14:
		if len(*earlier) > 0 { // an exact repeat
			out = (*earlier)[rng.IntN(len(*earlier))]
		}
	case 0, 1, 2:
		out = goldenText(rng, 20+rng.IntN(200))
	case 3, 4:
		out = "## Steps\n\n1. " + goldenText(rng, 8) + "\n2. " + goldenText(rng, 8) + "\n- " + goldenText(rng, 5) +
			"\n\n```sh\nlumina reset\n```\n| a | b |\n" + goldenText(rng, 30)
	case 5, 6:
		keys := []string{"name", "email", "plan", "seats", "tier", "address"}
		var b strings.Builder
		b.WriteString("{")
		for j := range 2 + rng.IntN(4) {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q: %q", keys[rng.IntN(len(keys))], goldenText(rng, 2))
		}
		b.WriteString(`, "items": [{"id": 1, "tags": {"x": true}}]}`)
		out = b.String()
		if rng.IntN(3) == 0 {
			out = "```json\n" + out + "\n```"
		}
	case 7:
		out = `{"name": "Ada", "email": ` // broken JSON
	case 8:
		out = []string{"I’m sorry, but I can’t help with that.", "Sure. " + goldenText(rng, 20) + " I cannot provide more.",
			"As an AI language model, I cannot do that", "I'M UNABLE TO comply"}[rng.IntN(4)]
	case 9:
		out = goldenText(rng, 30)
		c.FinishReasons = []string{[]string{"length", "max_tokens", "content_filter", "stop", "end_turn"}[rng.IntN(5)]}
	case 10:
		out = "   \n\t"
		if rng.IntN(2) == 0 {
			c.ErrorType = "timeout"
		}
	case 11:
		out = strings.Repeat(goldenText(rng, 50)+" ", 300) // over maxTokenBytes
	case 12:
		out = "caf\xe9 \xff\xfe broken " + goldenText(rng, 10) + "\xe2\x80"
	case 13:
		out = strings.Repeat("supercalifragilisticexpialidociouslyandthensomemorelettersuntilitisverylong", 2) + " " + goldenText(rng, 10)
	}
	*earlier = append(*earlier, out)
	m := genai.Message{Role: "assistant", Content: out, FinishReason: []string{"", "stop", "length"}[rng.IntN(3)]}
	if rng.IntN(6) == 0 {
		m.Content, m.Raw = "", out
	}
	if rng.IntN(5) == 0 {
		m.ToolCalls = []genai.ToolCall{{Name: "lookup_order", Arguments: `{"order": "A-1"}`}}
	}
	switch rng.IntN(20) {
	case 0: // no content captured
	case 1:
		c.OutputMessages = []genai.Message{m, {Role: "assistant", Content: goldenText(rng, 10)}}
	default:
		c.OutputMessages = []genai.Message{m}
	}
	if rng.IntN(15) == 0 && i > 0 {
		c.ResponseID = fmt.Sprintf("resp_%d", i-1) // redelivered
	}
	services := []string{"support-bot", "rag-search", "extract"}
	sp := genai.Span{
		ProjectID: []string{"p1", "p2"}[rng.IntN(2)], TraceID: fmt.Sprintf("t%03d", i), SpanID: fmt.Sprintf("s%03d", i%97),
		ServiceName: services[rng.IntN(len(services))], Name: "chat gpt-4o-mini", GenAI: c,
		Attributes: map[string]any{},
	}
	if rng.IntN(4) == 0 {
		sp.Attributes["gen_ai.prompt.name"] = "faq"
	}
	return sp
}
