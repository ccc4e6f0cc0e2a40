package genai_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/use-lumina/lumina/internal/genai"
)

func TestLimitsString(t *testing.T) {
	l := genai.Limits{MaxValueBytes: 200}
	cases := []struct {
		name string
		in   string
		cut  bool
	}{
		{"fits", strings.Repeat("a", 200), false},
		{"ascii over", strings.Repeat("a", 1000), true},
		{"multibyte boundary", strings.Repeat("é", 500), true},
		{"emoji", strings.Repeat("🙂", 300), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, cut := l.String(c.in)
			if cut != c.cut {
				t.Fatalf("got cut %v, want %v", cut, c.cut)
			}
			if !cut {
				if got != c.in {
					t.Errorf("value changed without a cut")
				}
				return
			}
			if len(got) > 200 {
				t.Errorf("got %d bytes, want at most 200", len(got))
			}
			if !utf8.ValidString(got) {
				t.Errorf("cut is not valid UTF-8: %q", got)
			}
			if want := genai.TruncationMarker(len(c.in)); !strings.HasSuffix(got, want) {
				t.Errorf("got %q, want suffix %q", got, want)
			}
			if again, cutAgain := l.String(got); cutAgain || again != got {
				t.Errorf("applying the limit twice cut again")
			}
		})
	}
}

func TestLimitsApply(t *testing.T) {
	big := strings.Repeat("x", 5000)
	shared := map[string]any{"service.name": "svc", "blob": big}
	s := genai.Span{
		Attributes: map[string]any{
			"gen_ai.operation.name": "chat", "gen_ai.request.model": "m", "gen_ai.system": "openai",
			"gen_ai.input.messages": `[{"role":"user","parts":[{"type":"text","content":"` + big + `"}]}]`,
			"nested":                []any{"short", map[string]any{"deep": big}},
			"bytes":                 []byte(big),
		},
		Resource:      shared,
		StatusMessage: big,
		Events:        []genai.Event{{Name: "exception", Attributes: map[string]any{"exception.stacktrace": big}}},
	}
	genai.Normalize(&s)
	if got := s.GenAI.InputMessages[0].Content; got != big {
		t.Fatalf("normalization must see the whole value first; got %d bytes", len(got))
	}
	l := genai.Limits{MaxValueBytes: 1024}
	if !l.Apply(&s) {
		t.Fatal("Apply reported nothing cut")
	}
	marker := genai.TruncationMarker(5000)
	checks := map[string]string{
		"message content": s.GenAI.InputMessages[0].Content,
		"status message":  s.StatusMessage,
		"resource":        s.Resource["blob"].(string),
		"event":           s.Events[0].Attributes["exception.stacktrace"].(string),
		"nested":          s.Attributes["nested"].([]any)[1].(map[string]any)["deep"].(string),
		"bytes":           string(s.Attributes["bytes"].([]byte)),
	}
	for name, v := range checks {
		if len(v) > 1024 || !strings.HasSuffix(v, marker) {
			t.Errorf("%s: got %d bytes ending %q, want <= 1024 ending with the marker", name, len(v), v[max(0, len(v)-50):])
		}
	}
	if shared["blob"] != big {
		t.Error("Apply modified a resource map shared with other spans")
	}
	if s.Attributes["nested"].([]any)[0] != "short" {
		t.Error("short values must be kept")
	}
	if l.Apply(&s) {
		t.Error("a second Apply cut again")
	}
}

func TestLimitsApplyLog(t *testing.T) {
	big := strings.Repeat("y", 3000)
	r := genai.LogRecord{EventName: "gen_ai.user.message", Body: map[string]any{"content": big}}
	genai.NormalizeLog(&r)
	l := genai.Limits{MaxValueBytes: 512}
	if !l.ApplyLog(&r) {
		t.Fatal("ApplyLog reported nothing cut")
	}
	marker := genai.TruncationMarker(3000)
	if body := r.Body.(map[string]any)["content"].(string); !strings.HasSuffix(body, marker) || len(body) > 512 {
		t.Errorf("body not cut with marker: %d bytes", len(body))
	}
	if m := r.Messages[0].Content; !strings.HasSuffix(m, marker) {
		t.Errorf("message not cut with marker: %d bytes", len(m))
	}
}

func TestDefaultLimits(t *testing.T) {
	if got := genai.DefaultLimits().MaxValueBytes; got != 256<<10 {
		t.Errorf("got default %d, want 256 KiB", got)
	}
	s := strings.Repeat("z", 300<<10)
	got, cut := genai.Limits{}.String(s)
	if !cut || len(got) > genai.DefaultMaxValueBytes {
		t.Errorf("zero Limits must apply the default: cut %v, %d bytes", cut, len(got))
	}
}

// TestLimitsBeforeNormalize covers the other order (limits first, as a pipeline may apply
// them): the cut message attribute still yields its complete messages and the cut one.
func TestLimitsBeforeNormalize(t *testing.T) {
	long := strings.Repeat("word ", 2000)
	s := genai.Span{Attributes: map[string]any{
		"gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
		"gen_ai.usage.input_tokens": int64(2100), "gen_ai.usage.output_tokens": int64(5),
		"gen_ai.input.messages": `[{"role":"system","parts":[{"type":"text","content":"Be brief."}]},` +
			`{"role":"user","parts":[{"type":"text","content":"` + long + `"}]}]`,
	}}
	genai.Limits{MaxValueBytes: 4096}.Apply(&s)
	genai.Normalize(&s)
	c := s.GenAI
	if len(c.InputMessages) != 2 || c.InputMessages[0].Content != "Be brief." {
		t.Fatalf("got %+v, want the system message and the cut user message", c.InputMessages)
	}
	last := c.InputMessages[1]
	if !strings.HasPrefix(long, last.Content) || len(last.Content) < 3000 || last.Raw == "" || !c.ContentPartial {
		t.Errorf("got user content of %d bytes, raw %d bytes, partial %v; want a prefix of the text, the raw value, partial",
			len(last.Content), len(last.Raw), c.ContentPartial)
	}
	if c.Usage.InputTokens != 2100 {
		t.Errorf("got input %d, want 2100", c.Usage.InputTokens)
	}
}
