package quality

import (
	"github.com/use-lumina/lumina/internal/genai"
)

// Tier-2 triggers, as recorded in genai.Judgement.Trigger.
const (
	TriggerBorderline = "borderline" // tier 1 scored inside the borderline band
	TriggerCostSpike  = "cost_spike" // the span tripped a cost-spike rule
	TriggerSampled    = "sampled"    // picked by the sampling rate
)

// Trigger decides which spans go to tier 2. Zero values take the defaults.
type Trigger struct {
	// Low and High bound the borderline band [Low, High): tier-1 scores in it are
	// ambiguous enough to pay for a judge. Defaults 0.4 and 0.8.
	Low, High float64
	// SampleRate (0..1) additionally judges that share of the other scored spans, chosen
	// deterministically by span id so a redelivered span decides the same; default 0.
	SampleRate float64
}

func (t *Trigger) defaults() {
	if t.Low == 0 && t.High == 0 {
		t.Low, t.High = 0.4, 0.8
	}
}

// Decide returns why q's span should be judged, or "" when it should not. costSpike is set
// when the span tripped a cost-spike alert; sampleKey identifies the span (trace and span
// id). Cold-start spans (no tier-1 score) are judged only by a cost spike or sampling,
// and a span without a response (tier1:no_output, tier1:no_content) never.
func (t Trigger) Decide(q *genai.Quality, costSpike bool, sampleKey string) string {
	if q == nil || q.Method == MethodNoOutput || q.Method == MethodNoContent {
		return ""
	}
	t.defaults()
	switch {
	case costSpike:
		return TriggerCostSpike
	case q.Score != nil && *q.Score >= t.Low && *q.Score < t.High:
		return TriggerBorderline
	case t.SampleRate > 0 && float64(mix64(fnv64(sampleKey))>>11)/(1<<53) < t.SampleRate:
		return TriggerSampled
	}
	return ""
}

// ShouldJudge is Decide with the judge's configured trigger; always "" when the judge is
// not configured (nothing will pretend to have judged).
func (j *Judge) ShouldJudge(q *genai.Quality, costSpike bool, sampleKey string) string {
	if !j.Configured() {
		return ""
	}
	return j.cfg.Trigger.Decide(q, costSpike, sampleKey)
}

// Apply records a tier-2 outcome on a span's quality. A scored verdict becomes the span's
// score (tier 2, method MethodJudge, the judge's reason and flags), keeping the tier-1 score
// as component "tier1"; any other outcome is attached as q.Judge and leaves the tier-1
// score in place.
func Apply(q *genai.Quality, j genai.Judgement) {
	q.Judge = &j
	if j.Status != genai.JudgeScored || j.Similarity == nil {
		return
	}
	if q.Components == nil {
		q.Components = map[string]float64{}
	}
	if q.Score != nil && q.Tier == genai.QualityTier1 {
		q.Components["tier1"] = *q.Score
	}
	q.Components["judge_similarity"] = *j.Similarity
	q.Score = ptr(*j.Similarity)
	q.Tier, q.Method, q.Reason = genai.QualityTier2, MethodJudge, j.Reason
	for _, f := range []struct {
		on   bool
		flag string
	}{{j.Hallucination, genai.FlagHallucination}, {j.ToneDrift, genai.FlagToneDrift}, {j.FactualError, genai.FlagFactualError}, {j.Refusal, genai.FlagRefusal}} {
		if f.on && !contains(q.Flags, f.flag) {
			q.Flags = append(q.Flags, f.flag)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
