package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/use-lumina/lumina/internal/alert"
	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/quality"
	"github.com/use-lumina/lumina/internal/store"
	"github.com/use-lumina/lumina/internal/worker"
)

// lateContent scores LLM spans whose messages arrive as log records in another request
// than the span (the older OTel GenAI event convention, OpenLLMetry's logs exporter).
// Tier 1 runs before commit on what the span carries, so such a span is first scored
// tier1:no_content. After each commit this hook joins the two, whichever came first: log
// records with messages re-score the spans already stored; a span stored without content
// whose log records were seen earlier is re-scored against them. The new score is written
// to the span, fed to the alert rules, and handed to the judge hook like a new span's.
type lateContent struct {
	store  store.Store
	scorer *quality.Scorer
	alerts *alert.Engine
	judge  worker.Hook // nil without tier 2
	log    *slog.Logger
	count  prometheus.Counter

	mu   sync.Mutex
	seen map[spanRef]struct{} // spans named by recent log records with messages
	ring []spanRef            // insertion order, for eviction
	next int
}

type spanRef struct{ project, trace, span string }

// lateContentMemory bounds the spans remembered from log records.
const lateContentMemory = 100_000

func newLateContent(st store.Store, scorer *quality.Scorer, alerts *alert.Engine, judge worker.Hook, reg prometheus.Registerer, logger *slog.Logger) *lateContent {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "lumina_quality_rescored_spans_total",
		Help: "LLM spans scored again because their messages arrived as log records after or before them.",
	})
	reg.MustRegister(c)
	return &lateContent{store: st, scorer: scorer, alerts: alerts, judge: judge, log: logger, count: c,
		seen: map[spanRef]struct{}{}, ring: make([]spanRef, lateContentMemory)}
}

// remember notes a span that log records gave content to.
func (l *lateContent) remember(r spanRef) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[r]; ok {
		return
	}
	if old := l.ring[l.next]; old != (spanRef{}) {
		delete(l.seen, old)
	}
	l.ring[l.next] = r
	l.next = (l.next + 1) % len(l.ring)
	l.seen[r] = struct{}{}
}

func (l *lateContent) remembered(r spanRef) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.seen[r]
	return ok
}

// noContent says whether a committed span is an LLM call tier 1 found nothing to score in.
func noContent(s *genai.Span) bool {
	return s.GenAI != nil && s.GenAI.Type == genai.TypeLLM &&
		(s.GenAI.Quality == nil || s.GenAI.Quality.Method == quality.MethodNoContent)
}

// Observe is the worker hook.
func (l *lateContent) Observe(ctx context.Context, b store.Batch) {
	targets := map[spanRef]bool{}
	for i := range b.Logs {
		r := &b.Logs[i]
		if r.SpanID == "" || r.TraceID == "" || (len(r.Messages) == 0 && len(r.OutputMessages) == 0) {
			continue
		}
		ref := spanRef{r.ProjectID, r.TraceID, r.SpanID}
		l.remember(ref)
		targets[ref] = true
	}
	for i := range b.Spans {
		s := &b.Spans[i]
		if ref := (spanRef{s.ProjectID, s.TraceID, s.SpanID}); noContent(s) && l.remembered(ref) {
			targets[ref] = true
		}
	}
	if len(targets) == 0 {
		return
	}
	byTrace := map[spanRef][]string{} // (project, trace) → span ids
	for r := range targets {
		t := spanRef{project: r.project, trace: r.trace}
		byTrace[t] = append(byTrace[t], r.span)
	}
	var rescored []genai.Span
	for t, ids := range byTrace {
		d, err := l.store.Trace(ctx, t.project, t.trace)
		if errors.Is(err, store.ErrNotFound) {
			continue // the spans come later; they are remembered
		}
		if err != nil {
			l.log.Warn("quality: reading a trace to score late content failed", "trace", t.trace, "err", err)
			continue
		}
		genai.AttachLogs(d.Spans, d.Logs)
		for i := range d.Spans {
			s := &d.Spans[i]
			if !contains(ids, s.SpanID) || !noContent(s) {
				continue
			}
			q := l.scorer.ScoreSpan(s)
			if q == nil || q.Method == quality.MethodNoContent {
				continue
			}
			if err := l.store.UpdateSpanQuality(ctx, s.ProjectID, s.TraceID, s.SpanID, *q); err != nil {
				l.log.Warn("quality: storing a late score failed", "trace", s.TraceID, "span", s.SpanID, "err", err)
				continue
			}
			s.GenAI.Quality = q
			l.count.Inc()
			l.alerts.UpdateQuality(ctx, alert.Key{Project: s.ProjectID, Service: s.ServiceName, Endpoint: s.Name, Model: s.GenAI.Model()},
				s.TraceID, s.SpanID, q.Score)
			rescored = append(rescored, *s)
		}
	}
	if len(rescored) > 0 && l.judge != nil {
		l.judge(ctx, store.Batch{Spans: rescored})
	}
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}
