package genai

import (
	"strings"
)

// providerAliases maps every provider spelling seen in the wild (gen_ai.system values across
// versions, OpenLLMetry's capitalized names, OpenInference llm.system / llm.provider, Vercel
// provider ids) to the OTel gen_ai.provider.name value.
var providerAliases = map[string]string{
	"openai": "openai", "open_ai": "openai", "openai.chat": "openai", "openai.responses": "openai",
	"openai.completion": "openai", "openai.embedding": "openai",
	"anthropic": "anthropic", "anthropic.messages": "anthropic", "claude": "anthropic",
	"aws.bedrock": "aws.bedrock", "aws_bedrock": "aws.bedrock", "bedrock": "aws.bedrock",
	"amazon-bedrock": "aws.bedrock", "amazon_bedrock": "aws.bedrock", "aws": "aws.bedrock",
	"amazon": "aws.bedrock", "awsbedrock": "aws.bedrock",
	"azure.ai.openai": "azure.ai.openai", "az.ai.openai": "azure.ai.openai", "azure": "azure.ai.openai",
	"azure-openai": "azure.ai.openai", "azure_openai": "azure.ai.openai", "azureopenai": "azure.ai.openai",
	"azure.ai.inference": "azure.ai.inference", "az.ai.inference": "azure.ai.inference",
	"azure_ai": "azure.ai.inference", "azure-ai-inference": "azure.ai.inference",
	"cohere": "cohere", "deepseek": "deepseek",
	"gcp.gemini": "gcp.gemini", "gemini": "gcp.gemini", "google": "gcp.gemini",
	"google.generative-ai": "gcp.gemini", "google-generative-ai": "gcp.gemini",
	"google_genai": "gcp.gemini", "google_ai_studio": "gcp.gemini", "googleai": "gcp.gemini",
	"gcp.vertex_ai": "gcp.vertex_ai", "vertex_ai": "gcp.vertex_ai", "vertexai": "gcp.vertex_ai",
	"vertex": "gcp.vertex_ai", "google.vertex": "gcp.vertex_ai", "vertex_ai_beta": "gcp.vertex_ai",
	"gcp.gen_ai": "gcp.gen_ai",
	"groq":       "groq", "ibm.watsonx.ai": "ibm.watsonx.ai", "watsonx": "ibm.watsonx.ai", "ibm": "ibm.watsonx.ai",
	"mistral_ai": "mistral_ai", "mistralai": "mistral_ai", "mistral": "mistral_ai",
	"perplexity": "perplexity", "x_ai": "x_ai", "xai": "x_ai", "grok": "x_ai",
	"moonshot_ai": "moonshot_ai", "moonshot": "moonshot_ai", "moonshotai": "moonshot_ai",
	"together_ai": "together_ai", "together": "together_ai", "togetherai": "together_ai",
	"fireworks": "fireworks", "fireworks_ai": "fireworks", "ollama": "ollama",
	"openrouter": "openrouter", "hugging_face": "hugging_face", "huggingface": "hugging_face",
	"aleph_alpha": "aleph_alpha", "alephalpha": "aleph_alpha", "replicate": "replicate",
	"cerebras": "cerebras", "ai21": "ai21", "meta": "meta", "voyageai": "voyage", "voyage": "voyage",
}

// ignoredProviders are frameworks that producers put where a provider belongs.
var ignoredProviders = map[string]bool{
	"spring_ai": true, "langchain": true, "crewai": true, "llama_index": true, "llamaindex": true,
	"unknown": true, "custom": true, "haystack": true, "semantic_kernel": true,
	"gcp.vertex.agent": true, // Google ADK's framework marker, not the serving API
}

func ignoredProvider(v string) bool { return ignoredProviders[strings.ToLower(strings.TrimSpace(v))] }

// NormalizeProvider maps a provider spelling to its canonical OTel name
// (gen_ai.provider.name values, plus lower-case ids for providers the spec does not list).
// It returns "" for framework names that are not providers (spring_ai, langchain…).
func NormalizeProvider(v string) string {
	p := strings.ToLower(strings.TrimSpace(v))
	if p == "" || ignoredProviders[p] {
		return ""
	}
	if canon, ok := providerAliases[p]; ok {
		return canon
	}
	// Vercel provider ids: "<provider>.<api>" (openai.chat, google.vertex.chat,
	// amazon-bedrock.chat, vertex.anthropic.messages).
	switch {
	case strings.HasPrefix(p, "google.vertex"), strings.HasPrefix(p, "vertex."):
		return "gcp.vertex_ai"
	case strings.HasPrefix(p, "google.generative-ai"), strings.HasPrefix(p, "google."):
		return "gcp.gemini"
	case strings.HasPrefix(p, "azure-openai"), strings.HasPrefix(p, "azure."):
		return "azure.ai.openai"
	}
	if head, _, ok := strings.Cut(p, "."); ok {
		if canon, ok := providerAliases[head]; ok {
			return canon
		}
	}
	return p
}

