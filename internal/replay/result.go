package replay

import (
	"fmt"
	"time"
)

// Item result statuses.
const (
	ItemOK      = "ok"      // replayed and compared
	ItemError   = "error"   // the provider failed after the retries
	ItemSkipped = "skipped" // the capture cannot be replayed faithfully
)

// Verdicts.
const (
	VerdictPass      = "pass"
	VerdictRegressed = "regressed"
	VerdictImproved  = "improved"
)

// Result is what replaying one item gave, compared with the original.
type Result struct {
	Index      int       `json:"index"`
	TraceID    string    `json:"trace_id"`
	SpanID     string    `json:"span_id"`
	Status     string    `json:"status"`
	Simulation bool      `json:"simulation"`
	Error      string    `json:"error,omitempty"`
	Reason     string    `json:"reason,omitempty"` // why it was skipped
	Attempts   int       `json:"attempts,omitempty"`
	FinishedAt time.Time `json:"finished_at"`

	OriginalProvider string `json:"original_provider"`
	OriginalModel    string `json:"original_model"`
	ReplayProvider   string `json:"replay_provider,omitempty"`
	ReplayModel      string `json:"replay_model,omitempty"`

	Prompt           PromptChange `json:"prompt"`
	OriginalResponse string       `json:"original_response"`
	ReplayResponse   string       `json:"replay_response"`
	Diff             []DiffOp     `json:"response_diff,omitempty"`
	// Dropped lists request fields the provider does not accept and that were left out.
	Dropped []string `json:"dropped_params,omitempty"`

	Cost         Metric `json:"cost_usd"`
	LatencyMS    Metric `json:"latency_ms"`
	InputTokens  Metric `json:"input_tokens"`
	OutputTokens Metric `json:"output_tokens"`

	// HashSimilarity is the character-level similarity of the two answers, 0–100.
	HashSimilarity *float64 `json:"hash_similarity"`
	HashMethod     string   `json:"hash_method,omitempty"`
	Semantic       Semantic `json:"semantic_similarity"`

	Verdict        string   `json:"verdict,omitempty"`
	VerdictReasons []string `json:"verdict_reasons,omitempty"`
}

// PromptChange shows the prompt side by side when the run changed it.
type PromptChange struct {
	Changed        bool   `json:"changed"`
	OriginalSystem string `json:"original_system"`
	ReplaySystem   string `json:"replay_system"`
	OriginalPrompt string `json:"original_prompt"` // the last user message
	ReplayPrompt   string `json:"replay_prompt"`
}

// Semantic is a meaning-level similarity, 0–100, with the method that ran; Score is nil
// when nothing scored it (Note says why).
type Semantic struct {
	Score  *float64 `json:"score"`
	Method string   `json:"method"`
	Note   string   `json:"note,omitempty"`
}

// Metric is an original and a replayed value with the change; a side is nil when unknown
// (an unpriced model), and then so are the deltas.
type Metric struct {
	Original *float64 `json:"original"`
	Replay   *float64 `json:"replay"`
	Delta    *float64 `json:"delta"`
	DeltaPct *float64 `json:"delta_pct"` // (replay − original) / original × 100
}

func newMetric(orig, replay *float64) Metric {
	m := Metric{Original: orig, Replay: replay}
	if orig != nil && replay != nil {
		d := *replay - *orig
		m.Delta = &d
		if *orig != 0 {
			p := d / *orig * 100
			m.DeltaPct = &p
		}
	}
	return m
}

func f64(v float64) *float64 { return &v }

// judge sets the verdict of an ok result from the thresholds: regressed when similarity
// is below its threshold or cost or latency grew past theirs; improved when it passes and
// cost or latency fell by ImprovementPct; else pass. The reasons say which rule decided.
func (r *Result) judge(t Thresholds) {
	var bad, good []string
	switch {
	case r.Semantic.Score != nil:
		if *r.Semantic.Score < t.MinSemantic {
			bad = append(bad, fmt.Sprintf("semantic similarity %.1f%% < %.0f%%", *r.Semantic.Score, t.MinSemantic))
		}
	case r.HashSimilarity != nil:
		if *r.HashSimilarity < t.MinHash {
			bad = append(bad, fmt.Sprintf("hash similarity %.1f%% < %.0f%% (no semantic score)", *r.HashSimilarity, t.MinHash))
		}
	}
	check := func(name string, m Metric, maxUp float64) {
		if m.DeltaPct == nil {
			return
		}
		switch p := *m.DeltaPct; {
		case p > maxUp:
			bad = append(bad, fmt.Sprintf("%s +%.1f%% > +%.0f%%", name, p, maxUp))
		case p <= -t.ImprovementPct:
			good = append(good, fmt.Sprintf("%s %.1f%%", name, p))
		}
	}
	check("cost", r.Cost, t.MaxCostIncreasePct)
	check("latency", r.LatencyMS, t.MaxLatencyIncreasePct)
	switch {
	case len(bad) > 0:
		r.Verdict, r.VerdictReasons = VerdictRegressed, bad
	case len(good) > 0:
		r.Verdict, r.VerdictReasons = VerdictImproved, good
	default:
		r.Verdict, r.VerdictReasons = VerdictPass, []string{"within thresholds"}
	}
}

