package postgres

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/use-lumina/lumina/internal/genai"
	"github.com/use-lumina/lumina/internal/store"
)

// spanRows holds a batch's spans column by column: the parameters of one
// INSERT … SELECT FROM unnest(…) statement.
type spanRows struct {
	projectID, traceID, spanID                      []string
	startNS, endNS                                  []int64
	droppedAttrs, droppedEvents, droppedLinks       []int64
	inputTokens, outputTokens                       []int64
	cacheReadTokens, cacheWriteTokens               []int64
	reasoningTokens, totalTokens                    []int64
	costUSD                                         []*float64
	usageReported, counted                          []bool
	parentSpanID, name, serviceName, statusCode     []string
	kind, traceState, statusMessage                 []string
	scopeName, scopeVersion                         []string
	resourceSchemaURL, scopeSchemaURL               []string
	genaiType, operation, provider, model           []string
	sessionID, userID, environment, costSource      []string
	tags, attributes, resource, events, links, call [][]byte
	searchVec                                       [][]byte // tsvector(store.SearchText), nil when empty
}

// spanColumns are the spans columns in spanRows order.
const spanColumns = `
	project_id, trace_id, span_id, start_ns, end_ns,
	dropped_attributes, dropped_events, dropped_links,
	input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, total_tokens,
	cost_usd, usage_reported, counted,
	parent_span_id, name, service_name, status_code, kind, trace_state, status_message,
	scope_name, scope_version, resource_schema_url, scope_schema_url,
	genai_type, operation, provider, model, session_id, user_id, environment, cost_source,
	tags, attributes, resource, events, links, genai, search_vec`

// insertSpansSQL inserts spanRows; the unnest argument list is in spanColumns order, as
// spanRows.arrayParams writes it. Spans of traces that had no row, hence no stored span, are
// copied instead (copySpans); upsertSpansSQL, built on it, is for the others.
const insertSpansSQL = `INSERT INTO spans (` + spanColumns + `)
SELECT * FROM unnest(
	$1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],
	$6::bigint[], $7::bigint[], $8::bigint[],
	$9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[],
	$15::float8[], $16::boolean[], $17::boolean[],
	$18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::text[], $24::text[],
	$25::text[], $26::text[], $27::text[], $28::text[],
	$29::text[], $30::text[], $31::text[], $32::text[], $33::text[], $34::text[], $35::text[], $36::text[],
	$37::json[], $38::jsonb[], $39::jsonb[], $40::json[], $41::json[], $42::json[], $43::tsvector[])`

// upsertSpansSQL is insertSpansSQL replacing any stored row with the same key. (A plain
// insert skips the speculative insertion ON CONFLICT costs: about 10% of the statement.)
const upsertSpansSQL = insertSpansSQL + `
ON CONFLICT (project_id, trace_id, span_id, start_ns) DO UPDATE SET
	end_ns = EXCLUDED.end_ns,
	dropped_attributes = EXCLUDED.dropped_attributes,
	dropped_events = EXCLUDED.dropped_events,
	dropped_links = EXCLUDED.dropped_links,
	input_tokens = EXCLUDED.input_tokens,
	output_tokens = EXCLUDED.output_tokens,
	cache_read_tokens = EXCLUDED.cache_read_tokens,
	cache_write_tokens = EXCLUDED.cache_write_tokens,
	reasoning_tokens = EXCLUDED.reasoning_tokens,
	total_tokens = EXCLUDED.total_tokens,
	cost_usd = EXCLUDED.cost_usd,
	usage_reported = EXCLUDED.usage_reported,
	counted = EXCLUDED.counted,
	parent_span_id = EXCLUDED.parent_span_id,
	name = EXCLUDED.name,
	service_name = EXCLUDED.service_name,
	status_code = EXCLUDED.status_code,
	kind = EXCLUDED.kind,
	trace_state = EXCLUDED.trace_state,
	status_message = EXCLUDED.status_message,
	scope_name = EXCLUDED.scope_name,
	scope_version = EXCLUDED.scope_version,
	resource_schema_url = EXCLUDED.resource_schema_url,
	scope_schema_url = EXCLUDED.scope_schema_url,
	genai_type = EXCLUDED.genai_type,
	operation = EXCLUDED.operation,
	provider = EXCLUDED.provider,
	model = EXCLUDED.model,
	session_id = EXCLUDED.session_id,
	user_id = EXCLUDED.user_id,
	environment = EXCLUDED.environment,
	cost_source = EXCLUDED.cost_source,
	tags = EXCLUDED.tags,
	attributes = EXCLUDED.attributes,
	resource = EXCLUDED.resource,
	events = EXCLUDED.events,
	links = EXCLUDED.links,
	genai = EXCLUDED.genai,
	search_vec = EXCLUDED.search_vec`

