package genai

import (
	"cmp"
	"slices"
)

// NormalizeLog fills r.Messages (and Output, OutputMessages, SystemInstructions, ErrorType,
// ErrorMessage) for GenAI event records: the event name comes from r.EventName or the
// event.name attribute, the payload from the body (v1.28–1.36) or the attributes (v1.37+).
// Records that are not GenAI events are left unchanged. It is idempotent.
func NormalizeLog(r *LogRecord) {
	name := r.EventName
	if name == "" {
		name, _ = asString(r.Attributes["event.name"])
		if name != "" {
			r.EventName = name
		}
	}
	ec := parseEvent("log", name, r.Body, r.Attributes)
	if !ec.genai {
		return
	}
	r.Messages, r.Output, r.OutputMessages = nil, false, nil
	switch {
	case len(ec.input) > 0:
		r.Messages = ec.input
		r.OutputMessages = ec.output
	case len(ec.output) > 0:
		r.Messages, r.Output = ec.output, true
	}
	r.SystemInstructions = ec.system
	r.ErrorType, r.ErrorMessage = ec.errType, ec.errMessage
	if r.ErrorType == "" && r.ErrorMessage != "" {
		r.ErrorType = "exception"
	}
}

// AttachLogs joins GenAI log records to their spans by trace and span id, whichever arrived
// first. Log-derived input (output) messages fill a span's Call only when the span's own
// attributes and events gave none: span attributes win (§8). Messages are taken in log time
// order and name their event in Message.Source ("log:gen_ai.user.message"). A span without a
// GenAI view that receives GenAI content gets an llm Call. Records naming no span in spans
// are left alone (the API shows them as orphans). Records not yet normalized are normalized
// in place. spans are modified in place.
func AttachLogs(spans []Span, logs []LogRecord) {
	if len(spans) == 0 || len(logs) == 0 {
		return
	}
	type key struct{ trace, span string }
	index := make(map[key]int, len(spans))
	for i := range spans {
		index[key{spans[i].TraceID, spans[i].SpanID}] = i
	}
	bySpan := map[int][]int{}
	for i := range logs {
		r := &logs[i]
		if r.SpanID == "" {
			continue
		}
		si, ok := index[key{r.TraceID, r.SpanID}]
		if !ok {
			continue
		}
		if len(r.Messages) == 0 && r.ErrorType == "" && r.SystemInstructions == "" {
			NormalizeLog(r)
		}
		if len(r.Messages) == 0 && len(r.OutputMessages) == 0 && r.ErrorType == "" && r.SystemInstructions == "" {
			continue
		}
		bySpan[si] = append(bySpan[si], i)
	}
	for si, idxs := range bySpan {
		slices.SortStableFunc(idxs, func(a, b int) int { return logs[a].Time.Compare(logs[b].Time) })
		attachToSpan(&spans[si], logs, idxs)
	}
}

// attachToSpan applies one span's records, already in time order.
func attachToSpan(s *Span, logs []LogRecord, idxs []int) {
	var in, out []Message
	var system, errType, errMsg, provider string
	var inSrc, outSrc string
	for _, i := range idxs {
		r := &logs[i]
		if r.Output {
			out = append(out, r.Messages...)
			outSrc = cmp.Or(outSrc, "log:"+r.EventName)
		} else if len(r.Messages) > 0 {
			in = append(in, r.Messages...)
			inSrc = cmp.Or(inSrc, "log:"+r.EventName)
		}
		if len(r.OutputMessages) > 0 {
			out = append(out, r.OutputMessages...)
			outSrc = cmp.Or(outSrc, "log:"+r.EventName)
		}
		system = cmp.Or(system, r.SystemInstructions)
		errType, errMsg = cmp.Or(errType, r.ErrorType), cmp.Or(errMsg, r.ErrorMessage)
		if p, ok := asString(r.Attributes["gen_ai.provider.name"]); ok {
			provider = cmp.Or(provider, p)
		} else if p, ok := asString(r.Attributes["gen_ai.system"]); ok {
			provider = cmp.Or(provider, p)
		}
	}
	if len(in) == 0 && len(out) == 0 && system == "" && errType == "" {
		return
	}
	c := s.GenAI
	if c == nil {
		if len(in) == 0 && len(out) == 0 {
			return // an exception record alone does not make a span a GenAI call
		}
		c = &Call{Type: TypeLLM, Operation: OpChat, Sources: map[string]string{"type": "logs"},
			Conventions: []string{ConvOTelGenAI}}
		if p := NormalizeProvider(provider); p != "" {
			c.Provider = p
			c.Sources["provider"] = "log:gen_ai.system"
		}
		s.GenAI = c
	}
	if c.Sources == nil {
		c.Sources = map[string]string{}
	}
	if c.Provider == "" {
		if p := NormalizeProvider(provider); p != "" {
			c.Provider = p
			c.Sources["provider"] = "log:gen_ai.system"
		}
	}
	if len(c.InputMessages) == 0 && len(in) > 0 {
		c.InputMessages = in
		c.Sources["input_messages"] = inSrc
	}
	if len(c.OutputMessages) == 0 && len(out) > 0 {
		c.OutputMessages = out
		c.Sources["output_messages"] = outSrc
		if len(c.FinishReasons) == 0 {
			for _, m := range out {
				if m.FinishReason != "" {
					c.FinishReasons = append(c.FinishReasons, NormalizeFinishReason(m.FinishReason))
				}
			}
			if len(c.FinishReasons) > 0 {
				c.Sources["finish_reasons"] = outSrc
			}
		}
	}
	if c.SystemInstructions == "" && system != "" {
		c.SystemInstructions = system
		c.Sources["system_instructions"] = "logs"
	}
	if c.ErrorType == "" && errType != "" {
		c.ErrorType, c.ErrorMessage = errType, errMsg
		c.Sources["error_type"] = "log:" + EventException
	}
}
