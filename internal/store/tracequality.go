package store

// TraceQuality is the quality of one trace's scored LLM calls (the spans of call type llm
// whose quality carries a score), read from the spans rather than kept in the rollup, so a
// verdict the judge writes later (JudgeStore.UpdateSpanQuality) shows at once.
type TraceQuality struct {
	Scored int64   // scored LLM calls
	Mean   float64 // their mean score
	Min    float64 // the lowest
}

// MaxTraceQualityIDs bounds the traces one TraceQuality call reads: a trace page at most.
const MaxTraceQualityIDs = 1000
