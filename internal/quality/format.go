package quality

import (
	"encoding/json"
	"slices"
	"strings"
)

// Response kinds, as the format check sees them.
type kind uint8

const (
	kindText     kind = iota // plain prose
	kindMarkdown             // headings, lists, code fences or tables
	kindJSON                 // a JSON object or array, bare or in a ```json fence
	kindBadJSON              // starts like JSON but does not parse
)

func (k kind) String() string {
	return [...]string{"text", "markdown", "json", "invalid JSON"}[k]
}

// Markdown features counted per response.
const (
	mdHeadings = iota
	mdBullets
	mdNumbered
	mdFences
	mdTableRows
	mdFeatures
)

// maxJSONKeys bounds the key paths kept per JSON response: enough to see drift, small
// enough that a reference stays a few hundred bytes.
const maxJSONKeys = 32

// shape is a response's structure: its kind, the key paths of a JSON response (hashed,
// sorted), the markdown feature counts of a markdown one.
type shape struct {
	kind      kind
	jsonArray bool
	keys      []uint32
	md        [mdFeatures]uint16
}

// shapeOf classifies text.
func shapeOf(text string) shape {
	t := strings.TrimSpace(text)
	if body, ok := jsonFence(t); ok {
		t = body
	}
	if t != "" && (t[0] == '{' || t[0] == '[') {
		var v any
		if err := json.Unmarshal([]byte(t), &v); err != nil {
			return shape{kind: kindBadJSON}
		}
		sh := shape{kind: kindJSON}
		_, sh.jsonArray = v.([]any)
		seen := map[uint32]struct{}{}
		collectKeys(v, "", 0, seen)
		for k := range seen {
			sh.keys = append(sh.keys, k)
		}
		slices.Sort(sh.keys)
		return sh
	}
	sh := shape{kind: kindText}
	inFence := false
	for line := range strings.Lines(t) {
		l := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(l, "```") || strings.HasPrefix(l, "~~~"):
			if !inFence {
				sh.md[mdFences]++
			}
			inFence = !inFence
		case inFence:
		case isHeading(l):
			sh.md[mdHeadings]++
		case len(l) > 2 && (l[0] == '-' || l[0] == '*' || l[0] == '+') && l[1] == ' ':
			sh.md[mdBullets]++
		case isNumbered(l):
			sh.md[mdNumbered]++
		case len(l) > 2 && l[0] == '|' && l[len(l)-1] == '|':
			sh.md[mdTableRows]++
		}
	}
	for _, n := range sh.md {
		if n > 0 {
			sh.kind = kindMarkdown
			break
		}
	}
	return sh
}

// jsonFence returns the body of a response that is exactly one ```json (or bare ```) fence
// around a JSON document: models often wrap JSON that way and consumers strip it.
func jsonFence(t string) (string, bool) {
	if !strings.HasPrefix(t, "```") || !strings.HasSuffix(t, "```") || len(t) < 6 {
		return "", false
	}
	body := t[3 : len(t)-3]
	nl := strings.IndexByte(body, '\n')
	if nl < 0 {
		return "", false
	}
	if lang := strings.TrimSpace(body[:nl]); lang != "" && lang != "json" {
		return "", false
	}
	body = strings.TrimSpace(body[nl+1:])
	if body == "" || (body[0] != '{' && body[0] != '[') {
		return "", false
	}
	return body, true
}

func isHeading(l string) bool {
	n := 0
	for n < len(l) && l[n] == '#' {
		n++
	}
	return n >= 1 && n <= 6 && n < len(l) && l[n] == ' '
}

func isNumbered(l string) bool {
	n := 0
	for n < len(l) && l[n] >= '0' && l[n] <= '9' {
		n++
	}
	return n >= 1 && n <= 3 && n+1 < len(l) && (l[n] == '.' || l[n] == ')') && l[n+1] == ' '
}

// collectKeys adds the hashed key paths of v ("user.email", "items[].id") down to depth 4.
func collectKeys(v any, prefix string, depth int, seen map[uint32]struct{}) {
	if depth > 4 || len(seen) >= maxJSONKeys {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := prefix + "." + k
			if len(seen) >= maxJSONKeys {
				return
			}
			seen[uint32(mix64(fnv64(p)))] = struct{}{}
			collectKeys(e, p, depth+1, seen)
		}
	case []any:
		// The shape of an array is the union of its elements' shapes; a few suffice.
		for i, e := range x {
			if i == 8 {
				break
			}
			collectKeys(e, prefix+"[]", depth+1, seen)
		}
	}
}

// sortedJaccard is the Jaccard similarity of two sorted sets; two empty sets are identical.
func sortedJaccard(a, b []uint32) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	var i, j, both int
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case b[j] < a[i]:
			j++
		default:
			both++
			i++
			j++
		}
	}
	return float64(both) / float64(len(a)+len(b)-both)
}

// formatResult is the format comparison of a response with one reference.
type formatResult struct {
	score   float64
	keySim  float64 // JSON key-path Jaccard, when both are JSON
	changed bool    // the kind differs
	drift   bool    // both JSON, keys differ
}

// compareFormat scores how well cur keeps ref's structure. The values encode what breaks a
// consumer: a JSON contract is all or nothing (key drift costs in proportion, losing JSON
// costs nearly everything); markdown losing its structure hurts readability, not content;
// prose gaining structure is a mild change.
func compareFormat(ref, cur shape) formatResult {
	switch ref.kind {
	case kindJSON:
		switch cur.kind {
		case kindJSON:
			sim := sortedJaccard(ref.keys, cur.keys)
			r := formatResult{keySim: sim, drift: sim < 0.999}
			r.score = 0.2 + 0.8*sim
			if ref.jsonArray != cur.jsonArray {
				r.score, r.changed = 0.2, true
			}
			return r
		default:
			return formatResult{score: 0.1, changed: true}
		}
	case kindMarkdown:
		switch cur.kind {
		case kindMarkdown:
			return formatResult{score: 0.3 + 0.7*markdownSimilarity(ref.md, cur.md)}
		default:
			return formatResult{score: 0.3, changed: true}
		}
	default: // reference is prose
		switch cur.kind {
		case kindText:
			return formatResult{score: 1}
		case kindMarkdown:
			return formatResult{score: 0.7, changed: true}
		default:
			return formatResult{score: 0.4, changed: true}
		}
	}
}

// markdownSimilarity averages, over the features either response uses, the ratio of the
// smaller count to the larger (0 when only one uses it).
func markdownSimilarity(a, b [mdFeatures]uint16) float64 {
	var sum float64
	n := 0
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		if x == 0 && y == 0 {
			continue
		}
		n++
		sum += min(x, y) / max(x, y)
	}
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}
