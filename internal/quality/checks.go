package quality

import (
	"strings"
	"unicode/utf8"

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

// refusalFirst marks the bytes a refusal phrase starts with, and refusalByHead groups the
// phrases by their first four bytes (every phrase is longer), so a position is compared
// with the few phrases that can start there.
var refusalFirst = func() (t [256]bool) {
	for _, p := range refusalPhrases {
		t[p[0]] = true
	}
	return t
}()

var refusalByHead = func() map[uint32][]string {
	m := map[uint32][]string{}
	for _, p := range refusalPhrases { // TestRefusalPhrasesHaveHeads checks their lengths
		m[head4(p)] = append(m[head4(p)], p)
	}
	return m
}()

func head4[T string | []byte](s T) uint32 {
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// isRefusal reports whether text opens with a refusal: a phrase starts within the first
// refusalWindow bytes of its lower-cased head (’ read as ').
func isRefusal(text string) bool {
	head := text
	if len(head) > refusalWindow+40 {
		head = head[:refusalWindow+40]
	}
	// The usual head is ASCII: lower-case it on the stack (strings.ToLower would allocate,
	// and ’ cannot occur).
	var buf [refusalWindow + 40]byte
	for i := 0; i < len(head); i++ {
		c := head[i]
		if c >= utf8.RuneSelf {
			return refusalIn([]byte(strings.ToLower(strings.ReplaceAll(head, "’", "'"))))
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return refusalIn(buf[:len(head)])
}

// refusalIn reports whether a refusal phrase starts in head at an offset of at most
// refusalWindow.
func refusalIn(head []byte) bool {
	for i := 0; i+4 <= len(head) && i <= refusalWindow; i++ {
		if !refusalFirst[head[i]] {
			continue
		}
		for _, p := range refusalByHead[head4(head[i:])] {
			if len(head)-i >= len(p) && string(head[i:i+len(p)]) == p {
				return true
			}
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
	if len(c.OutputMessages) == 1 && len(c.OutputMessages[0].ToolCalls) == 0 {
		// The usual answer, one message: its text as is, not a copy.
		m := &c.OutputMessages[0]
		if m.Content != "" {
			return m.Content, 0
		}
		return m.Raw, 0
	}
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
	writePrompt(c, func(s string) { b.WriteString(s) })
	return normalizeSpace(b.String())
}

// promptHash is fnv64(promptText(c)), hashed as the pieces go by instead of building the
// prompt twice (joined, then folded). Every piece from the call is written between ASCII
// separators, which normHash may be fed at.
func promptHash(c *genai.Call) uint64 {
	n := normHash{h: fnvOffset}
	writePrompt(c, n.write)
	return n.h
}

// writePrompt writes the prompt's pieces in order: the system instructions, then each input
// message as "role: content", its tool calls as " [tool name arguments]", and a newline.
func writePrompt(c *genai.Call, write func(string)) {
	if c.SystemInstructions != "" {
		write("system: ")
		write(c.SystemInstructions)
		write("\n")
	}
	for _, m := range c.InputMessages {
		content := m.Content
		if content == "" {
			content = m.Raw
		}
		write(m.Role)
		write(": ")
		write(content)
		for _, tc := range m.ToolCalls {
			write(" [tool ")
			write(tc.Name)
			write(" ")
			write(tc.Arguments)
			write("]")
		}
		write("\n")
	}
}
