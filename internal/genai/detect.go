package genai

import (
	"strings"
)

// Convention names reported in Call.Conventions, in this fixed order.
const (
	ConvOTelGenAI     = "otel_genai"
	ConvOpenInference = "openinference"
	ConvOpenLLMetry   = "openllmetry"
	ConvVercelAI      = "vercel_ai"
	ConvLangfuse      = "langfuse"
	ConvLumina        = "lumina"
	ConvPydanticAI    = "pydantic_ai"
	ConvLiteLLM       = "litellm"
	ConvSpringAI      = "spring_ai"
	ConvGoogleADK     = "google_adk"
)

var convOrder = []string{
	ConvOTelGenAI, ConvOpenInference, ConvOpenLLMetry, ConvVercelAI, ConvLangfuse, ConvLumina,
	ConvPydanticAI, ConvLiteLLM, ConvSpringAI, ConvGoogleADK,
}

// convSet is a bit set over convOrder.
type convSet uint16

// convBit maps a convention name to its bit; convOrder is fixed, so this is too.
var convBit = func() map[string]convSet {
	m := make(map[string]convSet, len(convOrder))
	for i, n := range convOrder {
		m[n] = 1 << i
	}
	return m
}()

func (c *convSet) set(name string) { *c |= convBit[name] }

// isOpenLLMetryLLMKey reports the legacy llm.* names only OpenLLMetry (and LiteLLM, which
// mirrors them) uses; every other llm.* key is OpenInference's.
func isOpenLLMetryLLMKey(k string) bool {
	switch {
	case strings.HasPrefix(k, "llm.request."), strings.HasPrefix(k, "llm.usage."),
		strings.HasPrefix(k, "llm.response."), strings.HasPrefix(k, "llm.chat."),
		k == "llm.is_streaming", k == "llm.user", k == "llm.headers", k == "llm.frequency_penalty",
		k == "llm.presence_penalty", k == "llm.top_k", k == "llm.top_p", k == "llm.temperature":
		return true
	}
	return false
}

// isOpenInferenceKey reports keys that mark OpenInference.
func isOpenInferenceKey(k string) bool {
	switch {
	case strings.HasPrefix(k, "llm."):
		return !isOpenLLMetryLLMKey(k)
	case strings.HasPrefix(k, "openinference."), k == "input.value", k == "output.value",
		strings.HasPrefix(k, "retrieval.documents."), strings.HasPrefix(k, "embedding."),
		strings.HasPrefix(k, "reranker."), k == "tag.tags":
		return true
	}
	return false
}

// note records the convention an attribute key belongs to.
func (c *convSet) note(k string) {
	switch {
	case strings.HasPrefix(k, "gen_ai."):
		c.set(ConvOTelGenAI)
		// gen_ai.usage.total_tokens is not a marker: LiteLLM, OpenLIT, Spring AI and Sentry
		// send it too.
		if strings.HasPrefix(k, "gen_ai.prompt.") || strings.HasPrefix(k, "gen_ai.completion.") ||
			k == "gen_ai.is_streaming" {
			c.set(ConvOpenLLMetry)
		}
	case isOpenInferenceKey(k):
		c.set(ConvOpenInference)
	case strings.HasPrefix(k, "traceloop."), strings.HasPrefix(k, "llm."):
		c.set(ConvOpenLLMetry)
	case strings.HasPrefix(k, "ai."):
		c.set(ConvVercelAI)
	case strings.HasPrefix(k, "langfuse."):
		c.set(ConvLangfuse)
	case strings.HasPrefix(k, "lumina."):
		c.set(ConvLumina)
	case strings.HasPrefix(k, "pydantic_ai."):
		c.set(ConvPydanticAI)
	case strings.HasPrefix(k, "spring.ai."):
		c.set(ConvSpringAI)
	case strings.HasPrefix(k, "gcp.vertex.agent."):
		c.set(ConvGoogleADK)
	}
}

// noteScope records conventions implied by the instrumentation scope.
func (c *convSet) noteScope(scope string) {
	switch {
	case scope == "ai":
		c.set(ConvVercelAI)
	case scope == "pydantic-ai":
		c.set(ConvPydanticAI)
	case strings.Contains(scope, "litellm"):
		c.set(ConvLiteLLM)
	case strings.Contains(scope, "traceloop"):
		c.set(ConvOpenLLMetry)
	case strings.Contains(scope, "openinference"):
		c.set(ConvOpenInference)
	case strings.Contains(scope, "langfuse"):
		c.set(ConvLangfuse)
	}
}

