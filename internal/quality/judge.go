package quality

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// DefaultJudgeModel is the default tier-2 model: a current, priced Claude Haiku.
const DefaultJudgeModel = "claude-haiku-4-5"

// MethodJudge is the method of a tier-2 score.
const MethodJudge = "tier2:judge"

// Prompt is one request to the judge's LLM.
type Prompt struct {
	System    string
	User      string
	MaxTokens int64
	// JSON asks for a JSON object where the provider has a switch for it.
	JSON bool
}

// Completion is the LLM's answer to a Prompt.
type Completion struct {
	Text     string
	Provider string
	Model    string
	Usage    genai.Usage
	Attempts int
}

// CompleteFunc sends one prompt to an LLM. cmd/lumina wires it to an internal/llm client.
// An error that has a Temporary() bool method reporting true (llm.Error does) is retried
// later by the caller's job; any other error is final.
type CompleteFunc func(ctx context.Context, p Prompt) (Completion, error)

// Pricer prices LLM usage in USD; ok is false when the model has no known price. cmd/lumina
// wires it to internal/cost.
type Pricer func(provider, model string, u genai.Usage) (usd float64, ok bool)

// JudgeConfig configures tier 2. Zero values take the defaults.
type JudgeConfig struct {
	Provider string // "anthropic", "openai", "openai_compatible": for pricing and the cache key
	Model    string // default DefaultJudgeModel
	// Concurrency bounds calls in flight; default 4.
	Concurrency int
	// DailyBudgetUSD is each project's judge spend per UTC day; default 1 USD; negative
	// means unlimited. BudgetFor, when set, overrides it per project.
	DailyBudgetUSD float64
	BudgetFor      func(projectID string) float64
	CacheTTL       time.Duration // default 24 h
	MaxTokens      int64         // judge output bound; default 300
	Trigger        Trigger
}

