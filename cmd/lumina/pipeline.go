package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/use-lumina/lumina/internal/cost"
	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/otlp"
	"github.com/use-lumina/lumina/internal/quality"
	"github.com/use-lumina/lumina/internal/queue"
	"github.com/use-lumina/lumina/internal/store"
)

// decode turns one queued OTLP request (protobuf, as ingest published it) into a batch.
func decode(d *queue.Delivery) (store.Batch, error) {
	data, err := d.Data()
	if err != nil {
		return store.Batch{}, err
	}
	projectID := d.ProjectID
	switch d.Signal {
	case queue.SignalTraces:
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(data); err != nil {
			return store.Batch{}, fmt.Errorf("decode traces: %w", err)
		}
		return store.Batch{Spans: otlp.Spans(req.Traces(), projectID)}, nil
	case queue.SignalLogs:
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(data); err != nil {
			return store.Batch{}, fmt.Errorf("decode logs: %w", err)
		}
		return store.Batch{Logs: otlp.Logs(req.Logs(), projectID)}, nil
	}
	return store.Batch{}, fmt.Errorf("unknown signal %q", d.Signal)
}

// normalizeStage derives each span's and log record's GenAI view, then applies the size
// limits to everything stored (attributes and the derived messages alike). Normalizing first
// parses message JSON whole; the request size limit already bounds that work.
func normalizeStage(limits genai.Limits) func(context.Context, *store.Batch) error {
	return func(_ context.Context, b *store.Batch) error {
		for i := range b.Spans {
			genai.Normalize(&b.Spans[i])
			limits.Apply(&b.Spans[i])
		}
		for i := range b.Logs {
			genai.NormalizeLog(&b.Logs[i])
			limits.ApplyLog(&b.Logs[i])
		}
		return nil
	}
}

// costStage prices every model call at the price in force when the span started, so late
// spans and dated price changes agree.
func costStage(calc *cost.Calculator) func(context.Context, *store.Batch) error {
	return func(ctx context.Context, b *store.Batch) error {
		for i := range b.Spans {
			s := &b.Spans[i]
			if s.GenAI == nil {
				continue
			}
			if err := calc.ApplyAt(ctx, s.ProjectID, s.GenAI, s.StartTime); err != nil {
				return fmt.Errorf("price span %s: %w", s.SpanID, err)
			}
		}
		return nil
	}
}

// qualityStage gives every LLM span its tier-1 quality score before commit, so the score
// is stored with the span in the same transaction. The scorer's references live in this
// process's memory (bounded LRU), so each worker process learns its own.
func qualityStage(scorer *quality.Scorer) func(context.Context, *store.Batch) error {
	return func(_ context.Context, b *store.Batch) error {
		for i := range b.Spans {
			if s := &b.Spans[i]; s.GenAI != nil && s.GenAI.Type == genai.TypeLLM {
				s.GenAI.Quality = scorer.ScoreSpan(s)
			}
		}
		return nil
	}
}

// queueCollector exports the queue's backlog as Prometheus gauges at scrape time.
type queueCollector struct{ q *queue.Queue }

var (
	queueMessagesDesc   = prometheus.NewDesc("lumina_queue_messages", "Accepted requests stored in the queue and not yet processed.", nil, nil)
	queueBytesDesc      = prometheus.NewDesc("lumina_queue_bytes", "Bytes of accepted requests not yet processed.", nil, nil)
	queuePendingDesc    = prometheus.NewDesc("lumina_queue_pending", "Requests not yet delivered to a worker (worker lag).", nil, nil)
	queueAckPendingDesc = prometheus.NewDesc("lumina_queue_ack_pending", "Requests delivered to a worker and not yet acknowledged.", nil, nil)
	queueDeadDesc       = prometheus.NewDesc("lumina_queue_dead_letters", "Requests in the dead-letter stream.", nil, nil)
	queueBodyDesc       = prometheus.NewDesc("lumina_queue_published_body_bytes_total", "Bytes of the request bodies this process published, as accepted.", nil, nil)
	queueStoredDesc     = prometheus.NewDesc("lumina_queue_published_stored_bytes_total", "Bytes of the request bodies this process published, as stored (S2-compressed when that pays).", nil, nil)
)

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queueMessagesDesc, queueBytesDesc, queuePendingDesc, queueAckPendingDesc, queueDeadDesc, queueBodyDesc, queueStoredDesc} {
		ch <- d
	}
}

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	body, stored := c.q.Published()
	ch <- prometheus.MustNewConstMetric(queueBodyDesc, prometheus.CounterValue, float64(body))
	ch <- prometheus.MustNewConstMetric(queueStoredDesc, prometheus.CounterValue, float64(stored))
	st, err := c.q.Stats(context.Background())
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(queueMessagesDesc, prometheus.GaugeValue, float64(st.Messages))
	ch <- prometheus.MustNewConstMetric(queueBytesDesc, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(queuePendingDesc, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(queueAckPendingDesc, prometheus.GaugeValue, float64(st.AckPending))
	ch <- prometheus.MustNewConstMetric(queueDeadDesc, prometheus.GaugeValue, float64(st.DeadLetters))
}

// searchIndexCollector exports the backlog of the embedded store's full-text index, which
// is written beside the spans (docs/api.md, Search).
type searchIndexCollector struct{ s searchIndexer }

type searchIndexer interface {
	SearchIndexBacklog(context.Context) (int64, error)
}

var searchBacklogDesc = prometheus.NewDesc("lumina_search_index_backlog",
	"Span changes stored and not yet in the full-text index (SQLite).", nil, nil)

func (c searchIndexCollector) Describe(ch chan<- *prometheus.Desc) { ch <- searchBacklogDesc }

func (c searchIndexCollector) Collect(ch chan<- prometheus.Metric) {
	if n, err := c.s.SearchIndexBacklog(context.Background()); err == nil {
		ch <- prometheus.MustNewConstMetric(searchBacklogDesc, prometheus.GaugeValue, float64(n))
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
