// Package qualityllm connects the tier-2 judge (internal/quality) to a provider client
// (internal/llm). The two feature packages do not import each other; this adapter is the
// wiring cmd/lumina uses, and the end-to-end tests drive the judge through it against
// servers speaking the providers' real wire formats.
package qualityllm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/use-lumina/lumina/internal/llm"
	"github.com/use-lumina/lumina/internal/quality"
)

// Complete adapts an llm.Client to quality.CompleteFunc. Its errors are *llm.Error, whose
// Temporary method tells the judge whether a later retry may succeed.
func Complete(c llm.Client, model string) quality.CompleteFunc {
	return func(ctx context.Context, p quality.Prompt) (quality.Completion, error) {
		resp, err := c.Chat(ctx, llm.Request{
			Model:      model,
			System:     p.System,
			Messages:   []llm.Message{{Role: "user", Content: p.User}},
			MaxTokens:  p.MaxTokens,
			JSONObject: p.JSON,
		})
		if err != nil {
			return quality.Completion{}, err
		}
		return quality.Completion{Text: resp.Text, Provider: resp.Provider, Model: resp.Model, Usage: resp.Usage, Attempts: resp.Attempts}, nil
	}
}

// NewJudge builds the judge for cfg.Provider ("anthropic" when empty, "openai" or
// "openai_compatible") from the provider configuration. When the provider's key is missing
// it still returns a usable judge, one that reports "not configured" on every call, and an
// error wrapping llm.ErrMissingKey that names the variable, for the caller to log. Any
// other error (an unknown provider) returns no judge.
func NewJudge(cfg quality.JudgeConfig, llmCfg llm.Config, baseURL string, price quality.Pricer, cache quality.Cache, now func() time.Time) (*quality.Judge, error) {
	if cfg.Provider == "" {
		cfg.Provider = llm.ProviderAnthropic
	}
	if cfg.Model == "" && cfg.Provider != llm.ProviderAnthropic {
		return nil, fmt.Errorf("judge provider %s: a model must be configured", cfg.Provider)
	}
	client, err := llmCfg.New(cfg.Provider, baseURL)
	if errors.Is(err, llm.ErrMissingKey) {
		return quality.NewJudge(cfg, nil, price, cache, now), fmt.Errorf("tier-2 judge not configured: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("judge provider: %w", err)
	}
	model := cfg.Model
	if model == "" {
		model = quality.DefaultJudgeModel
	}
	return quality.NewJudge(cfg, Complete(client, model), price, cache, now), nil
}
