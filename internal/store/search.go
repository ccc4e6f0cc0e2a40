package store

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/use-lumina/lumina/internal/genai"
)

// SearchTextLimit caps the indexed text of one span, in bytes of SearchText's output, so
// the write cost of the full-text index is bounded whatever the size of a prompt. Words
// after the cap are not searchable.
const SearchTextLimit = 16 << 10

// MaxSearchTerms bounds the terms of one text search; later terms are ignored.
const MaxSearchTerms = 16

// SearchText is the searchable text of a span's call, as both backends index it: the
// words of the system instructions, then of each input and output message (content, tool
// call names and arguments, tool call ids are not words of interest and are left out),
// lower-cased and joined by single spaces, cut at SearchTextLimit on a word boundary.
// It is empty for spans that are not LLM calls (genai.TypeLLM): only model calls carry
// prompts and responses, and indexing nothing else keeps writes of other spans free.
//
// A word is a maximal run of Unicode letters and digits; everything else separates words.
// Feeding the backends pre-split words makes SQLite's FTS5 tokenizer and PostgreSQL's
// 'simple' parser see the same tokens, so a search matches the same spans on both.
func SearchText(c *genai.Call) string {
	if c == nil || c.Type != genai.TypeLLM {
		return ""
	}
	w := searchWriter{}
	w.b.Grow(min(SearchTextLimit, len(c.SystemInstructions)+messagesLen(c.InputMessages)+messagesLen(c.OutputMessages)))
	w.add(c.SystemInstructions)
	for _, msgs := range [][]genai.Message{c.InputMessages, c.OutputMessages} {
		for i := range msgs {
			m := &msgs[i]
			w.add(m.Content)
			for _, tc := range m.ToolCalls {
				w.add(tc.Name)
				w.add(tc.Arguments)
			}
		}
	}
	return w.b.String()
}

// messagesLen is about the bytes of text in msgs, to size SearchText's buffer.
func messagesLen(msgs []genai.Message) int {
	n := 0
	for i := range msgs {
		n += len(msgs[i].Content) + 1
		for _, tc := range msgs[i].ToolCalls {
			n += len(tc.Name) + len(tc.Arguments) + 2
		}
	}
	return n
}

// searchWriter accumulates words up to SearchTextLimit.
type searchWriter struct {
	b    strings.Builder
	full bool
}

func (w *searchWriter) add(s string) {
	for word := range words(s) {
		if w.full {
			return
		}
		ascii := true
		for i := 0; i < len(word) && ascii; i++ {
			ascii = word[i] < utf8.RuneSelf
		}
		if !ascii {
			word = strings.ToLower(word)
		}
		n := len(word)
		if w.b.Len() > 0 {
			n++
		}
		if w.b.Len()+n > SearchTextLimit {
			w.full = true
			return
		}
		if w.b.Len() > 0 {
			w.b.WriteByte(' ')
		}
		if !ascii {
			w.b.WriteString(word)
			continue
		}
		for i := 0; i < len(word); i++ { // lower-case ASCII without allocating
			c := word[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			w.b.WriteByte(c)
		}
	}
}

// words yields the words of s: maximal runs of letters and digits.
func words(s string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		start := -1
		for i, r := range s {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 {
				if !yield(s[start:i]) {
					return
				}
				start = -1
			}
		}
		if start >= 0 {
			yield(s[start:])
		}
	}
}

// SearchTerm is one term of a text search: a single word, or a phrase of words that must
// appear next to each other in that order.
type SearchTerm []string

// ParseSearch splits a TraceQuery.Text into its terms. Outside double quotes each word is
// a term; the words inside a pair of double quotes make one phrase term (an unpaired quote
// runs to the end). Words are lower-cased; every character that is not a letter or digit
// separates words and has no other meaning, so operators of the backends' query languages
// (FTS5's OR, NEAR, *, -, parentheses, tsquery's & | ! <->) are plain text, and anything
// that yields no word is dropped. At most MaxSearchTerms terms are kept. A text with no
// word has no terms and does not filter.
func ParseSearch(text string) []SearchTerm {
	var terms []SearchTerm
	for i, part := range strings.Split(text, `"`) {
		var ws []string
		for w := range words(part) {
			ws = append(ws, strings.ToLower(w))
		}
		if len(ws) == 0 {
			continue
		}
		if i%2 == 1 { // inside quotes
			terms = append(terms, SearchTerm(ws))
		} else {
			for _, w := range ws {
				terms = append(terms, SearchTerm{w})
			}
		}
	}
	if len(terms) > MaxSearchTerms {
		terms = terms[:MaxSearchTerms]
	}
	return terms
}