func (c *JudgeConfig) defaults() {
	if c.Model == "" {
		c.Model = DefaultJudgeModel
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.DailyBudgetUSD == 0 {
		c.DailyBudgetUSD = 1
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = 24 * time.Hour
	}
	if c.MaxTokens <= 0 {
		c.MaxTokens = 300
	}
	c.Trigger.defaults()
}

// Job is one tier-2 evaluation: the prompt, the reference response(s) and the new response.
// Its content (not its ids) is what the verdict is cached and deduplicated by.
type Job struct {
	ProjectID  string
	Prompt     string
	References []string
	Response   string
	Trigger    string // why: TriggerBorderline, TriggerCostSpike, TriggerSampled
}

// JobFor builds the job for an LLM call, given the text of its reference responses (loaded
// from the store by genai.Quality.ReferenceID).
func JobFor(projectID string, c *genai.Call, references []string, trigger string) Job {
	text, _ := responseText(c)
	return Job{ProjectID: projectID, Prompt: promptText(c), References: references, Response: text, Trigger: trigger}
}

// Judge is tier 2: it asks an LLM for a semantic verdict, within a per-project daily
// budget and a concurrency limit, cached by content hash. It is safe for concurrent use.
// A Judge without a CompleteFunc is "not configured" and says so on every call.
type Judge struct {
	cfg      JudgeConfig
	complete CompleteFunc
	price    Pricer
	cache    Cache
	now      func() time.Time
	sem      chan struct{}
	budget   *budget

	mu       sync.Mutex
	inflight map[string]*flight
}

type flight struct {
	done chan struct{}
	j    genai.Judgement
	err  error
}

// NewJudge returns a Judge. complete nil means no provider is configured; price nil means
// costs are unknown, which (with a budget) refuses every call; cache nil means an
// in-process MemoryCache.
func NewJudge(cfg JudgeConfig, complete CompleteFunc, price Pricer, cache Cache, now func() time.Time) *Judge {
	cfg.defaults()
	if cache == nil {
		cache = NewMemoryCache(0, now)
	}
	return &Judge{cfg: cfg, complete: complete, price: price, cache: cache, now: now,
		sem: make(chan struct{}, cfg.Concurrency), budget: newBudget(), inflight: map[string]*flight{}}
}

// Configured reports whether a provider is wired.
func (j *Judge) Configured() bool { return j.complete != nil }

// Model is the configured provider and model.
func (j *Judge) Model() (provider, model string) { return j.cfg.Provider, j.cfg.Model }

// SpentToday is the project's judge spend so far in the current UTC day (this process).
func (j *Judge) SpentToday(projectID string) float64 { return j.budget.spentToday(projectID, j.now()) }

// ContentHash is the job's idempotency key: the judge prompt version, provider, model and
// the texts, never ids.
func (j *Judge) ContentHash(job Job) string {
	h := sha256.New()
	for _, s := range append([]string{judgePromptVersion, j.cfg.Provider, j.cfg.Model, job.Prompt, job.Response}, job.References...) {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Evaluate judges job. It is idempotent by content hash: a verdict already cached (24 h by
// default) or being computed is returned without a new call (Cached set, no cost).
//
// The Judgement always says what happened: JudgeScored with a validated verdict,
// JudgeNotConfigured, JudgeOverBudget, or JudgeFailed (malformed output twice, an unpriced
// model under a budget, a permanent provider error). The error is non-nil only when
// retrying later may succeed (a transient provider failure, ctx): the durable job should
// then be retried with backoff.
func (j *Judge) Evaluate(ctx context.Context, job Job) (genai.Judgement, error) {
	now := j.now()
	base := genai.Judgement{Trigger: job.Trigger, Provider: j.cfg.Provider, Model: j.cfg.Model, JudgedAt: now}
	if !j.Configured() {
		base.Status = genai.JudgeNotConfigured
		base.Reason = "no judge provider configured (set ANTHROPIC_API_KEY, or OPENAI_API_KEY / OPENAI_BASE_URL)"
		return base, nil
	}
	key := j.ContentHash(job)
	base.ContentHash = key
	if cached, ok, err := j.cache.Get(ctx, key); err == nil && ok {
		return asCached(cached, job.Trigger), nil
	}

	j.mu.Lock()
	if f, ok := j.inflight[key]; ok {
		j.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return base, ctx.Err()
		}
		if f.err == nil && f.j.Status == genai.JudgeScored {
			return asCached(f.j, job.Trigger), nil
		}
		return f.j, f.err
	}
	f := &flight{done: make(chan struct{})}
	j.inflight[key] = f
	j.mu.Unlock()
	defer func() {
		j.mu.Lock()
		delete(j.inflight, key)
		j.mu.Unlock()
		close(f.done)
	}()
	f.j, f.err = j.evaluate(ctx, job, base)
	if f.err == nil && f.j.Status == genai.JudgeScored {
		// A cache failure loses only the saving, never the verdict.
		_ = j.cache.Put(ctx, key, f.j, j.cfg.CacheTTL)
	}
	return f.j, f.err
}

func asCached(j genai.Judgement, trigger string) genai.Judgement {
	j.Cached, j.Usage, j.Attempts, j.Trigger = true, genai.Usage{}, 0, trigger
	j.CostUSD = ptr(0)
	return j
}

func (j *Judge) limit(projectID string) float64 {
	if j.cfg.BudgetFor != nil {
		return j.cfg.BudgetFor(projectID)
	}
	return j.cfg.DailyBudgetUSD
}

// evaluate makes the call(s) for one job: budget reservation, concurrency slot, the call,
// one retry on malformed output, cost settlement.
func (j *Judge) evaluate(ctx context.Context, job Job, base genai.Judgement) (out genai.Judgement, err error) {
	out = base // a named result, so the deferred settlement below can record the cost
	prompt := Prompt{System: judgeSystem, User: judgeUserPrompt(job), MaxTokens: j.cfg.MaxTokens, JSON: true}
	limit := j.limit(job.ProjectID)
	// Estimate: about 4 characters per token in, the full output bound out, per attempt.
	est := genai.Usage{InputTokens: int64(len(prompt.System)+len(prompt.User))/4 + 1, OutputTokens: prompt.MaxTokens}
	estUSD, priced := j.priceOf(j.cfg.Provider, j.cfg.Model, est)
	if !priced && limit >= 0 {
		out.Status = genai.JudgeFailed
		out.Error = fmt.Sprintf("judge model %s/%s has no known price, so the daily budget cannot be enforced: add a custom price", j.cfg.Provider, j.cfg.Model)
		return out, nil
	}
	if !j.budget.reserve(job.ProjectID, limit, 2*estUSD, j.now()) { // up to two attempts
		out.Status = genai.JudgeOverBudget
		out.Reason = fmt.Sprintf("daily judge budget of $%.2f for project %s is spent", limit, job.ProjectID)
		return out, nil
	}
	spent, spentKnown := 0.0, true
	defer func() {
		j.budget.settle(job.ProjectID, 2*estUSD, spent, j.now())
		if spentKnown {
			out.CostUSD = ptr(spent)
		}
	}()

	select {
	case j.sem <- struct{}{}:
		defer func() { <-j.sem }()
	case <-ctx.Done():
		return out, ctx.Err()
	}

	var lastErr error
	for attempt := 1; attempt <= 2; attempt++ {
		c, cerr := j.complete(ctx, prompt)
		if err := cerr; err != nil {
			out.Status = genai.JudgeFailed
			out.Error = err.Error()
			var t interface{ Temporary() bool }
			if ctx.Err() != nil || (errors.As(err, &t) && t.Temporary()) {
				return out, fmt.Errorf("judge call: %w", err)
			}
			return out, nil
		}
		out.Attempts += max(1, c.Attempts)
		out.Usage = addUsage(out.Usage, c.Usage)
		if c.Model != "" {
			out.Model = c.Model
		}
		if usd, ok := j.priceOf(j.cfg.Provider, out.Model, c.Usage); ok {
			spent += usd
		} else if usd, ok := j.priceOf(j.cfg.Provider, j.cfg.Model, c.Usage); ok {
			spent += usd
		} else {
			spentKnown = false
		}
		v, perr := parseVerdict(c.Text)
		if perr != nil {
			lastErr = perr
			continue
		}
		out.Status = genai.JudgeScored
		out.Similarity = ptr(round3(*v.Similarity))
		out.Hallucination, out.ToneDrift, out.FactualError, out.Refusal = *v.Hallucination, *v.ToneDrift, *v.FactualError, *v.Refusal
		out.Reason = *v.Reason
		break
	}
	if out.Status != genai.JudgeScored {
		out.Status = genai.JudgeFailed
		out.Error = lastErr.Error()
	}
	return out, nil
}

func (j *Judge) priceOf(provider, model string, u genai.Usage) (float64, bool) {
	if j.price == nil {
		return 0, false
	}
	return j.price(provider, model, u)
}

func addUsage(a, b genai.Usage) genai.Usage {
	a.InputTokens += b.InputTokens
	a.OutputTokens += b.OutputTokens
	a.CacheReadTokens += b.CacheReadTokens
	a.CacheWriteTokens += b.CacheWriteTokens
	a.ReasoningTokens += b.ReasoningTokens
	a.TotalTokens += b.TotalTokens
	a.Reported = a.Reported || b.Reported
	return a
}
