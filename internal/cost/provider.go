package cost

import "strings"

// Canonical provider names: the OTel gen_ai.provider.name values where one exists.
const (
	ProviderOpenAI         = "openai"
	ProviderAzureOpenAI    = "azure.ai.openai"
	ProviderAzureInference = "azure.ai.inference"
	ProviderAnthropic      = "anthropic"
	ProviderBedrock        = "aws.bedrock"
	ProviderGemini         = "gcp.gemini"
	ProviderVertex         = "gcp.vertex_ai"
	ProviderGoogleGenAI    = "gcp.gen_ai"
	ProviderXAI            = "x_ai"
	ProviderMistral        = "mistral_ai"
	ProviderCohere         = "cohere"
	ProviderDeepSeek       = "deepseek"
	ProviderGroq           = "groq"
	ProviderTogether       = "together_ai"
	ProviderOpenRouter     = "openrouter"
	ProviderFireworks      = "fireworks"
	ProviderMoonshot       = "moonshot_ai"
	ProviderWatsonx        = "ibm.watsonx.ai"
)

// providerAliases maps the spellings producers use (deprecated gen_ai.system values,
// OpenInference llm.provider, Vercel ai.model.provider, LiteLLM route names) to the
// canonical name. It is read-only after package initialization.
var providerAliases = map[string]string{
	"openai": ProviderOpenAI, "openai.chat": ProviderOpenAI, "openai.responses": ProviderOpenAI,
	"openai.completion": ProviderOpenAI, "openai.embedding": ProviderOpenAI, "text-completion-openai": ProviderOpenAI,

	"azure": ProviderAzureOpenAI, "azure.ai.openai": ProviderAzureOpenAI, "az.ai.openai": ProviderAzureOpenAI,
	"azure_openai": ProviderAzureOpenAI, "azure-openai": ProviderAzureOpenAI, "azureopenai": ProviderAzureOpenAI,
	"azure.chat": ProviderAzureOpenAI, "azure.responses": ProviderAzureOpenAI, "azure.completion": ProviderAzureOpenAI,
	"azure.ai.inference": ProviderAzureInference, "az.ai.inference": ProviderAzureInference, "azure_ai": ProviderAzureInference,

	"anthropic": ProviderAnthropic, "anthropic.messages": ProviderAnthropic,

	"aws.bedrock": ProviderBedrock, "bedrock": ProviderBedrock, "aws": ProviderBedrock, "amazon": ProviderBedrock,
	"amazon-bedrock": ProviderBedrock, "amazon_bedrock": ProviderBedrock, "amazon-bedrock.chat": ProviderBedrock,
	"bedrock_converse": ProviderBedrock, "bedrock-converse": ProviderBedrock, "aws_bedrock": ProviderBedrock,

	"gcp.gemini": ProviderGemini, "gemini": ProviderGemini, "google": ProviderGemini, "googleai": ProviderGemini,
	"google_ai": ProviderGemini, "google-ai": ProviderGemini, "google_genai": ProviderGemini, "google-genai": ProviderGemini,
	"google.generative-ai": ProviderGemini, "google.generativeai": ProviderGemini, "google-ai-studio": ProviderGemini,

	"gcp.vertex_ai": ProviderVertex, "vertex_ai": ProviderVertex, "vertexai": ProviderVertex, "vertex": ProviderVertex,
	"google.vertex": ProviderVertex, "google.vertex.chat": ProviderVertex, "google-vertex": ProviderVertex,
	"vertex_ai_beta": ProviderVertex, "google_vertexai": ProviderVertex,
	"gcp.gen_ai": ProviderGoogleGenAI,

	"x_ai": ProviderXAI, "xai": ProviderXAI, "x-ai": ProviderXAI, "grok": ProviderXAI, "xai.chat": ProviderXAI,
	"mistral_ai": ProviderMistral, "mistral": ProviderMistral, "mistralai": ProviderMistral, "mistral-ai": ProviderMistral,
	"mistral.chat": ProviderMistral, "codestral": ProviderMistral,
	"cohere": ProviderCohere, "cohere_chat": ProviderCohere, "cohere.chat": ProviderCohere,
	"deepseek": ProviderDeepSeek, "deepseek.chat": ProviderDeepSeek,
	"groq": ProviderGroq, "groq.chat": ProviderGroq,
	"together_ai": ProviderTogether, "together": ProviderTogether, "togetherai": ProviderTogether,
	"together-ai": ProviderTogether, "togetherai.chat": ProviderTogether,
	"openrouter": ProviderOpenRouter,
	"fireworks":  ProviderFireworks, "fireworks_ai": ProviderFireworks, "fireworks-ai": ProviderFireworks,
	"moonshot_ai": ProviderMoonshot, "moonshot": ProviderMoonshot, "moonshotai": ProviderMoonshot,
	"ibm.watsonx.ai": ProviderWatsonx, "watsonx": ProviderWatsonx,
}

