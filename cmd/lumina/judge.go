package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/use-lumina/lumina/internal/alert"
	"github.com/use-lumina/lumina/internal/api"
	"github.com/use-lumina/lumina/internal/cost"
	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/llm"
	"github.com/use-lumina/lumina/internal/quality"
	"github.com/use-lumina/lumina/internal/quality/qualityllm"
	"github.com/use-lumina/lumina/internal/quality/qualityredis"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/worker"
)

// newJudge builds the tier-2 judge the configuration asks for, and its status as the API
// reports it. Without the provider's key (or with --judge-provider off) the judge is not
// configured: it is returned all the same, and judges nothing.
func newJudge(cfg *config, calc *cost.Calculator, cache quality.Cache) (*quality.Judge, api.JudgeStatus) {
	jc := quality.JudgeConfig{
		Provider: cfg.JudgeProvider, Model: cfg.JudgeModel, Concurrency: cfg.JudgeConcurrency, DailyBudgetUSD: cfg.JudgeDailyBudget,
		Trigger: quality.Trigger{Low: cfg.judgeLow, High: cfg.judgeHigh, SampleRate: cfg.JudgeSampleRate},
	}
	st := api.JudgeStatus{Provider: cfg.JudgeProvider, Model: cfg.JudgeModel, BandLow: cfg.judgeLow, BandHigh: cfg.judgeHigh,
		SampleRate: cfg.JudgeSampleRate, DailyBudgetUSD: cfg.JudgeDailyBudget, Concurrency: cfg.JudgeConcurrency, Status: "not_configured"}
	if st.Model == "" && st.Provider == llm.ProviderAnthropic {
		st.Model = quality.DefaultJudgeModel
	}
	if cfg.JudgeProvider == "off" {
		jc.Provider = ""
		st.Reason = "tier 2 is switched off (--judge-provider off)"
		return quality.NewJudge(jc, nil, nil, nil, time.Now), st
	}
	llmCfg := llm.Config{AnthropicAPIKey: cfg.AnthropicAPIKey, AnthropicBaseURL: cfg.AnthropicBaseURL,
		OpenAIAPIKey: cfg.OpenAIAPIKey, OpenAIBaseURL: cfg.OpenAIBaseURL}
	j, err := qualityllm.NewJudge(jc, llmCfg, cfg.JudgeBaseURL, judgePricer(calc), cache, time.Now)
	if j == nil {
		st.Reason = err.Error()
		return quality.NewJudge(jc, nil, nil, nil, time.Now), st
	}
	if err != nil {
		st.Reason = err.Error()
		return j, st
	}
	st.Configured, st.Status = true, "active"
	return j, st
}

// judgePricer prices the judge's own calls with the built-in price table (and the
// calculator's custom prices of no project).
func judgePricer(calc *cost.Calculator) quality.Pricer {
	if calc == nil {
		return nil
	}
	return func(provider, model string, u genai.Usage) (float64, bool) {
		if provider == llm.ProviderOpenAICompatible {
			provider = llm.ProviderOpenAI // a proxy serving OpenAI's models at their prices
		}
		c := genai.Call{Type: genai.TypeLLM, Operation: "chat", Provider: provider, RequestModel: model, ResponseModel: model, Usage: u}
		c.Usage.Reported = true
		if err := calc.Apply(context.Background(), "", &c); err != nil || c.Cost.TotalUSD == nil {
			return 0, false
		}
		return *c.Cost.TotalUSD, true
	}
}

// startJudge starts the tier-2 job runner, stopped with the worker (run), and returns the
// post-commit hook that enqueues judge jobs; nil when tier 2 is not configured.
func (a *app) startJudge(run context.Context, alerts *alert.Engine) (worker.Hook, error) {
	var cache quality.Cache
	closeCache := func() error { return nil }
	if a.cfg.RedisURL != "" {
		rc, err := qualityredis.New(a.cfg.RedisURL, a.cfg.RedisPrefix)
		if err != nil {
			return nil, fmt.Errorf("judge cache: %w", err)
		}
		cache, closeCache = rc, rc.Close
	}
	judge, st := newJudge(a.cfg, a.calc, cache)
	if !st.Configured {
		_ = closeCache()
		a.log.Info("tier-2 quality judge not configured; spans keep their tier-1 scores", "reason", st.Reason)
		return nil, nil
	}
	applied := func(ctx context.Context, j store.JudgeJob, q genai.Quality) {
		alerts.UpdateQuality(ctx, alert.Key{Project: j.ProjectID, Service: j.Service, Endpoint: j.SpanName, Model: j.Model}, j.TraceID, j.SpanID, q.Score)
	}
	runner := quality.NewRunner(quality.RunnerConfig{
		Concurrency: a.cfg.JudgeConcurrency, MaxAttempts: a.cfg.JudgeMaxAttempts, Backoff: a.cfg.JudgeBackoff, Registerer: a.registry,
	}, judge, a.store, applied, a.log.With("component", "judge"), time.Now)
	enq := quality.NewEnqueuer(quality.EnqueuerConfig{
		Judge: judge, Store: a.store, CostSpike: alerts.CostSpike, Join: genai.AttachLogs, Notify: runner.Notify,
		Logger: a.log.With("component", "judge"), Now: time.Now,
	})
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		err := runner.Run(run)
		if cerr := closeCache(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close judge cache: %w", cerr))
		}
		if err != nil {
			a.errs <- fmt.Errorf("judge: %w", err)
		}
	}()
	a.log.Info("tier-2 quality judge active", "provider", st.Provider, "model", st.Model, "band", a.cfg.JudgeBand, "daily_budget_usd", st.DailyBudgetUSD)
	return enq.Observe, nil
}

// registerQuality adds the quality routes (tier-2 status, jobs, summary) to the API.
func (a *app) registerQuality(mux *http.ServeMux, srv *api.Server) {
	_, st := newJudge(a.cfg, a.calc, nil)
	srv.RegisterQuality(mux, a.store, st, time.Now)
}

// judgeUse says, for the dashboard's provider list, whether provider serves the judge.
func judgeUse(cfg *config, provider, other string) string {
	if cfg.JudgeProvider == provider || (provider == llm.ProviderOpenAI && cfg.JudgeProvider == llm.ProviderOpenAICompatible) {
		_, st := newJudge(cfg, nil, nil)
		if st.Configured {
			return "quality judge (tier 2, " + st.Model + ") and " + other
		}
		return "quality judge (tier 2: not configured, " + st.Reason + ") and " + other
	}
	return other
}
