package genai

import (
	"strings"
	"time"
)

// details resolves everything beyond models, usage and messages.
func (n *normalizer) details() {
	n.finishReasons()
	n.errors()
	n.identity()
	n.agentAndTool()
	n.retrieval()
	n.streaming()
	n.requestParams()
	n.clientCost()
}

// finishReasonAliases normalizes finish reasons across producers (§8, §10.8).
var finishReasonAliases = map[string]string{
	"tool_calls": "tool_call", "tool-calls": "tool_call", "tool_use": "tool_call", "function_call": "tool_call",
	"tool_call": "tool_call", "end_turn": "stop", "stop": "stop", "stop_sequence": "stop", "eos": "stop",
	"complete": "stop", "finish_reason_stop": "stop",
	"max_tokens": "length", "length": "length", "max_output_tokens": "length", "model_length": "length",
	"content-filter": "content_filter", "content_filter": "content_filter", "safety": "content_filter",
	"recitation": "content_filter", "blocklist": "content_filter", "prohibited_content": "content_filter",
	"spii": "content_filter", "refusal": "content_filter", "guardrail_intervened": "content_filter",
	"error": "error", "other": "other", "unknown": "other", "pause_turn": "pause_turn",
}

// NormalizeFinishReason maps a producer's finish reason to Lumina's vocabulary: stop,
// length, tool_call, content_filter, error, other, or the lower-cased value when unknown.
func NormalizeFinishReason(r string) string {
	k := strings.ToLower(strings.TrimSpace(r))
	if i := strings.LastIndexByte(k, '.'); i >= 0 { // "FinishReason.STOP" (enum names)
		k = k[i+1:]
	}
	if a, ok := finishReasonAliases[k]; ok {
		return a
	}
	return k
}

func (n *normalizer) finishReasons() {
	c := n.c
	set := func(list []string, from string) bool {
		out := make([]string, 0, len(list))
		for _, r := range list {
			if r = NormalizeFinishReason(r); r != "" {
				out = append(out, r)
			}
		}
		if len(out) == 0 {
			return false
		}
		c.FinishReasons = out
		n.src("finish_reasons", from)
		return true
	}
	if list, ok := asStrings(n.a["gen_ai.response.finish_reasons"]); ok && set(list, "gen_ai.response.finish_reasons") {
		return
	}
	if n.c.Sources["output_messages"] == "gen_ai.output.messages" {
		var list []string
		for _, m := range c.OutputMessages {
			if m.FinishReason != "" {
				list = append(list, m.FinishReason)
			}
		}
		if set(list, "gen_ai.output.messages.finish_reason") {
			return
		}
	}
	for _, k := range []string{"gen_ai.response.finish_reason", "llm.response.finish_reason", "llm.response.stop_reason"} {
		if list, ok := asStrings(n.a[k]); ok && set(list, k) {
			return
		}
	}
	var flat []string
	for _, it := range n.flat.list("gen_ai.completion.") {
		if r, ok := asString(it.Fields["finish_reason"]); ok {
			flat = append(flat, r)
		}
	}
	if set(flat, "gen_ai.completion.N.finish_reason") {
		return
	}
	for _, k := range []string{"llm.finish_reason", "ai.response.finishReason", "ai.result.finishReason"} {
		if list, ok := asStrings(n.a[k]); ok && set(list, k) {
			return
		}
	}
	var list []string
	for _, m := range c.OutputMessages { // gen_ai.choice events, response bodies…
		if m.FinishReason != "" {
			list = append(list, m.FinishReason)
		}
	}
	set(list, "output_messages.finish_reason")
}

// errors resolves ErrorType and ErrorMessage (§8 "error").
func (n *normalizer) errors() {
	c, s := n.c, n.s
	if s.StatusCode == StatusError {
		c.ErrorType = "error"
		n.src("error", "status")
		if s.StatusMessage != "" {
			c.ErrorMessage = s.StatusMessage
		}
	}
	if t, k := n.str("error.type"); k != "" {
		c.ErrorType = t
		n.src("error_type", k)
	}
	if e := n.event("exception"); e != nil {
		if t, ok := asString(e.Attributes["exception.type"]); ok && (c.ErrorType == "" || c.ErrorType == "error") {
			c.ErrorType = t
			n.src("error_type", "event:exception")
		}
		if m, ok := asString(e.Attributes["exception.message"]); ok && c.ErrorMessage == "" {
			c.ErrorMessage = m
		}
	}
	if lvl, _ := n.str("langfuse.observation.level"); strings.EqualFold(lvl, "ERROR") {
		if c.ErrorType == "" {
			c.ErrorType = "error"
			n.src("error_type", "langfuse.observation.level")
		}
		if m, _ := n.str("langfuse.observation.status_message"); m != "" && c.ErrorMessage == "" {
			c.ErrorMessage = m
		}
	}
	if c.ErrorMessage == "" && c.ErrorType != "" {
		c.ErrorMessage, _ = n.str("error.message", "exception.message")
	}
}

