package replay

import (
	"fmt"
	"strings"
	"testing"

	"github.com/use-lumina/lumina/internal/genai"
)

func TestWordDiff(t *testing.T) {
	for _, tt := range []struct{ a, b, want string }{
		{"the cat sat", "the cat sat", "=the cat sat"},
		{"the cat sat", "the dog sat", "=the -cat +dog =sat"},
		{"a b c d", "a c d e", "=a -b =c d +e"},
		{"", "new words", "+new words"},
		{"old words", "", "-old words"},
		{"one  two\nthree", "one two three", "=one two three"},
	} {
		var got []string
		for _, op := range WordDiff(tt.a, tt.b) {
			got = append(got, map[string]string{DiffEqual: "=", DiffInsert: "+", DiffDelete: "-"}[op.Op]+op.Text)
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("WordDiff(%q, %q): got %q, want %q", tt.a, tt.b, g, tt.want)
		}
	}
	// Past the table bound the middle is one deletion and one insertion, not a slow diff.
	a := strings.Repeat("x ", 3000) + "end"
	b := strings.Repeat("y ", 3000) + "end"
	if ops := WordDiff(a, b); len(ops) != 3 || ops[0].Op != DiffDelete || ops[1].Op != DiffInsert || ops[2].Text != "end" {
		t.Errorf("large diff: got %d ops", len(ops))
	}
}

func TestVerdict(t *testing.T) {
	th := DefaultThresholds()
	pct := func(o, r float64) Metric { return newMetric(f64(o), f64(r)) }
	for _, tt := range []struct {
		name     string
		r        Result
		want     string
		inReason string
	}{
		{"semantic low", Result{Semantic: Semantic{Score: f64(60)}, HashSimilarity: f64(99)}, VerdictRegressed, "semantic similarity 60.0%"},
		{"semantic decides over hash", Result{Semantic: Semantic{Score: f64(90)}, HashSimilarity: f64(10)}, VerdictPass, "within"},
		{"hash low without semantic", Result{HashSimilarity: f64(30)}, VerdictRegressed, "no semantic score"},
		{"cost up", Result{HashSimilarity: f64(90), Cost: pct(1, 1.5)}, VerdictRegressed, "cost +50.0%"},
		{"latency up", Result{HashSimilarity: f64(90), LatencyMS: pct(100, 200)}, VerdictRegressed, "latency +100.0%"},
		{"cheaper", Result{HashSimilarity: f64(90), Cost: pct(1, 0.3)}, VerdictImproved, "cost -70.0%"},
		{"cheaper but worse", Result{HashSimilarity: f64(20), Cost: pct(1, 0.3)}, VerdictRegressed, "hash"},
		{"unpriced", Result{HashSimilarity: f64(90), Cost: newMetric(f64(1), nil)}, VerdictPass, "within"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.judge(th)
			if tt.r.Verdict != tt.want || !strings.Contains(fmt.Sprint(tt.r.VerdictReasons), tt.inReason) {
				t.Errorf("got %s %v, want %s with %q", tt.r.Verdict, tt.r.VerdictReasons, tt.want, tt.inReason)
			}
		})
	}
	custom := Thresholds{MinHash: 10}.withDefaults()
	if custom.MinHash != 10 || custom.MinSemantic != 80 {
		t.Errorf("withDefaults: got %+v", custom)
	}
}

func TestSummarize(t *testing.T) {
	ok := func(verdict string, costO, costR, lat float64) Result {
		return Result{Status: ItemOK, Verdict: verdict, OriginalModel: "a", ReplayModel: "b",
			Cost: newMetric(f64(costO), f64(costR)), LatencyMS: newMetric(f64(lat), f64(lat/2)),
			HashSimilarity: f64(50), Semantic: Semantic{Method: "semantic:not_configured"}}
	}
	p, s := summarize(5, false, []Result{ok(VerdictPass, 1, 0.5, 100), ok(VerdictRegressed, 3, 1, 300), {Status: ItemError}, {Status: ItemSkipped}})
	if p != (Progress{Total: 5, Done: 4, OK: 2, Errors: 1, Skipped: 1}) {
		t.Errorf("progress: got %+v", p)
	}
	if s.Pass != 1 || s.Regressed != 1 || *s.Cost.Original != 4 || *s.Cost.Replay != 1.5 || *s.Cost.DeltaPct != -62.5 {
		t.Errorf("summary: got %+v cost %+v", s, s.Cost)
	}
	if *s.LatencyMS.Original != 200 || *s.LatencyMS.Replay != 100 || *s.AvgHash != 50 || s.AvgSemantic != nil ||
		s.SemanticMethod != "semantic:not_configured" || fmt.Sprint(s.ModelChanges) != "[a → b]" {
		t.Errorf("summary: got latency %+v hash %v semantic %v %q changes %v", s.LatencyMS, *s.AvgHash, s.AvgSemantic, s.SemanticMethod, s.ModelChanges)
	}
}

func TestSimulateIsDeterministic(t *testing.T) {
	c := CaptureSpan(llmSpan(func(c *genai.Call) {
		c.OutputMessages[0].Content = strings.Repeat("the quick brown fox jumps over the lazy dog ", 20)
	}))
	it := &Item{TraceID: "t1", SpanID: "s1", Capture: c}
	req := Overrides{Model: "claude-haiku"}.request(&c)
	a, b := simulate(7, it, req), simulate(7, it, req)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed: got two different answers")
	}
	if other := simulate(8, it, req); other.Text == a.Text {
		t.Errorf("another seed gave the same text")
	}
	if a.Text == c.Response || a.Model != "claude-haiku" || a.Usage.InputTokens != c.Usage.InputTokens || !a.Usage.Reported {
		t.Errorf("simulated: model %s tokens %+v, changed %v", a.Model, a.Usage, a.Text != c.Response)
	}
}
