package quality

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// measured is a response's fingerprint plus its absolute-check results, computed once.
type measured struct {
	ref
	simhash                                      uint64
	empty, truncated, filtered, badJSON, refusal bool
}

// measure fingerprints one response.
func measure(id, text string, toolCalls int, c *genai.Call, now time.Time) measured {
	sk := sketchText(text)
	m := measured{
		ref: ref{
			id: id, hash: hashNormalized(text), minhash: sk.minhash,
			shape: shapeOf(text), length: sk.tokens, at: now,
		},
		simhash: sk.simhash,
	}
	m.empty = strings.TrimSpace(text) == "" && toolCalls == 0
	m.truncated, m.filtered = finishFlags(c)
	m.badJSON = m.shape.kind == kindBadJSON
	m.refusal = !m.empty && isRefusal(text)
	m.ref.refusal = m.refusal
	return m
}

// failed names the first absolute check the response fails, or "".
func (m measured) failed() string {
	switch {
	case m.empty:
		return genai.FlagEmpty
	case m.filtered:
		return genai.FlagContentFilter
	case m.truncated:
		return genai.FlagTruncated
	case m.refusal:
		return genai.FlagRefusal
	case m.badJSON:
		return genai.FlagInvalidJSON
	}
	return ""
}

// Absolute ceilings. They order failures the way a reader would: an empty or filtered
// response is nothing; a response cut off at the token limit is unusable whatever it says;
// an explicit refusal is a clear, detectable non-answer; broken JSON fails any parser.
const (
	ceilFiltered  = 0.1
	ceilTruncated = 0.2
	scoreRefusal  = 0.25
	ceilBadJSON   = 0.3
)

// Content calibration: the Jaccard similarity of content-token sets that two unrelated
// answers to the same prompt still share (floor) and that a reworded answer reaches
// (floor+span). Scores in between are linear.
const (
	contentFloor = 0.1
	contentSpan  = 0.3
)

// assess fills q from the response and the usable references: promptRefs (same prompt)
// take precedence over endpointRefs (same endpoint, other prompts).
func assess(q *genai.Quality, cur measured, promptRefs, endpointRefs []ref) {
	var flags []string
	add := func(f string) {
		if !slices.Contains(flags, f) {
			flags = append(flags, f)
		}
	}
	for _, f := range []struct {
		on   bool
		flag string
	}{{cur.empty, genai.FlagEmpty}, {cur.filtered, genai.FlagContentFilter}, {cur.truncated, genai.FlagTruncated},
		{cur.refusal, genai.FlagRefusal}, {cur.badJSON, genai.FlagInvalidJSON}} {
		if f.on {
			add(f.flag)
		}
	}
	defer func() { q.Flags = flags }()

	refs, method := promptRefs, MethodPrompt
	if len(refs) == 0 {
		refs, method = endpointRefs, MethodEndpoint
	}
	if len(refs) == 0 {
		if fail := cur.failed(); fail != "" {
			q.Method = MethodAbsolute
			q.Score = ptr(ceiling(cur, 1))
			q.Reason = absoluteReason(fail) + "; no references yet for this endpoint"
			return
		}
		q.Method = MethodFirstSample
		q.Reason = "first response seen for this endpoint: kept as a reference, not scored"
		return
	}
	q.Method = method
	q.References = len(refs)

	exact := false
	jaccard, closest := 0.0, ""
	best := formatResult{score: -1}
	var bestKind kind
	lengths := make([]float64, 0, len(refs))
	for _, r := range refs {
		if method == MethodPrompt && r.hash == cur.hash {
			exact = true
		}
		if jac := minHashJaccard(cur.minhash, r.minhash); jac >= jaccard && r.id != "" {
			jaccard, closest = jac, r.id
		} else {
			jaccard = max(jaccard, jac)
		}
		if f := compareFormat(r.shape, cur.shape); f.score > best.score {
			best, bestKind = f, r.shape.kind
		}
		lengths = append(lengths, math.Log(float64(r.length+1)))
	}
	length, ratio, outlier := lengthScore(cur.length, lengths, method == MethodPrompt)

	comp := map[string]float64{"text": round3(jaccard), "format": round3(best.score), "length": round3(length)}
	var base float64
	switch {
	case exact:
		comp["exact"] = 1
		base = 1
		add(genai.FlagExactMatch)
	case method == MethodPrompt:
		comp["exact"] = 0
		content := clamp01((jaccard - contentFloor) / contentSpan)
		wc, wf, wl := 0.6, 0.25, 0.15
		if bestKind == kindJSON { // the shape is the contract
			wc, wf, wl = 0.4, 0.5, 0.1
		}
		base = math.Pow(content, wc) * math.Pow(best.score, wf) * math.Pow(length, wl)
	default:
		// Different prompts have different answers: text overlap only hints, structure and
		// length carry the score. A wrong answer here is tier 2's job.
		content := 0.5 + 0.5*clamp01((jaccard-0.05)/0.35)
		base = math.Pow(content, 0.2) * math.Pow(best.score, 0.5) * math.Pow(length, 0.3)
	}
	if best.changed {
		add(genai.FlagFormatChanged)
	}
	if best.drift {
		add(genai.FlagKeyDrift)
	}
	if outlier {
		add(genai.FlagLengthOutlier)
	}
	q.Components = comp
	if closest != "" {
		q.ReferenceID = closest
	}
	q.Score = ptr(round3(ceiling(cur, base)))
	q.Reason = reason(cur, method, len(refs), exact, jaccard, best, bestKind, ratio, outlier)
}

