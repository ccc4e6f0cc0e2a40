package genai

import (
	"strings"
)

// requestParam lists, for one normalized request parameter, the keys to read in each
// source (§8 "request params": Langfuse model.parameters, gen_ai.request.*,
// llm.invocation_parameters, ai.settings.*, gcp.gen_ai.operation.config.*).
type requestParam struct {
	name     string
	attrs    []string // span attributes (gen_ai.request.* and legacy names)
	json     []string // keys inside JSON parameter objects and keyed families
	isList   bool
	isString bool
}

var requestParams = []requestParam{
	{name: "temperature", attrs: []string{"gen_ai.request.temperature", "llm.temperature"}, json: []string{"temperature"}},
	{name: "max_tokens", attrs: []string{"gen_ai.request.max_tokens", "gen_ai.request.max_completion_tokens", "llm.request.max_tokens"},
		json: []string{"max_tokens", "max_completion_tokens", "max_output_tokens", "maxOutputTokens", "maxTokens", "max_new_tokens"}},
	{name: "top_p", attrs: []string{"gen_ai.request.top_p", "llm.top_p"}, json: []string{"top_p", "topP"}},
	{name: "top_k", attrs: []string{"gen_ai.request.top_k", "llm.top_k"}, json: []string{"top_k", "topK"}},
	{name: "stop", attrs: []string{"gen_ai.request.stop_sequences", "llm.chat.stop_sequences"},
		json: []string{"stop", "stop_sequences", "stopSequences"}, isList: true},
	{name: "seed", attrs: []string{"gen_ai.request.seed", "gen_ai.openai.request.seed"}, json: []string{"seed"}},
	{name: "frequency_penalty", attrs: []string{"gen_ai.request.frequency_penalty", "llm.frequency_penalty"},
		json: []string{"frequency_penalty", "frequencyPenalty"}},
	{name: "presence_penalty", attrs: []string{"gen_ai.request.presence_penalty", "llm.presence_penalty"},
		json: []string{"presence_penalty", "presencePenalty"}},
	{name: "response_format", attrs: []string{"gen_ai.output.type", "gen_ai.openai.request.response_format"},
		json: []string{"response_format", "responseFormat", "output", "response_mime_type"}, isString: true},
	{name: "choice_count", attrs: []string{"gen_ai.request.choice.count", "gen_ai.request.n"}, json: []string{"n", "candidate_count"}},
	{name: "reasoning_effort", attrs: []string{"gen_ai.request.reasoning_effort"}, json: []string{"reasoning_effort", "reasoningEffort"}, isString: true},
	{name: "max_retries", json: []string{"maxRetries"}},
	// The tier that served (and bills) an OpenAI request: flex and priority are priced apart.
	{name: "service_tier", attrs: []string{"openai.response.service_tier", "gen_ai.openai.response.service_tier",
		"openai.request.service_tier", "gen_ai.openai.request.service_tier"}, json: []string{"service_tier"}, isString: true},
}

// paramValue coerces a parameter value to its type: numbers stay numbers, lists become
// []string, the rest stay as sent (decoded when JSON).
func paramValue(p requestParam, v any) (any, bool) {
	if !present(v) {
		return nil, false
	}
	switch {
	case p.isList:
		list, ok := asStrings(v)
		return list, ok
	case p.isString:
		if dec, ok := decodeJSON(v); ok {
			return dec, true
		}
		return asString(v)
	}
	if i, ok := v.(int64); ok {
		return i, true
	}
	if f, ok := asFloat(v); ok {
		if f == float64(int64(f)) && p.name != "temperature" && p.name != "top_p" &&
			!strings.HasSuffix(p.name, "_penalty") {
			return int64(f), true
		}
		return f, true
	}
	return nil, false
}

// requestParams resolves Call.RequestParams, each parameter from its first source.
func (n *normalizer) requestParams() {
	type jsonSource struct {
		name string
		m    map[string]any
	}
	var objs []jsonSource
	for _, k := range []string{"langfuse.observation.model.parameters"} {
		if dec, ok := decodeJSON(n.a[k]); ok {
			if m, ok := dec.(map[string]any); ok {
				objs = append(objs, jsonSource{k, m})
			}
		}
	}
	attrIdx := len(objs) // gen_ai.request.* come after Langfuse's explicit parameters
	for _, k := range []string{"llm.invocation_parameters", "embedding.invocation_parameters"} {
		if dec, ok := decodeJSON(n.a[k]); ok {
			if m, ok := dec.(map[string]any); ok {
				objs = append(objs, jsonSource{k, m})
			}
		}
	}
	for _, p := range []string{"llm.invocation_parameters.", "ai.settings.", "gcp.gen_ai.operation.config."} {
		if m := n.flat.maps[p]; len(m) > 0 {
			objs = append(objs, jsonSource{strings.TrimSuffix(p, "."), m})
		}
	}
	var out map[string]any
	set := func(name string, v any, from string) {
		if out == nil {
			out = make(map[string]any, 4)
		}
		out[name] = v
		n.src("request_params."+name, from)
	}
	lookupJSON := func(p requestParam, objs []jsonSource) bool {
		for _, o := range objs {
			for _, k := range p.json {
				if v, ok := paramValue(p, o.m[k]); ok {
					set(p.name, v, o.name+"."+k)
					return true
				}
			}
		}
		return false
	}
	for _, p := range requestParams {
		if lookupJSON(p, objs[:attrIdx]) {
			continue
		}
		found := false
		for _, k := range p.attrs {
			if v, ok := paramValue(p, n.a[k]); ok {
				set(p.name, v, k)
				found = true
				break
			}
		}
		if !found {
			lookupJSON(p, objs[attrIdx:])
		}
	}
	n.c.RequestParams = out
}

// clientCost resolves the cost the client reported (§8 "client-reported cost"). It is kept
// as reported in Cost.ClientUSD; pricing is internal/cost's job.
func (n *normalizer) clientCost() {
	set := func(v float64, from string) {
		n.c.Cost.ClientUSD = &v
		n.src("cost_client_usd", from)
	}
	if v, k := n.firstFloat("lumina.cost_usd"); k != "" {
		set(v, k)
		return
	}
	if dec, ok := decodeJSON(n.a["langfuse.observation.cost_details"]); ok {
		if m, ok := dec.(map[string]any); ok {
			if t, ok := asFloat(m["total"]); ok {
				set(t, "langfuse.observation.cost_details.total")
				return
			}
			sum, found := 0.0, false
			for _, v := range m {
				if f, ok := asFloat(v); ok {
					sum, found = sum+f, true
				}
			}
			if found {
				set(sum, "langfuse.observation.cost_details (sum)")
				return
			}
		}
	}
	if v, k := n.firstFloat("llm.cost.total"); k != "" {
		set(v, k)
		return
	}
	p, pk := n.firstFloat("llm.cost.prompt")
	c, ck := n.firstFloat("llm.cost.completion")
	if pk != "" || ck != "" {
		set(p+c, "llm.cost.prompt + llm.cost.completion")
		return
	}
	if v, k := n.firstFloat("gen_ai.usage.cost", "gen_ai.cost.total_cost", "gen_ai.cost.total", "operation.cost"); k != "" {
		set(v, k)
	}
}
