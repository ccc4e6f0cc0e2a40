package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/llm"
)

// judgeConfig is the tier-2 judge's part of the configuration.
type judgeConfig struct {
	JudgeProvider    string
	JudgeModel       string
	JudgeBaseURL     string
	JudgeBand        string // LOW,HIGH (parsed into judgeLow, judgeHigh)
	JudgeSampleRate  float64
	JudgeDailyBudget float64
	JudgeConcurrency int
	JudgeMaxAttempts int
	JudgeBackoff     time.Duration

	judgeLow, judgeHigh float64
}

func (c *config) validateJudge() []error {
	var errs []error
	if !slices.Contains([]string{llm.ProviderAnthropic, llm.ProviderOpenAI, llm.ProviderOpenAICompatible, "off"}, c.JudgeProvider) {
		errs = append(errs, fmt.Errorf("--judge-provider %q: want anthropic, openai, openai_compatible or off", c.JudgeProvider))
	}
	lo, hi, ok := strings.Cut(c.JudgeBand, ",")
	l, errL := strconv.ParseFloat(strings.TrimSpace(lo), 64)
	h, errH := strconv.ParseFloat(strings.TrimSpace(hi), 64)
	if !ok || errL != nil || errH != nil || l < 0 || h > 1 || l >= h {
		errs = append(errs, fmt.Errorf("--judge-band %q: want LOW,HIGH with 0 <= LOW < HIGH <= 1, such as 0.4,0.8", c.JudgeBand))
	}
	c.judgeLow, c.judgeHigh = l, h
	if c.JudgeSampleRate < 0 || c.JudgeSampleRate > 1 || math.IsNaN(c.JudgeSampleRate) {
		errs = append(errs, fmt.Errorf("--judge-sample-rate %v: want a share between 0 and 1", c.JudgeSampleRate))
	}
	if c.JudgeDailyBudget == 0 {
		errs = append(errs, fmt.Errorf("--judge-daily-budget-usd 0 would skip every job: use --judge-provider off to switch tier 2 off, or a negative budget for no limit"))
	}
	if c.JudgeConcurrency < 1 || c.JudgeMaxAttempts < 1 || c.JudgeBackoff <= 0 {
		errs = append(errs, fmt.Errorf("--judge-concurrency, --judge-max-attempts and --judge-retry-backoff must be positive"))
	}
	return errs
}

type floatValue struct{ p *float64 }

func floatVal(p *float64, def float64) floatValue { *p = def; return floatValue{p} }
func (v floatValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*v.p, 'g', -1, 64)
}
func (v floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("want a number such as 0.5, got %q", s)
	}
	*v.p = f
	return nil
}