// identity resolves session, user, environment, tags and metadata.
func (n *normalizer) identity() {
	c := n.c
	md := func(p, k string) (string, bool) { return asString(n.flat.maps[p][k]) }
	c.UserID = n.firstStr("user_id", "lumina.user_id", "langfuse.user.id", "user.id",
		"traceloop.association.properties.user_id", "ai.telemetry.metadata.userId",
		"langfuse.trace.metadata.langfuse_user_id", "langfuse.observation.metadata.langfuse_user_id",
		"enduser.id", "gen_ai.user", "llm.user")
	c.SessionID = n.firstStr("session_id", "lumina.session_id", "langfuse.session.id", "session.id",
		"gen_ai.conversation.id", "traceloop.association.properties.session_id",
		"ai.telemetry.metadata.sessionId", "langfuse.trace.metadata.langfuse_session_id",
		"langfuse.observation.metadata.langfuse_session_id")
	c.Environment = n.firstStr("environment", "lumina.environment", "langfuse.environment",
		"deployment.environment.name", "deployment.environment")
	if c.Environment == "" {
		for _, k := range []string{"deployment.environment.name", "deployment.environment", "langfuse.environment"} {
			if v, ok := n.resourceStr(k); ok {
				c.Environment = v
				n.src("environment", "resource."+k)
				break
			}
		}
	}
	for _, k := range []string{"lumina.tags", "langfuse.trace.tags", "tag.tags", "ai.telemetry.metadata.tags"} {
		if tags, ok := asStrings(n.a[k]); ok {
			c.Tags = tags
			n.src("tags", k)
			break
		}
	}
	var meta map[string]string
	put := func(k, v string) {
		if meta == nil {
			meta = make(map[string]string, 4)
		}
		if _, dup := meta[k]; !dup && k != "" {
			meta[k] = v
		}
	}
	for _, k := range []string{"lumina.customer_id", "lumina.endpoint", "lumina.response_hash", "lumina.service_name"} {
		if v, ok := asString(n.a[k]); ok {
			put(strings.TrimPrefix(k, "lumina."), v)
		}
	}
	for _, k := range []string{"metadata", "langfuse.observation.metadata", "langfuse.trace.metadata"} {
		if dec, ok := decodeJSON(n.a[k]); ok {
			if m, ok := dec.(map[string]any); ok {
				for mk, mv := range m {
					put(mk, jsonText(mv))
				}
			}
		}
	}
	for _, p := range []string{"langfuse.observation.metadata.", "langfuse.trace.metadata.", "ai.telemetry.metadata.",
		"traceloop.association.properties.", "metadata."} {
		for k := range n.flat.maps[p] {
			if v, ok := md(p, k); ok {
				put(k, v)
			}
		}
	}
	if len(meta) > 0 {
		c.Metadata = meta
	}
}

// agentAndTool resolves the agent name and, on tool spans, the tool execution.
func (n *normalizer) agentAndTool() {
	c := n.c
	kind, _ := n.str("traceloop.span.kind")
	keys := []string{"gen_ai.agent.name", "agent.name"}
	if strings.EqualFold(kind, "agent") {
		keys = append(keys, "traceloop.entity.name")
	}
	keys = append(keys, "agent_name", "ai.telemetry.functionId")
	c.AgentName = n.firstStr("agent_name", keys...)
	if c.Type != TypeTool {
		return
	}
	t := &Tool{}
	nameKeys := []string{"gen_ai.tool.name", "tool.name", "ai.toolCall.name"}
	if strings.EqualFold(kind, "tool") {
		nameKeys = append(nameKeys, "traceloop.entity.name")
	}
	t.Name = n.firstStr("tool.name", nameKeys...)
	t.CallID = n.firstStr("tool.call_id", "gen_ai.tool.call.id", "tool.id", "ai.toolCall.id")
	t.Arguments = n.firstStr("tool.arguments", "gen_ai.tool.call.arguments", "input.value", "ai.toolCall.args",
		"traceloop.entity.input", "tool_arguments")
	t.Result = n.firstStr("tool.result", "gen_ai.tool.call.result", "output.value", "ai.toolCall.result",
		"traceloop.entity.output", "tool_response")
	if t.Name == "" {
		// "execute_tool get_weather", "running tool get_weather"
		for _, p := range []string{"execute_tool ", "running tool "} {
			if rest, ok := strings.CutPrefix(n.s.Name, p); ok {
				t.Name = strings.TrimSpace(rest)
				n.src("tool.name", "span name")
			}
		}
	}
	c.Tool = t
}

