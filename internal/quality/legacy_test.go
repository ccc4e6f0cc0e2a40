package quality

import (
	"bytes"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/use-lumina/lumina/internal/genai"
)

// The straightforward implementations the optimized text functions replaced (commit
// d3884e7), kept as the oracle of FuzzTextFunctionsMatchLegacy.

var legacyStopwords = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, w := range strings.Fields(`a an the and or but if then so of to in on at by for with from as is are was were be been
		being it its this that these those there here i you we they he she me my your our their his her them us do does did
		have has had can could will would should may might must not no yes than too very just also into about over under
		which who whom what when where why how all any each some such only own same other more most up down out off again
		s t ll re ve d m`) {
		m[w] = struct{}{}
	}
	return m
}()

func legacyForEachToken(s string, fn func(tok []byte)) {
	if len(s) > maxTokenBytes {
		s = s[:maxTokenBytes]
	}
	var buf [64]byte
	tok := buf[:0]
	flush := func() {
		if len(tok) == 0 {
			return
		}
		w := legacyStem(tok)
		tok = tok[:0]
		if _, stop := legacyStopwords[string(w)]; stop {
			return
		}
		fn(w)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				tok = append(tok, c)
			case 'A' <= c && c <= 'Z':
				tok = append(tok, c+'a'-'A')
			default:
				flush()
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			tok = utf8.AppendRune(tok, unicode.ToLower(r))
		} else {
			flush()
		}
	}
	flush()
}

func legacyStem(w []byte) []byte {
	if len(w) <= 4 {
		return w
	}
	for _, suf := range [...]string{"ing", "edly", "ed", "ies", "es", "s", "ly"} {
		if bytes.HasSuffix(w, []byte(suf)) && len(w)-len(suf) >= 3 {
			base := w[:len(w)-len(suf)]
			if suf == "ies" {
				return append(base, 'y')
			}
			return base
		}
	}
	return w
}

func legacySketchText(s string) textSketch {
	var weights [64]int32
	var sk textSketch
	mh := make([]uint32, 0, minHashK+1)
	legacyForEachToken(s, func(tok []byte) {
		h := mix64(fnv64(tok))
		sk.tokens++
		for i := range weights {
			if h&(1<<uint(i)) != 0 {
				weights[i]++
			} else {
				weights[i]--
			}
		}
		v := uint32(h >> 32)
		if len(mh) == minHashK && v >= mh[len(mh)-1] {
			return
		}
		i, found := slices.BinarySearch(mh, v)
		if found {
			return
		}
		mh = slices.Insert(mh, i, v)
		if len(mh) > minHashK {
			mh = mh[:minHashK]
		}
	})
	for i, w := range weights {
		if w > 0 {
			sk.simhash |= 1 << uint(i)
		}
	}
	sk.minhash = mh
	return sk
}

func legacyNormalizeSpace(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.TrimSpace(s) {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func legacyPromptHash(c *genai.Call) uint64 {
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
	return fnv64(legacyNormalizeSpace(b.String()))
}

func legacyResponseText(c *genai.Call) (text string, toolCalls int) {
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

func legacyIsRefusal(text string) bool {
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

func legacyMinHashJaccard(a, b []uint32) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	var i, j, union, both int
	for union < minHashK && (i < len(a) || j < len(b)) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			i++
		case i == len(a) || b[j] < a[i]:
			j++
		default:
			i++
			j++
			both++
		}
		union++
	}
	if union == 0 {
		return 0
	}
	return float64(both) / float64(union)
}