// hostProviders maps API hosts to the provider actually serving them; used when the claimed
// provider is "openai" (or missing) but the request went to an OpenAI-compatible endpoint.
var hostProviders = []struct{ suffix, provider string }{
	{"api.openai.com", "openai"},
	{"openai.azure.com", "azure.ai.openai"},
	{"services.ai.azure.com", "azure.ai.inference"},
	{"models.ai.azure.com", "azure.ai.inference"},
	{"inference.ai.azure.com", "azure.ai.inference"},
	{"openrouter.ai", "openrouter"},
	{"api.groq.com", "groq"},
	{"api.together.xyz", "together_ai"},
	{"api.together.ai", "together_ai"},
	{"api.fireworks.ai", "fireworks"},
	{"api.deepseek.com", "deepseek"},
	{"api.mistral.ai", "mistral_ai"},
	{"api.x.ai", "x_ai"},
	{"api.perplexity.ai", "perplexity"},
	{"api.anthropic.com", "anthropic"},
	{"api.cohere.com", "cohere"},
	{"api.cohere.ai", "cohere"},
	{"api.moonshot.ai", "moonshot_ai"},
	{"api.moonshot.cn", "moonshot_ai"},
	{"api.cerebras.ai", "cerebras"},
	{"generativelanguage.googleapis.com", "gcp.gemini"},
	{"aiplatform.googleapis.com", "gcp.vertex_ai"},
	{"amazonaws.com", "aws.bedrock"},
}

// providerFromHost infers the provider from server.address; "" when the host is unknown
// (self-hosted servers, localhost).
func providerFromHost(host string) string {
	h := strings.ToLower(strings.TrimSpace(host))
	if h == "" {
		return ""
	}
	if i := strings.Index(h, "://"); i >= 0 {
		h = h[i+3:]
	}
	h, _, _ = strings.Cut(h, "/")
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	for _, hp := range hostProviders {
		if h == hp.suffix || strings.HasSuffix(h, "."+hp.suffix) || strings.HasSuffix(h, "-"+hp.suffix) {
			if hp.provider == "aws.bedrock" && !strings.Contains(h, "bedrock") {
				continue
			}
			return hp.provider
		}
	}
	return ""
}

// modelPrefixes infer a provider from a model name when nothing else names one.
var modelPrefixes = []struct{ prefix, provider string }{
	{"gpt-", "openai"}, {"o1", "openai"}, {"o3", "openai"}, {"o4", "openai"}, {"chatgpt", "openai"},
	{"text-embedding-", "openai"}, {"davinci", "openai"}, {"dall-e", "openai"}, {"whisper", "openai"},
	{"claude", "anthropic"}, {"gemini", "gcp.gemini"}, {"text-embedding-004", "gcp.gemini"},
	{"mistral", "mistral_ai"}, {"mixtral", "mistral_ai"}, {"codestral", "mistral_ai"},
	{"command", "cohere"}, {"embed-english", "cohere"}, {"embed-multilingual", "cohere"},
	{"grok", "x_ai"}, {"deepseek", "deepseek"}, {"sonar", "perplexity"}, {"kimi", "moonshot_ai"},
	{"anthropic.", "aws.bedrock"}, {"amazon.", "aws.bedrock"}, {"meta.llama", "aws.bedrock"},
	{"us.anthropic.", "aws.bedrock"}, {"eu.anthropic.", "aws.bedrock"},
}

// providerFromModel infers a provider from a model id: "provider/model" prefixes first,
// then well-known model families.
func providerFromModel(model string) string {
	m := strings.ToLower(strings.TrimSpace(model))
	if m == "" {
		return ""
	}
	if head, _, ok := strings.Cut(m, "/"); ok {
		if head == "publishers" || head == "projects" {
			return "gcp.vertex_ai"
		}
		if p, ok := providerAliases[head]; ok {
			return p
		}
	}
	if strings.HasPrefix(m, "arn:aws:bedrock") {
		return "aws.bedrock"
	}
	for _, mp := range modelPrefixes {
		if strings.HasPrefix(m, mp.prefix) {
			return mp.provider
		}
	}
	return ""
}

// provider resolves Call.Provider and Call.ServerAddress (§8 "provider", §10.9).
func (n *normalizer) provider() {
	c := n.c
	c.ServerAddress, _ = n.str("server.address")
	if c.ServerAddress == "" {
		if u, _ := n.str("url.full", "http.url"); u != "" {
			c.ServerAddress = u
		}
	}
	for _, k := range []string{"gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system", "ai.model.provider"} {
		v, ok := asString(n.a[k])
		if !ok {
			continue
		}
		if p := NormalizeProvider(v); p != "" {
			c.Provider = p
			n.src("provider", k)
			break
		}
	}
	// An "openai" claim over a non-OpenAI host is an OpenAI-compatible API: the host says who
	// really served it (Azure, OpenRouter, Groq…). Unknown hosts keep the claim.
	if c.Provider == "" || c.Provider == "openai" {
		if p := providerFromHost(c.ServerAddress); p != "" && p != c.Provider {
			c.Provider = p
			n.src("provider", "server.address")
		}
	}
}

// providerFallback infers the provider from the model once models are known.
func (n *normalizer) providerFallback() {
	if n.c.Provider != "" {
		return
	}
	if p := providerFromModel(n.c.Model()); p != "" {
		n.c.Provider = p
		n.src("provider", "model")
	}
}

// models resolves the request and response models, and the response id (§8).
func (n *normalizer) models() {
	c := n.c
	c.RequestModel = n.firstStr("request_model", "gen_ai.request.model", "llm.request.model_name",
		"ai.model.id", "embedding.model_name", "llm.model_name", "model", "lumina.model")
	c.ResponseModel = n.firstStr("response_model", "langfuse.observation.model.name", "gen_ai.response.model",
		"llm.response.model_name", "ai.response.model", "llm.model_name")
	if c.ResponseModel == "" && c.RequestModel != "" {
		c.ResponseModel = c.RequestModel
		n.src("response_model", n.c.Sources["request_model"])
	}
	if c.RequestModel == "" && c.ResponseModel != "" {
		c.RequestModel = c.ResponseModel
		n.src("request_model", n.c.Sources["response_model"])
	}
	c.ResponseID = n.firstStr("response_id", "gen_ai.response.id", "ai.response.id", "gen_ai.request.id")
	n.providerFallback()
}