// retrieval resolves the query, data source and documents of retrieval spans.
func (n *normalizer) retrieval() {
	c := n.c
	if c.Type != TypeRetrieval && !n.has("gen_ai.retrieval.documents") && len(n.flat.items["retrieval.documents."]) == 0 {
		return
	}
	qKeys := []string{"gen_ai.retrieval.query.text"}
	if c.Type == TypeRetrieval {
		qKeys = append(qKeys, "input.value")
	}
	qKeys = append(qKeys, "reranker.query", "db.query.text")
	c.RetrievalQuery = n.firstStr("retrieval_query", qKeys...)
	c.DataSource = n.firstStr("data_source", "gen_ai.data_source.id", "db.collection.name", "db.system")
	if dec, ok := decodeJSON(n.a["gen_ai.retrieval.documents"]); ok {
		if list, ok := dec.([]any); ok {
			for _, d := range list {
				if dm, ok := d.(map[string]any); ok {
					c.RetrievalDocuments = append(c.RetrievalDocuments, documentFrom(dm))
				}
			}
			n.src("retrieval_documents", "gen_ai.retrieval.documents")
			return
		}
	}
	for _, p := range []string{"retrieval.documents.", "reranker.output_documents."} {
		items := n.flat.list(p)
		if len(items) == 0 {
			continue
		}
		for _, it := range items {
			d := map[string]any{}
			for k, v := range it.Fields {
				d[strings.TrimPrefix(k, "document.")] = v
			}
			c.RetrievalDocuments = append(c.RetrievalDocuments, documentFrom(d))
		}
		n.src("retrieval_documents", p+"N")
		return
	}
	for _, e := range n.s.Events {
		if e.Name != "db.query.result" {
			continue
		}
		d := map[string]any{}
		for k, v := range e.Attributes {
			d[strings.TrimPrefix(k, "db.query.result.")] = v
		}
		if _, ok := d["content"]; !ok {
			d["content"] = d["document"]
		}
		c.RetrievalDocuments = append(c.RetrievalDocuments, documentFrom(d))
		n.src("retrieval_documents", "event:db.query.result")
	}
}

func documentFrom(m map[string]any) Document {
	d := Document{}
	d.ID, _ = asString(m["id"])
	for _, k := range []string{"content", "text", "page_content"} {
		if v, ok := m[k]; ok && present(v) {
			d.Content = jsonText(v)
			break
		}
	}
	if f, ok := asFloat(m["score"]); ok {
		d.Score = &f
	} else if f, ok := asFloat(m["distance"]); ok {
		d.Score = &f
	}
	if dec, ok := decodeJSON(m["metadata"]); ok {
		d.Metadata, _ = dec.(map[string]any)
	}
	return d
}

// streaming resolves Streaming and TimeToFirstToken (in milliseconds).
func (n *normalizer) streaming() {
	c := n.c
	if b, k := n.firstBool("gen_ai.request.stream", "gen_ai.is_streaming", "llm.is_streaming", "lumina.streaming"); k != "" {
		c.Streaming = b
		n.src("streaming", k)
	} else if id, k := n.str("ai.operationId"); k != "" && strings.Contains(strings.ToLower(id), "stream") {
		c.Streaming = true
		n.src("streaming", k)
	}
	setTTFT := func(ms float64, from string) {
		if ms < 0 {
			return
		}
		c.TimeToFirstToken = &ms
		n.src("time_to_first_token_ms", from)
	}
	if v, k := n.firstFloat("gen_ai.response.time_to_first_chunk"); k != "" {
		setTTFT(v*1000, k)
	} else if v, k := n.firstFloat("ai.response.msToFirstChunk", "ai.stream.msToFirstChunk"); k != "" {
		setTTFT(v, k)
	} else if ts, k := n.str("langfuse.observation.completion_start_time"); k != "" {
		if dec, ok := decodeJSON(ts); ok { // sometimes double-encoded
			if s, ok := dec.(string); ok {
				ts = s
			}
		}
		ts = strings.Trim(ts, `"`)
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil && !n.s.StartTime.IsZero() {
			setTTFT(float64(t.Sub(n.s.StartTime))/float64(time.Millisecond), k)
		}
	} else if v, k := n.firstFloat("gen_ai.server.time_to_first_token"); k != "" {
		setTTFT(v*1000, k)
	} else if e := n.event("ai.stream.firstChunk"); e != nil && !n.s.StartTime.IsZero() {
		if ms, ok := asFloat(e.Attributes["ai.response.msToFirstChunk"]); ok {
			setTTFT(ms, "event:ai.stream.firstChunk")
		} else if !e.Time.IsZero() {
			setTTFT(float64(e.Time.Sub(n.s.StartTime))/float64(time.Millisecond), "event:ai.stream.firstChunk")
		}
	}
	if c.TimeToFirstToken != nil && c.Sources["streaming"] == "" {
		c.Streaming = true
		n.src("streaming", c.Sources["time_to_first_token_ms"])
	}
}