// subset returns the rows at idx, in that order.
func (r *spanRows) subset(idx []int) *spanRows {
	strs := func(v []string) []string { return pick(v, idx) }
	ints := func(v []int64) []int64 { return pick(v, idx) }
	docs := func(v [][]byte) [][]byte { return pick(v, idx) }
	return &spanRows{
		projectID: strs(r.projectID), traceID: strs(r.traceID), spanID: strs(r.spanID),
		startNS: ints(r.startNS), endNS: ints(r.endNS),
		droppedAttrs: ints(r.droppedAttrs), droppedEvents: ints(r.droppedEvents), droppedLinks: ints(r.droppedLinks),
		inputTokens: ints(r.inputTokens), outputTokens: ints(r.outputTokens),
		cacheReadTokens: ints(r.cacheReadTokens), cacheWriteTokens: ints(r.cacheWriteTokens),
		reasoningTokens: ints(r.reasoningTokens), totalTokens: ints(r.totalTokens),
		costUSD: pick(r.costUSD, idx), usageReported: pick(r.usageReported, idx), counted: pick(r.counted, idx),
		parentSpanID: strs(r.parentSpanID), name: strs(r.name), serviceName: strs(r.serviceName),
		statusCode: strs(r.statusCode), kind: strs(r.kind), traceState: strs(r.traceState),
		statusMessage: strs(r.statusMessage), scopeName: strs(r.scopeName), scopeVersion: strs(r.scopeVersion),
		resourceSchemaURL: strs(r.resourceSchemaURL), scopeSchemaURL: strs(r.scopeSchemaURL),
		genaiType: strs(r.genaiType), operation: strs(r.operation), provider: strs(r.provider),
		model: strs(r.model), sessionID: strs(r.sessionID), userID: strs(r.userID),
		environment: strs(r.environment), costSource: strs(r.costSource),
		tags: docs(r.tags), attributes: docs(r.attributes), resource: docs(r.resource),
		events: docs(r.events), links: docs(r.links), call: docs(r.call),
		searchVec: docs(r.searchVec),
	}
}

func pick[T any](v []T, idx []int) []T {
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = v[j]
	}
	return out
}

// arrayParams encodes the columns as insertSpansSQL's binary parameters.
func (r *spanRows) arrayParams() *arrayParams {
	n := len(r.projectID)
	texts := [][]string{r.projectID, r.traceID, r.spanID}
	ints := [][]int64{r.startNS, r.endNS, r.droppedAttrs, r.droppedEvents, r.droppedLinks,
		r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheWriteTokens, r.reasoningTokens, r.totalTokens}
	more := [][]string{r.parentSpanID, r.name, r.serviceName, r.statusCode, r.kind, r.traceState, r.statusMessage,
		r.scopeName, r.scopeVersion, r.resourceSchemaURL, r.scopeSchemaURL,
		r.genaiType, r.operation, r.provider, r.model, r.sessionID, r.userID, r.environment, r.costSource}
	docs := []struct {
		oid uint32
		v   [][]byte
	}{{oidJSON, r.tags}, {oidJSONB, r.attributes}, {oidJSONB, r.resource}, {oidJSON, r.events}, {oidJSON, r.links}, {oidJSON, r.call}, {oidTSVector, r.searchVec}}

	size := len(ints)*(20+12*n) + 20 + 12*n + 2*(20+5*n)
	for _, t := range append(texts, more...) {
		size += textsSize(t)
	}
	for _, d := range docs {
		size += docsSize(d.v)
	}
	p := newArrayParams(size)
	for _, t := range texts {
		p.texts(t)
	}
	for _, v := range ints {
		p.int8s(v)
	}
	p.float8s(r.costUSD)
	p.bools(r.usageReported)
	p.bools(r.counted)
	for _, t := range more {
		p.texts(t)
	}
	for _, d := range docs {
		p.docs(d.oid, d.v)
	}
	return p
}

