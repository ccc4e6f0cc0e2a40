package quality

import (
	"strings"

	"github.com/use-lumina/lumina/internal/genai"
)

// refusalPhrases open a refusal. They are matched near the start of a response only, so a
// long answer that declines one part ("I can't help with X, but here is Y") is not a refusal.
var refusalPhrases = []string{
	"i can't help with", "i cannot help with", "i can't assist", "i cannot assist",
	"i'm sorry, but i can't", "i'm sorry, but i cannot", "i am sorry, but i cannot",
	"sorry, i can't", "sorry, but i can't", "i'm unable to", "i am unable to",
	"i'm not able to help", "i am not able to help", "i won't be able to help",
	"i can't provide", "i cannot provide", "i can't comply", "i cannot comply",
	"i must decline", "as an ai language model, i cannot", "as an ai, i cannot",
	"i'm not comfortable", "i can't do that", "i cannot do that",
}

// refusalWindow is how far into a response a refusal phrase may start.
const refusalWindow = 160

// isRefusal reports whether text opens with a refusal.
func isRefusal(text string) bool {
	head := text
	if len(head) > refusalWindow+40 {
		head = head[:refusalWindow+40]
	}
	head = strings.ToLower(strings.ReplaceAll(head, "’", "'"))
	for _, p := range refusalPhrases {
		if i := strings.Index(head, p); i >= 0 && i <= refusalWindow {
			return true
		}
	}
	return false
}

// finishFlags returns the flags of the call's finish reasons (normalized by genai).
func finishFlags(c *genai.Call) (truncated, filtered bool) {
	check := func(r string) {
		switch genai.NormalizeFinishReason(r) {
		case "length":
			truncated = true
		case "content_filter":
			filtered = true
		}
	}
	for _, r := range c.FinishReasons {
		check(r)
	}
	for _, m := range c.OutputMessages {
		check(m.FinishReason)
	}
	return truncated, filtered
}

// responseText is what the call answered: the text of its output messages, and the name and
// arguments of each tool call it requested.
func responseText(c *genai.Call) (text string, toolCalls int) {
	var b strings.Builder
	for _, m := range c.OutputMessages {
		content := m.Content
		if content == "" {
			content = m.Raw
		}
		if content != "" {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(content)
		}
		for _, tc := range m.ToolCalls {
			toolCalls++
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(tc.Name)
			b.WriteByte(' ')
			b.WriteString(tc.Arguments)
		}
	}
	return b.String(), toolCalls
}

// promptText is the normalized prompt: system instructions and input messages, role-tagged,
// case and spacing folded.
func promptText(c *genai.Call) string {
	var b strings.Builder
	if c.SystemInstructions != "" {
		b.WriteString("system: ")
		b.WriteString(c.SystemInstructions)
		b.WriteByte('\n')
	}
	for _, m := range c.InputMessages {
		content := m.Content
		if content == "" {
			content = m.Raw
		}
		b.WriteString(m.Role)
		b.WriteString(": ")
		b.WriteString(content)
		for _, tc := range m.ToolCalls {
			b.WriteString(" [tool ")
			b.WriteString(tc.Name)
			b.WriteByte(' ')
			b.WriteString(tc.Arguments)
			b.WriteByte(']')
		}
		b.WriteByte('\n')
	}
	return normalizeSpace(b.String())
}
