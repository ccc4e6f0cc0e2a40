package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// cliMetric is a replay metric as the API serves it.
type cliMetric struct {
	Original *float64 `json:"original"`
	Replay   *float64 `json:"replay"`
	DeltaPct *float64 `json:"delta_pct"`
}

// cliRun is the part of a run view the CLI prints.
type cliRun struct {
	ID         string `json:"id"`
	SetID      string `json:"set_id"`
	Status     string `json:"status"`
	Error      string `json:"error"`
	Simulation bool   `json:"simulation"`
	Notice     string `json:"notice"`
	Progress   struct {
		Total, Done, OK, Errors, Skipped int
	} `json:"progress"`
	Summary struct {
		Pass           int       `json:"pass"`
		Regressed      int       `json:"regressed"`
		Improved       int       `json:"improved"`
		Cost           cliMetric `json:"cost_usd"`
		LatencyMS      cliMetric `json:"latency_ms"`
		InputTokens    cliMetric `json:"input_tokens"`
		OutputTokens   cliMetric `json:"output_tokens"`
		UnpricedItems  int       `json:"unpriced_items"`
		AvgHash        *float64  `json:"avg_hash_similarity"`
		AvgSemantic    *float64  `json:"avg_semantic_similarity"`
		SemanticMethod string    `json:"semantic_method"`
		ModelChanges   []string  `json:"model_changes"`
	} `json:"summary"`
}