// newSpanRows encodes spans (already unique and sorted) with their Counted flags. Resource
// maps shared by many spans of one OTLP request are encoded once.
func newSpanRows(spans []genai.Span, counted []bool) (*spanRows, error) {
	n := len(spans)
	r := &spanRows{}
	for _, col := range []*[]string{&r.projectID, &r.traceID, &r.spanID, &r.parentSpanID, &r.name,
		&r.serviceName, &r.statusCode, &r.kind, &r.traceState, &r.statusMessage, &r.scopeName,
		&r.scopeVersion, &r.resourceSchemaURL, &r.scopeSchemaURL, &r.genaiType, &r.operation,
		&r.provider, &r.model, &r.sessionID, &r.userID, &r.environment, &r.costSource} {
		*col = make([]string, 0, n)
	}
	for _, col := range []*[]int64{&r.startNS, &r.endNS, &r.droppedAttrs, &r.droppedEvents,
		&r.droppedLinks, &r.inputTokens, &r.outputTokens, &r.cacheReadTokens, &r.cacheWriteTokens,
		&r.reasoningTokens, &r.totalTokens} {
		*col = make([]int64, 0, n)
	}
	for _, col := range []*[][]byte{&r.tags, &r.attributes, &r.resource, &r.events, &r.links, &r.call, &r.searchVec} {
		*col = make([][]byte, 0, n)
	}
	r.costUSD = make([]*float64, 0, n)
	r.usageReported, r.counted = make([]bool, 0, n), make([]bool, 0, n)

	enc := &jsonEncoder{arena: make([]byte, 0, 2048*n)}
	for i := range spans {
		s := &spans[i]
		r.projectID = append(r.projectID, s.ProjectID) // cleaned by uniqueSpans
		r.traceID = append(r.traceID, s.TraceID)
		r.spanID = append(r.spanID, s.SpanID)
		r.startNS = append(r.startNS, toNS(s.StartTime))
		r.endNS = append(r.endNS, toNS(s.EndTime))
		r.droppedAttrs = append(r.droppedAttrs, int64(s.DroppedAttributes))
		r.droppedEvents = append(r.droppedEvents, int64(s.DroppedEvents))
		r.droppedLinks = append(r.droppedLinks, int64(s.DroppedLinks))
		r.parentSpanID = append(r.parentSpanID, clean(s.ParentSpanID))
		r.name = append(r.name, clean(s.Name))
		r.serviceName = append(r.serviceName, clean(s.ServiceName))
		r.statusCode = append(r.statusCode, clean(s.StatusCode))
		r.kind = append(r.kind, clean(s.Kind))
		r.traceState = append(r.traceState, clean(s.TraceState))
		r.statusMessage = append(r.statusMessage, clean(s.StatusMessage))
		r.scopeName = append(r.scopeName, clean(s.ScopeName))
		r.scopeVersion = append(r.scopeVersion, clean(s.ScopeVersion))
		r.resourceSchemaURL = append(r.resourceSchemaURL, clean(s.ResourceSchemaURL))
		r.scopeSchemaURL = append(r.scopeSchemaURL, clean(s.ScopeSchemaURL))

		var err error
		var attrs, res, events, links []byte
		if attrs, err = enc.value(s.Attributes); err != nil {
			return nil, fmt.Errorf("span %s attributes: %w", s.SpanID, err)
		}
		if res, err = enc.sharedMap(s.Resource); err != nil {
			return nil, fmt.Errorf("span %s resource: %w", s.SpanID, err)
		}
		if events, err = marshalJSON(utcEvents(s.Events)); err != nil {
			return nil, fmt.Errorf("span %s events: %w", s.SpanID, err)
		}
		if links, err = marshalJSON(s.Links); err != nil {
			return nil, fmt.Errorf("span %s links: %w", s.SpanID, err)
		}
		r.attributes = append(r.attributes, attrs)
		r.resource = append(r.resource, res)
		r.events = append(r.events, events)
		r.links = append(r.links, links)

		c := s.GenAI
		if c == nil {
			r.genaiType = append(r.genaiType, "")
			r.operation = append(r.operation, "")
			r.provider = append(r.provider, "")
			r.model = append(r.model, "")
			r.sessionID = append(r.sessionID, "")
			r.userID = append(r.userID, "")
			r.environment = append(r.environment, "")
			r.costSource = append(r.costSource, "")
			r.inputTokens = append(r.inputTokens, 0)
			r.outputTokens = append(r.outputTokens, 0)
			r.cacheReadTokens = append(r.cacheReadTokens, 0)
			r.cacheWriteTokens = append(r.cacheWriteTokens, 0)
			r.reasoningTokens = append(r.reasoningTokens, 0)
			r.totalTokens = append(r.totalTokens, 0)
			r.costUSD = append(r.costUSD, nil)
			r.usageReported = append(r.usageReported, false)
			r.counted = append(r.counted, false)
			r.tags = append(r.tags, nil)
			r.call = append(r.call, nil)
			r.searchVec = append(r.searchVec, nil)
			continue
		}
		r.genaiType = append(r.genaiType, clean(c.Type))
		r.operation = append(r.operation, clean(c.Operation))
		r.provider = append(r.provider, clean(c.Provider))
		r.model = append(r.model, clean(c.Model()))
		r.sessionID = append(r.sessionID, clean(c.SessionID))
		r.userID = append(r.userID, clean(c.UserID))
		r.environment = append(r.environment, clean(c.Environment))
		r.costSource = append(r.costSource, clean(c.Cost.Source))
		u := c.Usage
		r.inputTokens = append(r.inputTokens, u.InputTokens)
		r.outputTokens = append(r.outputTokens, u.OutputTokens)
		r.cacheReadTokens = append(r.cacheReadTokens, u.CacheReadTokens)
		r.cacheWriteTokens = append(r.cacheWriteTokens, u.CacheWriteTokens)
		r.reasoningTokens = append(r.reasoningTokens, u.ReasoningTokens)
		r.totalTokens = append(r.totalTokens, u.TotalTokens)
		r.costUSD = append(r.costUSD, finitePtr(c.Cost.TotalUSD))
		r.usageReported = append(r.usageReported, u.Reported)
		r.counted = append(r.counted, counted[i])
		var tags []byte
		if len(c.Tags) > 0 {
			if tags, err = enc.value(c.Tags); err != nil {
				return nil, fmt.Errorf("span %s tags: %w", s.SpanID, err)
			}
		}
		r.tags = append(r.tags, tags)
		call, err := marshalCall(c, counted[i])
		if err != nil {
			return nil, fmt.Errorf("span %s genai: %w", s.SpanID, err)
		}
		r.call = append(r.call, call)
		r.searchVec = append(r.searchVec, tsvector(store.SearchText(c)))
	}
	return r, nil
}

