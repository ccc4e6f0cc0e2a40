package postgres

import (
	"encoding/binary"
	"slices"
	"strings"

	"github.com/use-lumina/lumina/internal/store"
)

// oidTSVector is PostgreSQL's tsvector type.
const oidTSVector = 3614

// The limits of a tsvector that to_tsvector applies (PostgreSQL's ts_type.h): a word longer
// than maxLexemeBytes is not indexed, a position is at most maxPosition, and a lexeme
// keeps at most maxPositions positions.
const (
	maxLexemeBytes = 2047
	maxPosition    = 1<<14 - 1
	maxPositions   = 256 - 1
)

// tsvector encodes text, words separated by single spaces as store.SearchText writes them,
// as a tsvector in PostgreSQL's binary format: what to_tsvector('simple', text) computes,
// without its cost. to_tsvector runs the default parser over every character (through
// wide characters) and sorts the words on the server, about 290 µs for 2 KB of words
// (BENCHMARKS.md), several times what the rest of the span's write costs; here it is a
// sort of the words already split. It returns nil, a NULL, for a text with no word.
//
// The result is what to_tsvector gives for such text (TestTSVectorMatchesToTSVector):
// lexemes in byte order, each with its ascending positions (word numbers from 1, past
// maxPosition counted as maxPosition, at most maxPositions of them), words longer than
// maxLexemeBytes left out and not counted. The weight bits of every position are
// 0 (D), to_tsvector's default.
func tsvector(text string) []byte {
	// Number the distinct words in order of appearance and note each occurrence, then
	// sort the distinct words only: far fewer than the occurrences in a prompt.
	ids := make(map[string]int32, 128)
	var lexemes []string
	type occurrence struct {
		id  int32
		pos uint16
	}
	occ := make([]occurrence, 0, len(text)/6)
	pos := 0
	for w := range strings.SplitSeq(text, " ") {
		if w == "" || len(w) > maxLexemeBytes {
			continue
		}
		pos++
		id, ok := ids[w]
		if !ok {
			id = int32(len(lexemes))
			ids[w] = id
			lexemes = append(lexemes, w)
		}
		occ = append(occ, occurrence{id, uint16(min(pos, maxPosition))})
	}
	if len(lexemes) == 0 {
		return nil
	}
	order := make([]int32, len(lexemes)) // lexeme ids in byte order of their words
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(lexemes[a], lexemes[b]) })

	// Group the positions by lexeme, each group in order of appearance (ascending), with
	// the limits to_tsvector applies: at most maxPositions, none repeated.
	start := make([]int32, len(lexemes)+1) // start[id]: where id's positions begin in byPos
	for _, o := range occ {
		start[o.id+1]++
	}
	size := 4
	for id, n := range start[1:] {
		size += len(lexemes[id]) + 3 + 2*int(n)
		start[id+1] += start[id]
	}
	byPos := make([]uint16, len(occ))
	fill := slices.Clone(start[:len(lexemes)])
	for _, o := range occ {
		byPos[fill[o.id]] = o.pos
		fill[o.id]++
	}

	b := make([]byte, 4, size)
	binary.BigEndian.PutUint32(b, uint32(len(lexemes)))
	for _, id := range order {
		b = append(b, lexemes[id]...)
		b = append(b, 0)
		count := len(b)
		b = append(b, 0, 0)
		n, last := 0, uint16(0)
		for _, p := range byPos[start[id]:start[id+1]] {
			if n == maxPositions || p == last {
				continue // past the limit, or a position counted as maxPosition again
			}
			b = binary.BigEndian.AppendUint16(b, p)
			n, last = n+1, p
		}
		binary.BigEndian.PutUint16(b[count:], uint16(n))
	}
	return b
}

// tsQuery is terms as tsquery input, read literally (no parser or dictionary, so a word is
// the lexeme tsvector wrote): each word quoted (quotes and backslashes escaped, though
// ParseSearch leaves none), a phrase's words joined by <-> (next to each other, in order),
// the terms joined by &. Quoting makes every word a literal lexeme: the tsquery parser reads
// no operator, weight or prefix marker inside quotes. It reports false when a word is too
// long to have been indexed, so that nothing can match.
func tsQuery(terms []store.SearchTerm) (string, bool) {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(" & ")
		}
		b.WriteByte('(')
		for j, w := range t {
			if len(w) > maxLexemeBytes {
				return "", false
			}
			if j > 0 {
				b.WriteString(" <-> ")
			}
			b.WriteByte('\'')
			b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(w))
			b.WriteByte('\'')
		}
		b.WriteByte(')')
	}
	return b.String(), true
}