// NormalizeProvider returns the canonical name for a provider spelling ("Anthropic",
// "az.ai.openai", "vertex_ai", "openai.chat"…). Unknown names come back lower-cased and
// trimmed, so they still match custom prices set under the same name.
func NormalizeProvider(p string) string {
	p = strings.ToLower(strings.TrimSpace(p))
	if c, ok := providerAliases[p]; ok {
		return c
	}
	// Vercel AI SDK style "<provider>.<api>": keep the provider part.
	if i := strings.IndexByte(p, '.'); i > 0 {
		if c, ok := providerAliases[p[:i]]; ok && !strings.Contains(p[:i], "aws") {
			return c
		}
	}
	return p
}

// providerFallbacks lists, for a provider, the providers whose prices apply when it has
// none of its own for a model: Azure OpenAI bills OpenAI's list prices, Vertex and AI
// Studio share Gemini prices.
func providerFallbacks(p string) []string {
	switch p {
	case ProviderAzureOpenAI:
		return []string{ProviderOpenAI}
	case ProviderAzureInference:
		return []string{ProviderAzureOpenAI, ProviderOpenAI}
	case ProviderVertex:
		return []string{ProviderGemini}
	case ProviderGemini:
		return []string{ProviderVertex}
	case ProviderGoogleGenAI:
		return []string{ProviderGemini, ProviderVertex}
	}
	return nil
}

// vendorOf names the first-party provider of a bare model name, or "" when the name does
// not say (Llama, Qwen… are served by many providers at many prices).
func vendorOf(model string) string {
	switch {
	case strings.HasPrefix(model, "claude"):
		return ProviderAnthropic
	case strings.HasPrefix(model, "gpt-"), strings.HasPrefix(model, "chatgpt-"),
		strings.HasPrefix(model, "text-embedding-3"), strings.HasPrefix(model, "text-embedding-ada"),
		strings.HasPrefix(model, "davinci"), strings.HasPrefix(model, "babbage"),
		strings.HasPrefix(model, "codex-"), strings.HasPrefix(model, "omni-moderation"),
		len(model) >= 2 && model[0] == 'o' && model[1] >= '1' && model[1] <= '9':
		return ProviderOpenAI
	case strings.HasPrefix(model, "gemini"), strings.HasPrefix(model, "gemma"),
		strings.HasPrefix(model, "text-embedding-00"), strings.HasPrefix(model, "text-multilingual-embedding"):
		return ProviderGemini
	case strings.HasPrefix(model, "grok"):
		return ProviderXAI
	case strings.HasPrefix(model, "deepseek"):
		return ProviderDeepSeek
	case strings.HasPrefix(model, "mistral"), strings.HasPrefix(model, "codestral"),
		strings.HasPrefix(model, "pixtral"), strings.HasPrefix(model, "ministral"),
		strings.HasPrefix(model, "magistral"), strings.HasPrefix(model, "devstral"),
		strings.HasPrefix(model, "open-mistral"), strings.HasPrefix(model, "open-mixtral"):
		return ProviderMistral
	case strings.HasPrefix(model, "command"), strings.HasPrefix(model, "embed-english"),
		strings.HasPrefix(model, "embed-multilingual"):
		return ProviderCohere
	case strings.HasPrefix(model, "kimi"), strings.HasPrefix(model, "moonshot"):
		return ProviderMoonshot
	}
	return ""
}

// bedrockVendors are the model vendors that appear in Bedrock model ids
// ("anthropic.claude-…-v1:0") and the provider whose list price applies to each.
var bedrockVendors = map[string]string{
	"anthropic": ProviderAnthropic, "meta": "", "amazon": "", "mistral": ProviderMistral,
	"cohere": ProviderCohere, "ai21": "", "deepseek": ProviderDeepSeek, "openai": ProviderOpenAI,
	"qwen": "", "writer": "", "google": "", "nvidia": "", "minimax": "", "moonshot": ProviderMoonshot,
	"moonshotai": ProviderMoonshot, "twelvelabs": "", "stability": "", "zai": "",
}