// marshalCall encodes c with its Counted flag as the rollup decided.
func marshalCall(c *genai.Call, counted bool) ([]byte, error) {
	cc := *c
	cc.Counted = counted
	return marshalJSON(&cc)
}

// utcEvents returns events with their times in UTC, so they read back as stored.
func utcEvents(events []genai.Event) []genai.Event {
	if events == nil {
		return nil
	}
	out := make([]genai.Event, len(events))
	for i, e := range events {
		e.Time = e.Time.UTC()
		out[i] = e
	}
	return out
}

// finitePtr drops a NaN or infinite cost, which no aggregate should see.
func finitePtr(f *float64) *float64 {
	if f == nil || *f-*f != 0 {
		return nil
	}
	return f
}

// uniqueSpans returns the spans sorted by project, trace and span id, keeping the last of
// any that repeat a key: the order rows are locked and written in, which keeps concurrent
// writers from deadlocking.
func uniqueSpans(spans []genai.Span) []genai.Span {
	out := make([]genai.Span, len(spans))
	copy(out, spans)
	for i := range out {
		s := &out[i]
		s.ProjectID, s.TraceID, s.SpanID = clean(s.ProjectID), clean(s.TraceID), clean(s.SpanID)
	}
	slices.SortStableFunc(out, compareSpanKeys)
	w := 0
	for i := range out {
		if w > 0 && compareSpanKeys(out[w-1], out[i]) == 0 {
			out[w-1] = out[i]
			continue
		}
		out[w] = out[i]
		w++
	}
	return out[:w]
}

func compareSpanKeys(a, b genai.Span) int {
	return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.TraceID, b.TraceID), cmp.Compare(a.SpanID, b.SpanID))
}
