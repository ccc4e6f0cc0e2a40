package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// inspector is the per-span panel: the conversation, usage and cost with their provenance,
// attributes, events and the raw span.
type inspector struct {
	TraceID       string
	ID            string
	ParentID      string
	Name          string
	Service       string
	Kind          string
	Status        string
	StatusMessage string
	Start         time.Time
	Offset        time.Duration
	Duration      time.Duration
	Call          *genai.Call
	Model         string
	System        string
	Input         []messageView
	Output        []messageView
	Tool          *genai.Tool
	Documents     []genai.Document
	Params        []kv
	Usage         []usageRow
	Cost          costView
	Sources       []kv
	Attributes    []kv
	Resource      []kv
	Events        []eventView
	Scope         string
	Raw           string
}

// messageView is one chat message as the inspector shows it.
type messageView struct {
	genai.Message
	PartsJSON string
}

type kv struct {
	Key   string
	Value string
}

type usageRow struct {
	Label  string
	Tokens int64
	USD    string
}

type costView struct {
	Total       string
	Source      string
	PriceID     string
	PriceSource string
	Tier        string
	Client      string
	Price       *genai.Price
	Counted     bool
}

type eventView struct {
	Time       time.Time
	Offset     time.Duration
	Name       string
	Attributes []kv
}

// newInspector builds the inspector of span sp of trace t in project.
func (s *Server) newInspector(ctx context.Context, project string, t *genai.Trace, sp *genai.Span) *inspector {
	in := &inspector{
		TraceID: t.TraceID, ID: sp.SpanID, ParentID: sp.ParentSpanID, Name: sp.Name, Service: sp.ServiceName,
		Kind: sp.Kind, Status: sp.StatusCode, StatusMessage: sp.StatusMessage, Start: sp.StartTime,
		Offset: sp.StartTime.Sub(t.StartTime), Duration: sp.Duration(), Call: sp.GenAI,
		Attributes: kvs(sp.Attributes), Resource: kvs(sp.Resource), Raw: rawSpan(sp),
	}
	in.Scope = sp.ScopeName
	if sp.ScopeVersion != "" {
		in.Scope += " " + sp.ScopeVersion
	}
	for _, e := range sp.Events {
		in.Events = append(in.Events, eventView{Time: e.Time, Offset: e.Time.Sub(sp.StartTime), Name: e.Name, Attributes: kvs(e.Attributes)})
	}
	c := sp.GenAI
	if c == nil {
		return in
	}
	in.Model, in.System, in.Tool, in.Documents = c.Model(), c.SystemInstructions, c.Tool, c.RetrievalDocuments
	in.Input, in.Output = messageViews(c.InputMessages), messageViews(c.OutputMessages)
	in.Params = kvs(c.RequestParams)
	in.Sources = make([]kv, 0, len(c.Sources))
	for _, k := range slices.Sorted(maps.Keys(c.Sources)) {
		in.Sources = append(in.Sources, kv{Key: k, Value: c.Sources[k]})
	}
	u, co := c.Usage, c.Cost
	in.Usage = []usageRow{
		{Label: "Input (all)", Tokens: u.InputTokens, USD: usdIf(co.InputUSD)},
		{Label: "· cache read", Tokens: u.CacheReadTokens, USD: usdIf(co.CacheReadUSD)},
		{Label: "· cache write", Tokens: u.CacheWriteTokens, USD: usdIf(co.CacheWriteUSD)},
		{Label: "Output (all)", Tokens: u.OutputTokens, USD: usdIf(co.OutputUSD)},
		{Label: "· reasoning", Tokens: u.ReasoningTokens, USD: usdIf(co.ReasoningUSD)},
		{Label: "Total", Tokens: u.TotalTokens, USD: fmtCost(co.TotalUSD)},
	}
	in.Cost = costView{Total: fmtCost(co.TotalUSD), Source: co.Source, PriceID: co.PriceID, PriceSource: co.PriceSource,
		Tier: co.Tier, Counted: c.Counted}
	if co.ClientUSD != nil {
		in.Cost.Client = fmtUSD(*co.ClientUSD)
	}
	in.Cost.Price = s.price(ctx, project, co.PriceID)
	return in
}

// price finds the price a span was costed with: a built-in one, else one of the project's
// custom prices (it may have been deleted since; then nil).
func (s *Server) price(ctx context.Context, project, id string) *genai.Price {
	if id == "" {
		return nil
	}
	if s.pricing != nil {
		if p, ok := s.pricing.Table().Price(id); ok {
			return &p
		}
	}
	custom, err := s.store.Prices(ctx, project)
	if err != nil {
		s.log.Warn("read custom prices for the inspector", "err", err)
		return nil
	}
	for i := range custom {
		if custom[i].ID == id {
			return &custom[i]
		}
	}
	return nil
}

func usdIf(v float64) string {
	if v == 0 {
		return ""
	}
	return fmtUSD(v)
}

func messageViews(ms []genai.Message) []messageView {
	out := make([]messageView, len(ms))
	for i, m := range ms {
		out[i] = messageView{Message: m}
		if len(m.Parts) > 0 {
			out[i].PartsJSON = indentJSON(m.Parts)
		}
	}
	return out
}

// kvs lists a map's entries by key, strings as they are and other values as JSON.
func kvs(m map[string]any) []kv {
	out := make([]kv, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, kv{Key: k, Value: valueText(m[k])})
	}
	return out
}

func valueText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func indentJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return buf.String()
}

// rawSpan is the span as JSON, in the REST API's field names.
func rawSpan(sp *genai.Span) string {
	return indentJSON(map[string]any{
		"trace_id": sp.TraceID, "span_id": sp.SpanID, "parent_span_id": sp.ParentSpanID, "name": sp.Name,
		"kind": sp.Kind, "service_name": sp.ServiceName, "start_time": sp.StartTime, "end_time": sp.EndTime,
		"duration_ms": float64(sp.Duration()) / 1e6, "status": sp.StatusCode, "status_message": sp.StatusMessage,
		"attributes": sp.Attributes, "resource": sp.Resource,
		"scope":  map[string]string{"name": sp.ScopeName, "version": sp.ScopeVersion},
		"events": sp.Events, "links": sp.Links, "genai": sp.GenAI,
	})
}