// Progress counts a run's items.
type Progress struct {
	Total   int `json:"total"`
	Done    int `json:"done"` // results stored, of any status
	OK      int `json:"ok"`
	Errors  int `json:"errors"`
	Skipped int `json:"skipped"`
}

// Summary aggregates a run's results.
type Summary struct {
	Simulation bool `json:"simulation"`
	Pass       int  `json:"pass"`
	Regressed  int  `json:"regressed"`
	Improved   int  `json:"improved"`
	// Cost and tokens are totals over the ok items priced on both sides; latency is the
	// mean over the ok items.
	Cost         Metric   `json:"cost_usd"`
	LatencyMS    Metric   `json:"latency_ms"`
	InputTokens  Metric   `json:"input_tokens"`
	OutputTokens Metric   `json:"output_tokens"`
	UnpricedOK   int      `json:"unpriced_items"`
	AvgHash      *float64 `json:"avg_hash_similarity"`
	AvgSemantic  *float64 `json:"avg_semantic_similarity"`
	// SemanticMethod is the method of the semantic scores, or why there are none.
	SemanticMethod string `json:"semantic_method"`
	// ModelChanges lists "original → replay" model pairs, in first-seen order.
	ModelChanges []string `json:"model_changes,omitempty"`
}

// summarize aggregates results of a run with total items.
func summarize(total int, simulation bool, results []Result) (Progress, Summary) {
	p := Progress{Total: total}
	s := Summary{Simulation: simulation}
	var costO, costR, latO, latR, inO, inR, outO, outR, hash, sem float64
	var nLat, nHash, nSem int
	seen := map[string]bool{}
	for i := range results {
		r := &results[i]
		p.Done++
		switch r.Status {
		case ItemError:
			p.Errors++
			continue
		case ItemSkipped:
			p.Skipped++
			continue
		}
		p.OK++
		switch r.Verdict {
		case VerdictPass:
			s.Pass++
		case VerdictRegressed:
			s.Regressed++
		case VerdictImproved:
			s.Improved++
		}
		if r.Cost.Original != nil && r.Cost.Replay != nil {
			costO += *r.Cost.Original
			costR += *r.Cost.Replay
		} else {
			s.UnpricedOK++
		}
		if r.LatencyMS.Original != nil && r.LatencyMS.Replay != nil {
			latO += *r.LatencyMS.Original
			latR += *r.LatencyMS.Replay
			nLat++
		}
		inO, inR = inO+deref(r.InputTokens.Original), inR+deref(r.InputTokens.Replay)
		outO, outR = outO+deref(r.OutputTokens.Original), outR+deref(r.OutputTokens.Replay)
		if r.HashSimilarity != nil {
			hash += *r.HashSimilarity
			nHash++
		}
		if r.Semantic.Score != nil {
			sem += *r.Semantic.Score
			nSem++
			s.SemanticMethod = r.Semantic.Method
		} else if s.SemanticMethod == "" {
			s.SemanticMethod = r.Semantic.Method
		}
		if change := r.OriginalModel + " → " + r.ReplayModel; r.OriginalModel != r.ReplayModel && !seen[change] {
			seen[change] = true
			s.ModelChanges = append(s.ModelChanges, change)
		}
	}
	if p.OK > s.UnpricedOK {
		s.Cost = newMetric(f64(costO), f64(costR))
	}
	if nLat > 0 {
		s.LatencyMS = newMetric(f64(latO/float64(nLat)), f64(latR/float64(nLat)))
	}
	if p.OK > 0 {
		s.InputTokens = newMetric(f64(inO), f64(inR))
		s.OutputTokens = newMetric(f64(outO), f64(outR))
	}
	if nHash > 0 {
		s.AvgHash = f64(hash / float64(nHash))
	}
	if nSem > 0 {
		s.AvgSemantic = f64(sem / float64(nSem))
	}
	return p, s
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
