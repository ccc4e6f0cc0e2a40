package alert

import (
	"fmt"
	"time"

	"github.com/use-lumina/lumina/internal/store"
)

// Stats a baseline-relative rule may compare with.
const (
	StatMean = "mean"
	StatP50  = "p50"
	StatP95  = "p95"
	StatP99  = "p99"
)

// Budget periods (UTC).
const (
	PeriodDay   = "day"
	PeriodMonth = "month"
)

// maxWindowRequests bounds a rule's request window: the engine keeps this many recent
// requests per key.
const maxWindowRequests = 100

// DefaultRules are the rules every project starts with: the promises of the FAQ (cost per
// request 20 % over baseline, quality below 0.7, both together) plus latency and error
// rate. Budget rules have no sensible default amount, so none is created.
func DefaultRules(projectID string, now time.Time) []store.AlertRule {
	r := func(typ, name, sev string, threshold float64, stat string, n int, window time.Duration, minSamples int) store.AlertRule {
		return store.AlertRule{
			ID: "default-" + typ, ProjectID: projectID, Type: typ, Name: name, Enabled: true, Severity: sev,
			Threshold: threshold, Stat: stat, WindowRequests: n, WindowDuration: window, MinSamples: minSamples,
			Cooldown: 30 * time.Minute, CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
		}
	}
	dual := r(store.RuleCostAndQuality, "Cost up and quality down together", store.SeverityCritical, 0.2, StatMean, 10, 15*time.Minute, 20)
	dual.QualityThreshold = 0.7
	return []store.AlertRule{
		r(store.RuleCostSpike, "Cost per request 20% over baseline", store.SeverityWarning, 0.2, StatMean, 10, 15*time.Minute, 20),
		r(store.RuleQualityDrop, "Quality below 0.7", store.SeverityWarning, 0.7, "", 10, 15*time.Minute, 5),
		r(store.RuleLatencySpike, "Latency 50% over the baseline p95", store.SeverityWarning, 0.5, StatP95, 10, 15*time.Minute, 20),
		r(store.RuleErrorRate, "Error rate above 10%", store.SeverityCritical, 0.1, "", 20, 15*time.Minute, 10),
		dual,
	}
}

// ValidateRule checks r and fills the defaults of its optional fields (stat, windows,
// severity, period). It returns a message fit for an API client.
func ValidateRule(r *store.AlertRule) error {
	switch r.Type {
	case store.RuleCostSpike, store.RuleLatencySpike, store.RuleCostAndQuality:
		if r.Threshold <= 0 {
			return fmt.Errorf("%s: threshold is the fraction over the baseline and must be > 0 (0.2 = 20%%)", r.Type)
		}
		if r.Stat == "" {
			r.Stat = StatMean
		}
		if r.Stat != StatMean && r.Stat != StatP50 && r.Stat != StatP95 && r.Stat != StatP99 {
			return fmt.Errorf("stat %q: want mean, p50, p95 or p99", r.Stat)
		}
		if r.Type == store.RuleCostAndQuality && (r.QualityThreshold <= 0 || r.QualityThreshold > 1) {
			return fmt.Errorf("cost_and_quality: quality_threshold must be in (0, 1]")
		}
	case store.RuleQualityDrop, store.RuleErrorRate:
		if r.Threshold <= 0 || r.Threshold > 1 {
			return fmt.Errorf("%s: threshold must be in (0, 1]", r.Type)
		}
	case store.RuleBudget:
		if r.Threshold <= 0 {
			return fmt.Errorf("budget: threshold is the spend in USD and must be > 0")
		}
		if r.Period == "" {
			r.Period = PeriodDay
		}
		if r.Period != PeriodDay && r.Period != PeriodMonth {
			return fmt.Errorf("period %q: want day or month", r.Period)
		}
	case store.RuleNoData:
		if r.Threshold != 0 {
			return fmt.Errorf("no_data: the silence is window_duration; leave threshold 0")
		}
		if r.MinSamples == 0 {
			r.MinSamples = 10
		}
		if r.MinSamples > maxWindowRequests {
			return fmt.Errorf("no_data: min_samples %d: want at most %d (requests a key must have had before its silence counts)", r.MinSamples, maxWindowRequests)
		}
	default:
		return fmt.Errorf("type %q: want cost_spike, quality_drop, latency_spike, error_rate, budget, cost_and_quality or no_data", r.Type)
	}
	if r.Scope.User != "" && r.Type != store.RuleBudget {
		return fmt.Errorf("scope.user applies to budget rules only")
	}
	switch r.Severity {
	case "":
		r.Severity = store.SeverityWarning
	case store.SeverityInfo, store.SeverityWarning, store.SeverityCritical:
	default:
		return fmt.Errorf("severity %q: want info, warning or critical", r.Severity)
	}
	if r.WindowRequests < 0 || r.WindowRequests > maxWindowRequests {
		return fmt.Errorf("window_requests %d: want 0..%d", r.WindowRequests, maxWindowRequests)
	}
	if r.WindowRequests == 0 {
		r.WindowRequests = 10
	}
	if r.WindowDuration < 0 || r.Cooldown < 0 || r.MinSamples < 0 {
		return fmt.Errorf("window_duration, cooldown and min_samples must not be negative")
	}
	if r.WindowDuration == 0 {
		r.WindowDuration = 15 * time.Minute
	}
	return nil
}

// severityRank orders severities, lowest first.
func severityRank(s string) int {
	switch s {
	case store.SeverityCritical:
		return 2
	case store.SeverityWarning:
		return 1
	}
	return 0
}

// matches reports whether the rule's scope admits key k.
func matches(r *store.AlertRule, k Key) bool {
	return (r.Scope.Service == "" || r.Scope.Service == k.Service) &&
		(r.Scope.Endpoint == "" || r.Scope.Endpoint == k.Endpoint) &&
		(r.Scope.Model == "" || r.Scope.Model == k.Model)
}
