package lumina

// Attribute keys written by the SDK: the OpenTelemetry GenAI semantic conventions v1.41 (the
// last release that defines them in the main repository) and Lumina's extras. They are our own
// constants because semconv v1.42+ removed the gen_ai keys.
const (
	keyOperation        = "gen_ai.operation.name"
	keyProvider         = "gen_ai.provider.name"
	keyRequestModel     = "gen_ai.request.model"
	keyMaxTokens        = "gen_ai.request.max_tokens"
	keyTemperature      = "gen_ai.request.temperature"
	keyTopP             = "gen_ai.request.top_p"
	keyTopK             = "gen_ai.request.top_k"
	keyFrequencyPenalty = "gen_ai.request.frequency_penalty"
	keyPresencePenalty  = "gen_ai.request.presence_penalty"
	keyStopSequences    = "gen_ai.request.stop_sequences"
	keySeed             = "gen_ai.request.seed"
	keyChoiceCount      = "gen_ai.request.choice.count"
	keyStream           = "gen_ai.request.stream"
	keyEncodingFormats  = "gen_ai.request.encoding_formats"
	keyOutputType       = "gen_ai.output.type"
	keyDimensions       = "gen_ai.embeddings.dimension.count"
	keyResponseID       = "gen_ai.response.id"
	keyResponseModel    = "gen_ai.response.model"
	keyFinishReasons    = "gen_ai.response.finish_reasons"
	keyTimeToFirstChunk = "gen_ai.response.time_to_first_chunk"
	keyInputTokens      = "gen_ai.usage.input_tokens"
	keyOutputTokens     = "gen_ai.usage.output_tokens"
	keyCacheReadTokens  = "gen_ai.usage.cache_read.input_tokens"
	keyCacheWriteTokens = "gen_ai.usage.cache_creation.input_tokens"
	keyReasoningTokens  = "gen_ai.usage.reasoning.output_tokens"
	keyInputMessages    = "gen_ai.input.messages"
	keyOutputMessages   = "gen_ai.output.messages"
	keySystemInstr      = "gen_ai.system_instructions"
	keyToolDefinitions  = "gen_ai.tool.definitions"
	keyToolName         = "gen_ai.tool.name"
	keyToolCallID       = "gen_ai.tool.call.id"
	keyToolArguments    = "gen_ai.tool.call.arguments"
	keyToolResult       = "gen_ai.tool.call.result"
	keyAgentName        = "gen_ai.agent.name"
	keyWorkflowName     = "gen_ai.workflow.name"
	keyDataSourceID     = "gen_ai.data_source.id"
	keyRetrievalQuery   = "gen_ai.retrieval.query.text"
	keyRetrievalDocs    = "gen_ai.retrieval.documents"
	keyErrorType        = "error.type"
	keyServerAddress    = "server.address"
	keyServerPort       = "server.port"
	keyHTTPStatus       = "http.response.status_code"
	keyServiceTierReq   = "openai.request.service_tier"
	keyServiceTierResp  = "openai.response.service_tier"
	keyFingerprint      = "openai.response.system_fingerprint"

	keySessionID         = "session.id"
	keyUserID            = "user.id"
	keyTags              = "lumina.tags"
	keyEnvironment       = "lumina.environment"
	keyCostUSD           = "lumina.cost_usd"
	keyMetadataPrefix    = "metadata."
	keyContentTruncated  = "lumina.content.truncated"
	keyStreamIncomplete  = "lumina.stream.incomplete"
	keyEnvironmentSemcnv = "deployment.environment.name"
)

// contentKeys are the attributes that carry content: removed when capture is off, passed to
// the Redactor otherwise.
var contentKeys = map[string]bool{
	keyInputMessages: true, keyOutputMessages: true, keySystemInstr: true, keyToolDefinitions: true,
	keyToolArguments: true, keyToolResult: true, keyRetrievalQuery: true,
}