func (n *normalizer) conventions() []string {
	var out []string
	for i, name := range convOrder {
		if n.conv&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}

// Operation names Lumina normalizes to.
const (
	OpChat           = "chat"
	OpTextCompletion = "text_completion"
	OpGenerate       = "generate_content"
	OpEmbeddings     = "embeddings"
	OpExecuteTool    = "execute_tool"
	OpInvokeAgent    = "invoke_agent"
	OpCreateAgent    = "create_agent"
	OpRetrieval      = "retrieval"
	OpRerank         = "rerank"
	OpWorkflow       = "workflow"
	OpGuardrail      = "guardrail"
	OpEvaluator      = "evaluator"
)

// genAIOperations maps gen_ai.operation.name values to (type, normalized operation).
var genAIOperations = map[string][2]string{
	"chat":               {TypeLLM, OpChat},
	"text_completion":    {TypeLLM, OpTextCompletion},
	"completion":         {TypeLLM, OpTextCompletion},
	"generate_content":   {TypeLLM, OpGenerate},
	"generate":           {TypeLLM, OpGenerate},
	"embeddings":         {TypeEmbedding, OpEmbeddings},
	"embedding":          {TypeEmbedding, OpEmbeddings},
	"invoke_agent":       {TypeAgent, OpInvokeAgent},
	"create_agent":       {TypeAgent, OpCreateAgent},
	"agent_step":         {TypeAgent, "agent_step"},
	"plan":               {TypeAgent, "plan"},
	"execute_tool":       {TypeTool, OpExecuteTool},
	"retrieval":          {TypeRetrieval, OpRetrieval},
	"vector_db_retrieve": {TypeRetrieval, OpRetrieval},
	"search_memory":      {TypeRetrieval, "search_memory"},
	"rerank":             {TypeRetrieval, OpRerank},
	"invoke_workflow":    {TypeWorkflow, OpWorkflow},
	"execute_task":       {TypeWorkflow, "execute_task"},
	// Spring AI ChatClient: a framework span around the model call, never the call itself.
	"framework": {TypeWorkflow, "framework"},
}

// openInferenceKinds maps openinference.span.kind values.
var openInferenceKinds = map[string][2]string{
	"LLM":       {TypeLLM, OpChat},
	"EMBEDDING": {TypeEmbedding, OpEmbeddings},
	"TOOL":      {TypeTool, OpExecuteTool},
	"AGENT":     {TypeAgent, OpInvokeAgent},
	"RETRIEVER": {TypeRetrieval, OpRetrieval},
	"RERANKER":  {TypeRetrieval, OpRerank},
	"CHAIN":     {TypeWorkflow, OpWorkflow},
	"PROMPT":    {TypeWorkflow, OpWorkflow},
	"GUARDRAIL": {TypeOther, OpGuardrail},
	"EVALUATOR": {TypeOther, OpEvaluator},
}

// langfuseTypes maps langfuse.observation.type values; "span" and "event" decide nothing.
var langfuseTypes = map[string][2]string{
	"generation": {TypeLLM, OpChat},
	"embedding":  {TypeEmbedding, OpEmbeddings},
	"agent":      {TypeAgent, OpInvokeAgent},
	"tool":       {TypeTool, OpExecuteTool},
	"chain":      {TypeWorkflow, OpWorkflow},
	"retriever":  {TypeRetrieval, OpRetrieval},
	"guardrail":  {TypeOther, OpGuardrail},
	"evaluator":  {TypeOther, OpEvaluator},
}

var llmRequestTypes = map[string][2]string{
	"chat":       {TypeLLM, OpChat},
	"completion": {TypeLLM, OpTextCompletion},
	"embedding":  {TypeEmbedding, OpEmbeddings},
	"embeddings": {TypeEmbedding, OpEmbeddings},
	"rerank":     {TypeRetrieval, OpRerank},
}

var traceloopKinds = map[string][2]string{
	"tool":     {TypeTool, OpExecuteTool},
	"agent":    {TypeAgent, OpInvokeAgent},
	"workflow": {TypeWorkflow, OpWorkflow},
	"task":     {TypeWorkflow, "task"},
}

// classify decides the span's type and operation (conventions §9), in this order:
// explicit Langfuse type, gen_ai.operation.name, openinference.span.kind, llm.request.type,
// Vercel ai.operationId, traceloop.span.kind, tool attributes, then the model-call
// heuristic. It returns "" for spans that are not GenAI.
func (n *normalizer) classify() (string, string) {
	if v, k := n.str("langfuse.observation.type"); k != "" {
		if t, ok := langfuseTypes[strings.ToLower(v)]; ok {
			n.src("type", k)
			return t[0], t[1]
		}
	}
	if v, k := n.str("gen_ai.operation.name"); k != "" {
		op := strings.ToLower(v)
		if t, ok := genAIOperations[op]; ok {
			n.src("type", k)
			return t[0], t[1]
		}
		if strings.Contains(op, "memory") {
			n.src("type", k)
			return TypeOther, op
		}
	}
	if v, k := n.str("openinference.span.kind"); k != "" {
		if t, ok := openInferenceKinds[strings.ToUpper(v)]; ok {
			n.src("type", k)
			if t[0] == TypeLLM && len(n.flat.items["llm.prompts."]) > 0 {
				return TypeLLM, OpTextCompletion
			}
			return t[0], t[1]
		}
	}
	if v, k := n.str("llm.request.type"); k != "" {
		if t, ok := llmRequestTypes[strings.ToLower(v)]; ok {
			n.src("type", k)
			return t[0], t[1]
		}
	}
	if t, op, k := n.vercelOperation(); t != "" {
		n.src("type", k)
		return t, op
	}
	if v, k := n.str("traceloop.span.kind"); k != "" {
		if t, ok := traceloopKinds[strings.ToLower(v)]; ok {
			n.src("type", k)
			return t[0], t[1]
		}
	}
	if _, k := n.str("gen_ai.tool.name", "gen_ai.tool.call.id"); k != "" {
		n.src("type", k)
		return TypeTool, OpExecuteTool
	}
	if n.looksLikeModelCall() {
		n.src("type", "heuristic")
		if n.has("embedding.model_name", "ai.usage.tokens") || strings.Contains(strings.ToLower(n.s.Name), "embed") {
			return TypeEmbedding, OpEmbeddings
		}
		return TypeLLM, OpChat
	}
	return "", ""
}

// vercelOperation classifies Vercel AI SDK legacy spans by ai.operationId (or the
// operation.name prefix before the function id).
func (n *normalizer) vercelOperation() (string, string, string) {
	id, k := n.str("ai.operationId")
	if k == "" {
		v, k2 := n.str("operation.name")
		if k2 == "" || !strings.HasPrefix(v, "ai.") {
			return "", "", ""
		}
		id, _, _ = strings.Cut(v, " ")
		k = k2
	}
	switch {
	case strings.HasSuffix(id, ".doGenerate"), strings.HasSuffix(id, ".doStream"):
		return TypeLLM, OpChat, k
	case strings.HasSuffix(id, ".doEmbed"):
		return TypeEmbedding, OpEmbeddings, k
	case id == "ai.toolCall":
		return TypeTool, OpExecuteTool, k
	case id == "ai.rerank" || strings.HasPrefix(id, "ai.rerank."):
		return TypeRetrieval, OpRerank, k
	case id == "ai.embed" || id == "ai.embedMany":
		return TypeWorkflow, OpWorkflow, k
	case strings.HasPrefix(id, "ai."):
		// ai.generateText, ai.streamText, ai.generateObject, ai.streamObject: the root of
		// one or more steps, carrying their aggregate usage.
		return TypeAgent, OpInvokeAgent, k
	}
	return "", "", ""
}

// modelKeys are the attributes naming a model, for the heuristic.
var modelKeys = []string{
	"gen_ai.request.model", "gen_ai.response.model", "llm.model_name", "ai.model.id",
	"langfuse.observation.model.name", "embedding.model_name",
}

// looksLikeModelCall is the heuristic of §9.3: a model attribute plus a token count,
// messages or a provider. Spring AI's framework spans never get here (they carry an explicit
// operation).
func (n *normalizer) looksLikeModelCall() bool {
	if !n.has(modelKeys...) {
		return false
	}
	if n.has("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.usage.prompt_tokens",
		"gen_ai.usage.completion_tokens", "llm.token_count.prompt", "llm.token_count.completion",
		"ai.usage.inputTokens", "ai.usage.promptTokens", "ai.usage.tokens", "gen_ai.usage.total_tokens",
		"langfuse.observation.usage_details") {
		return true
	}
	if n.has("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.prompt", "gen_ai.completion",
		"ai.prompt.messages", "ai.response.text") || len(n.flat.items) > 0 {
		return true
	}
	if n.event("gen_ai.content.prompt", "gen_ai.content.completion", "gen_ai.user.message", "gen_ai.choice") != nil {
		return true
	}
	if v, k := n.str("gen_ai.provider.name", "gen_ai.system", "llm.system", "llm.provider"); k != "" {
		return !ignoredProvider(v)
	}
	return false
}
