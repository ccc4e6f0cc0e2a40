package store

import (
	"reflect"
	"strings"
	"testing"

	"github.com/use-lumina/lumina/internal/genai"
)

func TestParseSearch(t *testing.T) {
	tests := []struct {
		text string
		want []SearchTerm
	}{
		{"", nil},
		{"   ", nil},
		{"Refund", []SearchTerm{{"refund"}}},
		{"refund  ORDER", []SearchTerm{{"refund"}, {"order"}}},
		{`"late delivery" refund`, []SearchTerm{{"late", "delivery"}, {"refund"}}},
		{`refund "late delivery`, []SearchTerm{{"refund"}, {"late", "delivery"}}},
		{`"" * - () NEAR(a b) OR x`, []SearchTerm{{"near"}, {"a"}, {"b"}, {"or"}, {"x"}}},
		{`'; DROP TABLE spans; --`, []SearchTerm{{"drop"}, {"table"}, {"spans"}}},
		{"a&b|!c<->d:*", []SearchTerm{{"a"}, {"b"}, {"c"}, {"d"}}},
		{"Café naïve 東京", []SearchTerm{{"café"}, {"naïve"}, {"東京"}}},
		{"\xff\xfe ok", []SearchTerm{{"ok"}}},
	}
	for _, tt := range tests {
		if got := ParseSearch(tt.text); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSearch(%q): got %q, want %q", tt.text, got, tt.want)
		}
	}
	if got := ParseSearch(strings.Repeat("w ", 40)); len(got) != MaxSearchTerms {
		t.Errorf("40 terms: got %d kept, want %d", len(got), MaxSearchTerms)
	}
}

func TestSearchText(t *testing.T) {
	c := &genai.Call{
		Type:               genai.TypeLLM,
		SystemInstructions: "You are Helpful.",
		InputMessages:      []genai.Message{{Role: "user", Content: "Where's my order #42?"}},
		OutputMessages: []genai.Message{{Role: "assistant", Content: "Let me check.",
			ToolCalls: []genai.ToolCall{{ID: "call_1", Name: "lookup_order", Arguments: `{"id":42}`}}}},
	}
	want := "you are helpful where s my order 42 let me check lookup order id 42"
	if got := SearchText(c); got != want {
		t.Errorf("SearchText: got %q, want %q", got, want)
	}
	for _, c := range []*genai.Call{nil, {Type: genai.TypeAgent, InputMessages: c.InputMessages}} {
		if got := SearchText(c); got != "" {
			t.Errorf("SearchText(%v): got %q, want empty", c, got)
		}
	}
	long := &genai.Call{Type: genai.TypeLLM, InputMessages: []genai.Message{{Content: strings.Repeat("abcdefg ", 5000)}}}
	got := SearchText(long)
	if len(got) > SearchTextLimit || len(got) < SearchTextLimit-8 || strings.HasSuffix(got, " ") {
		t.Errorf("capped text: got %d bytes ending %q, want at most %d on a word boundary", len(got), got[len(got)-8:], SearchTextLimit)
	}
}
