package main

import (
	"errors"
	"regexp/syntax"
	"sort"
	"strings"
)

// maxNames bounds the names one pattern may expand to; a pattern past it is not used.
const maxNames = 512

var errInfinite = errors.New("pattern matches too many names")

// patternNames lists every lower-cased string a finite regex matches, such as Langfuse's
// `(?i)^(anthropic/)?(claude-3-5-sonnet-20241022|claude-3-5-sonnet-V2@20241022)$`. It
// fails for patterns with repetition or wide character classes: those are not name lists.
func patternNames(pattern string) ([]string, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	names, err := expand(re.Simplify())
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		n = strings.ToLower(n)
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

func expand(re *syntax.Regexp) ([]string, error) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine:
		return []string{""}, nil
	case syntax.OpLiteral:
		return []string{string(re.Rune)}, nil
	case syntax.OpCapture:
		return expand(re.Sub[0])
	case syntax.OpQuest:
		sub, err := expand(re.Sub[0])
		if err != nil {
			return nil, err
		}
		return append([]string{""}, sub...), nil
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				out = append(out, string(r))
				if len(out) > 16 {
					return nil, errInfinite
				}
			}
		}
		return out, nil
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			sub, err := expand(s)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			if len(out) > maxNames {
				return nil, errInfinite
			}
		}
		return out, nil
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range re.Sub {
			sub, err := expand(s)
			if err != nil {
				return nil, err
			}
			next := make([]string, 0, len(out)*len(sub))
			for _, a := range out {
				for _, b := range sub {
					next = append(next, a+b)
				}
			}
			if len(next) > maxNames {
				return nil, errInfinite
			}
			out = next
		}
		return out, nil
	}
	return nil, errInfinite
}
