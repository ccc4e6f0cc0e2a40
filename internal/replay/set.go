package replay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// MaxItems bounds the items of one set.
const MaxItems = 1000

// Set is a frozen list of captured LLM calls.
type Set struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	Source      SetSource `json:"source"`
	Items       int       `json:"item_count"`
	Replayable  int       `json:"replayable_count"`
	// Truncated is set when the source matched more than MaxItems calls.
	Truncated bool `json:"truncated,omitempty"`
}

// SetSource says which calls a set captures: spans by id, every LLM span of some traces,
// or every LLM span of the traces a filter matches.
type SetSource struct {
	Spans    []SpanRef `json:"spans,omitempty"`
	TraceIDs []string  `json:"trace_ids,omitempty"`
	Filter   *Filter   `json:"filter,omitempty"`
}

// SpanRef names one span.
type SpanRef struct {
	TraceID string `json:"trace_id"`
	SpanID  string `json:"span_id"`
}

// Filter selects traces like GET /api/v1/traces: service, model, tag and a time range,
// newest first, up to Limit traces (default 50, at most 1000).
type Filter struct {
	Service string    `json:"service,omitempty"`
	Model   string    `json:"model,omitempty"`
	Tag     string    `json:"tag,omitempty"` // a tag the trace carries (lumina.tags, langfuse tags…)
	Since   time.Time `json:"since,omitzero"`
	Until   time.Time `json:"until,omitzero"`
	Limit   int       `json:"limit,omitempty"`
}

// Item is one frozen call of a set: a copy, so retention never breaks the set.
type Item struct {
	Index     int       `json:"index"`
	TraceID   string    `json:"trace_id"`
	SpanID    string    `json:"span_id"`
	Service   string    `json:"service"`
	SpanName  string    `json:"span_name"`
	StartTime time.Time `json:"start_time"`
	Capture   Capture   `json:"capture"`
}

func (src SetSource) validate() error {
	n := 0
	for _, set := range []bool{len(src.Spans) > 0, len(src.TraceIDs) > 0, src.Filter != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("give exactly one of spans, trace_ids or filter: %w", ErrInvalid)
	}
	if len(src.Spans) > MaxItems || len(src.TraceIDs) > MaxItems {
		return fmt.Errorf("at most %d spans or traces: %w", MaxItems, ErrInvalid)
	}
	if f := src.Filter; f != nil && (f.Limit < 0 || f.Limit > 1000) {
		return fmt.Errorf("filter limit %d: want 1..1000: %w", f.Limit, ErrInvalid)
	}
	return nil
}

// collect reads the source's spans from the trace store and freezes them as items. A span
// id that is not stored is an error; traces matched by a filter contribute their LLM spans.
func collect(ctx context.Context, tr store.TraceReader, project string, src SetSource) (items []Item, truncated bool, err error) {
	traces := map[string]store.TraceDetail{}
	trace := func(id string) (store.TraceDetail, error) {
		id = strings.ToLower(id)
		if d, ok := traces[id]; ok {
			return d, nil
		}
		d, err := tr.Trace(ctx, project, id)
		if err != nil {
			return d, fmt.Errorf("read trace %s: %w", id, err)
		}
		genai.AttachLogs(d.Spans, d.Logs) // messages that came as OTLP log records
		traces[id] = d
		return d, nil
	}
	add := func(d store.TraceDetail, sp *genai.Span) bool {
		if len(items) == MaxItems {
			truncated = true
			return false
		}
		items = append(items, Item{Index: len(items), TraceID: sp.TraceID, SpanID: sp.SpanID, Service: sp.ServiceName,
			SpanName: sp.Name, StartTime: sp.StartTime, Capture: CaptureSpan(sp)})
		return true
	}
	addLLM := func(d store.TraceDetail, model string) bool {
		for i := range d.Spans {
			sp := &d.Spans[i]
			if sp.GenAI == nil || sp.GenAI.Type != genai.TypeLLM {
				continue
			}
			if model != "" && sp.GenAI.RequestModel != model && sp.GenAI.ResponseModel != model {
				continue
			}
			if !add(d, sp) {
				return false
			}
		}
		return true
	}
	switch {
	case len(src.Spans) > 0:
		for _, ref := range src.Spans {
			d, err := trace(ref.TraceID)
			if err != nil {
				return nil, false, err
			}
			found := false
			for i := range d.Spans {
				if d.Spans[i].SpanID == strings.ToLower(ref.SpanID) {
					add(d, &d.Spans[i])
					found = true
					break
				}
			}
			if !found {
				return nil, false, fmt.Errorf("span %s of trace %s: %w", ref.SpanID, ref.TraceID, store.ErrNotFound)
			}
		}
	case len(src.TraceIDs) > 0:
		for _, id := range src.TraceIDs {
			d, err := trace(id)
			if err != nil {
				return nil, false, err
			}
			if !addLLM(d, "") {
				break
			}
		}
	default:
		f := src.Filter
		q := store.TraceQuery{ProjectID: project, Service: f.Service, Model: f.Model, Since: f.Since, Until: f.Until, Limit: f.Limit}
		if q.Limit == 0 {
			q.Limit = 50
		}
		matched, err := filterTraces(ctx, tr, q, f.Tag)
		if err != nil {
			return nil, false, err
		}
		for _, t := range matched {
			d, err := trace(t.TraceID)
			if errors.Is(err, store.ErrNotFound) {
				continue // removed by retention since the listing
			}
			if err != nil {
				return nil, false, err
			}
			if !addLLM(d, f.Model) {
				break
			}
		}
	}
	return items, truncated, nil
}

// maxTagPages bounds the pages a tag filter reads: tags are not an indexed filter, so the
// listing is filtered here.
const maxTagPages = 20

// filterTraces lists up to q.Limit traces matching q and carrying tag (any when empty).
func filterTraces(ctx context.Context, tr store.TraceReader, q store.TraceQuery, tag string) ([]genai.Trace, error) {
	var out []genai.Trace
	for range maxTagPages {
		page, err := tr.Traces(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("list traces: %w", err)
		}
		for _, t := range page.Traces {
			if tag == "" || slices.Contains(t.Tags, tag) {
				out = append(out, t)
			}
			if len(out) == q.Limit {
				return out, nil
			}
		}
		if tag == "" || page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	return out, nil
}