func replayRun(ctx context.Context, args []string, defURL string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", defURL, "replay API base URL")
	model := fs.String("model", "", "replay with this model")
	provider := fs.String("provider", "", "anthropic, openai or openai_compatible (default: the captured provider)")
	system := fs.String("system-prompt", "", "replace the system prompt ({{original}} is the captured one)")
	template := fs.String("prompt-template", "", "rewrite the last user message ({{original}} is the captured one)")
	temperature := fs.Float64("temperature", -1, "override the temperature (0..2)")
	maxTokens := fs.Int64("max-tokens", 0, "override the output bound")
	baseURL := fs.String("base-url", "", "OpenAI-compatible server URL (Ollama, vLLM…)")
	simulate := fs.Bool("simulate", false, "simulation mode: no provider is called, answers are synthetic")
	seed := fs.Uint64("seed", 0, "simulation seed (0 picks one)")
	failOn := fs.Bool("fail-on-regression", false, "exit 3 when an item regressed or failed")
	minSemantic := fs.Float64("min-semantic", 0, "lowest passing semantic similarity, % (default 80)")
	minHash := fs.Float64("min-hash", 0, "lowest passing hash similarity when there is no semantic score, % (default 50)")
	maxCost := fs.Float64("max-cost-increase", 0, "largest passing cost increase, % (default 20)")
	maxLatency := fs.Float64("max-latency-increase", 0, "largest passing latency increase, % (default 50)")
	var setID string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") { // `run SET_ID --flags…`
		setID, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if setID == "" && fs.NArg() == 1 {
		setID = fs.Arg(0)
	} else if fs.NArg() != 0 || setID == "" {
		fmt.Fprint(stderr, replayUsage)
		return fmt.Errorf("replay run: want one set id")
	}
	api := replayAPI{*url}
	overrides := map[string]any{"provider": *provider, "model": *model, "prompt_template": *template, "base_url": *baseURL}
	if *system != "" {
		overrides["system_prompt"] = *system
	}
	if *temperature >= 0 {
		overrides["temperature"] = *temperature
	}
	if *maxTokens > 0 {
		overrides["max_tokens"] = *maxTokens
	}
	mode := "live"
	if *simulate {
		mode = "simulation"
	} else {
		var est struct {
			Replayable  int      `json:"replayable"`
			CostUSD     *float64 `json:"estimated_cost_usd"`
			Unpriced    int      `json:"unpriced_items"`
			MissingKeys []string `json:"missing_keys"`
		}
		if err := api.do(ctx, "POST", "/api/v1/replay/estimate", map[string]any{"set_id": setID, "overrides": overrides}, &est); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Estimated cost: %s for %d calls", usd(est.CostUSD), est.Replayable)
		if est.Unpriced > 0 {
			fmt.Fprintf(stdout, " (%d unpriced)", est.Unpriced)
		}
		fmt.Fprintln(stdout)
	}
	var run cliRun
	req := map[string]any{"mode": mode, "overrides": overrides, "seed": *seed,
		"thresholds": map[string]any{"min_semantic_similarity": *minSemantic, "min_hash_similarity": *minHash,
			"max_cost_increase_pct": *maxCost, "max_latency_increase_pct": *maxLatency}}
	if err := api.do(ctx, "POST", "/api/v1/replay/sets/"+setID+"/runs", req, &run); err != nil {
		return err
	}
	if run.Simulation {
		fmt.Fprintln(stdout, run.Notice)
	}
	for run.Status == "queued" || run.Status == "running" {
		progressBar(stderr, run.Progress.Done, run.Progress.Total)
		select {
		case <-ctx.Done():
			fmt.Fprintln(stderr)
			return fmt.Errorf("replay run %s: stopped waiting (the run goes on; cancel it with POST /api/v1/replay/runs/%s/cancel): %w", run.ID, run.ID, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
		if err := api.do(ctx, "GET", "/api/v1/replay/runs/"+run.ID, nil, &run); err != nil {
			return err
		}
	}
	progressBar(stderr, run.Progress.Done, run.Progress.Total)
	fmt.Fprintln(stderr)
	printReplaySummary(stdout, &run)
	if run.Status == "failed" {
		return fmt.Errorf("replay run %s failed: %s", run.ID, run.Error)
	}
	if *failOn && (run.Summary.Regressed > 0 || run.Progress.Errors > 0) {
		return regressionError{regressed: run.Summary.Regressed, errors: run.Progress.Errors}
	}
	return nil
}

func progressBar(w io.Writer, done, total int) {
	const width = 30
	n := 0
	if total > 0 {
		n = done * width / total
	}
	fmt.Fprintf(w, "\r[%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat(" ", width-n), done, total)
}

// printReplaySummary prints a run's summary like the FAQ's example.
func printReplaySummary(w io.Writer, r *cliRun) {
	s := &r.Summary
	if r.Simulation {
		fmt.Fprintln(w, "=== SIMULATION (no provider was called; metrics describe synthetic answers) ===")
	}
	p := r.Progress
	fmt.Fprintf(w, "Run %s: %s, %d/%d calls (%d ok, %d failed, %d skipped)\n", r.ID, r.Status, p.Done, p.Total, p.OK, p.Errors, p.Skipped)
	fmt.Fprintf(w, "Cost: %s (%s → %s)", pct(s.Cost.DeltaPct), usd(s.Cost.Original), usd(s.Cost.Replay))
	if s.UnpricedItems > 0 {
		fmt.Fprintf(w, ", %d call(s) unpriced", s.UnpricedItems)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Latency: %s (%s → %s)\n", pct(s.LatencyMS.DeltaPct), ms(s.LatencyMS.Original), ms(s.LatencyMS.Replay))
	fmt.Fprintf(w, "Tokens: input %s → %s, output %s → %s\n", num(s.InputTokens.Original), num(s.InputTokens.Replay), num(s.OutputTokens.Original), num(s.OutputTokens.Replay))
	if s.AvgHash != nil {
		fmt.Fprintf(w, "Hash similarity: %.1f%%\n", *s.AvgHash)
	}
	if s.AvgSemantic != nil {
		fmt.Fprintf(w, "Semantic similarity: %.1f%% (%s)\n", *s.AvgSemantic, s.SemanticMethod)
	} else {
		fmt.Fprintf(w, "Semantic similarity: none (%s)\n", s.SemanticMethod)
	}
	for _, c := range s.ModelChanges {
		fmt.Fprintf(w, "Model changed: %s\n", c)
	}
	fmt.Fprintf(w, "Verdicts: %d pass, %d regressed, %d improved\n", s.Pass, s.Regressed, s.Improved)
}

func pct(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%+.0f%%", math.Round(*p))
}

func usd(v *float64) string {
	if v == nil {
		return "unpriced"
	}
	return fmt.Sprintf("$%.6f", *v)
}

func ms(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0fms", *v)
}

func num(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", *v)
}