// ceiling applies the absolute checks to a structural score. A refusal is scored as a
// refusal whatever its wording resembles; the other checks cap the score.
func ceiling(cur measured, base float64) float64 {
	if cur.empty {
		return 0
	}
	s := base
	if cur.refusal {
		s = scoreRefusal
	}
	if cur.badJSON {
		s = min(s, ceilBadJSON)
	}
	if cur.truncated {
		s = min(s, ceilTruncated)
	}
	if cur.filtered {
		s = min(s, ceilFiltered)
	}
	return s
}

// lengthScore compares a response's length with its references': 1 at their median, falling
// as a Gaussian in log-length. For one prompt the tolerance is fixed (half an e-fold); for an
// endpoint it widens with the endpoint's own spread (median absolute deviation).
func lengthScore(n int, logLens []float64, samePrompt bool) (score, ratio float64, outlier bool) {
	med := median(logLens)
	d := math.Log(float64(n+1)) - med
	sigma := 0.5
	if !samePrompt && len(logLens) >= 3 {
		dev := make([]float64, len(logLens))
		for i, l := range logLens {
			dev[i] = math.Abs(l - med)
		}
		sigma = max(sigma, 1.4826*median(dev))
	}
	z := d / sigma
	return math.Exp(-0.5 * z * z), math.Exp(d), math.Abs(z) > 2.5
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func absoluteReason(flag string) string {
	switch flag {
	case genai.FlagEmpty:
		return "empty response"
	case genai.FlagContentFilter:
		return "stopped by the provider's content filter"
	case genai.FlagTruncated:
		return "cut off at the token limit (finish reason length)"
	case genai.FlagRefusal:
		return "the model refused"
	case genai.FlagInvalidJSON:
		return "looks like JSON but does not parse"
	}
	return flag
}

// reason is the one-line explanation, worst finding first.
func reason(cur measured, method string, n int, exact bool, jaccard float64, f formatResult, refKind kind, ratio float64, outlier bool) string {
	var parts []string
	if fail := cur.failed(); fail != "" {
		parts = append(parts, absoluteReason(fail))
	}
	against := fmt.Sprintf("%d earlier response(s) to the same prompt", n)
	if method == MethodEndpoint {
		against = fmt.Sprintf("%d response(s) of this endpoint to other prompts", n)
	}
	switch {
	case exact:
		parts = append(parts, "identical to one of "+against)
	default:
		switch {
		case f.changed:
			parts = append(parts, fmt.Sprintf("format changed (%s → %s)", refKind, cur.shape.kind))
		case f.drift:
			parts = append(parts, fmt.Sprintf("JSON keys changed (%.0f%% shared)", 100*f.keySim))
		case refKind == kindMarkdown && f.score < 0.9:
			parts = append(parts, "markdown structure changed")
		}
		if outlier {
			parts = append(parts, fmt.Sprintf("length ×%.2f of the usual", ratio))
		}
		parts = append(parts, fmt.Sprintf("text %.0f%% similar to %s", 100*jaccard, against))
	}
	return strings.Join(parts, "; ")
}

func clamp01(x float64) float64 { return min(1, max(0, x)) }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func ptr(x float64) *float64 { return &x }
