package quality

import (
	"strings"
	"sync"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// Tier-1 methods, as reported in genai.Quality.Method.
const (
	MethodPrompt      = "tier1:prompt"       // compared with earlier responses to the same prompt
	MethodEndpoint    = "tier1:endpoint"     // compared with the endpoint's responses to other prompts
	MethodAbsolute    = "tier1:absolute"     // no references yet; an absolute check failed
	MethodFirstSample = "tier1:first_sample" // no references yet, nothing wrong found: no score
	MethodNoOutput    = "tier1:no_output"    // the call failed before answering: nothing to score
	MethodNoContent   = "tier1:no_content"   // the span carries no response content: nothing to score
)

// ScorerConfig bounds the Scorer's memory. Memory is about
// (MaxEndpoints×RefsPerEndpoint + MaxPrompts×RefsPerPrompt) × ~0.55 KB, plus at most as
// many empty slots of ~0.14 KB each (a key's references grow in place, see refSet):
// references keep fingerprints, never text. Zero values take the defaults.
type ScorerConfig struct {
	MaxEndpoints    int           // endpoint keys kept (LRU); default 2,000
	RefsPerEndpoint int           // latest responses kept per endpoint; default 16
	MaxPrompts      int           // prompt hashes kept (LRU); default 20,000
	RefsPerPrompt   int           // latest responses kept per prompt; default 4
	MaxAge          time.Duration // references older than this are ignored; default 7 days
}

func (c *ScorerConfig) defaults() {
	if c.MaxEndpoints <= 0 {
		c.MaxEndpoints = 2000
	}
	if c.RefsPerEndpoint <= 0 {
		c.RefsPerEndpoint = 16
	}
	if c.MaxPrompts <= 0 {
		c.MaxPrompts = 20000
	}
	if c.RefsPerPrompt <= 0 {
		c.RefsPerPrompt = 4
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 7 * 24 * time.Hour
	}
}

// Scorer is tier 1. It keeps, in memory, recent references per endpoint key and per
// normalized-prompt hash, and scores each new response against them. It is safe for
// concurrent use. References are per process and start empty, so after a restart an
// endpoint's first response is again a first sample (reported as such, not scored).
type Scorer struct {
	cfg ScorerConfig
	now func() time.Time

	mu        sync.Mutex
	endpoints *refLRU
	prompts   *refLRU
}

// NewScorer returns a Scorer; now is its clock (time.Now in production).
func NewScorer(cfg ScorerConfig, now func() time.Time) *Scorer {
	cfg.defaults()
	return &Scorer{
		cfg: cfg, now: now,
		endpoints: newRefLRU(cfg.MaxEndpoints, cfg.RefsPerEndpoint),
		prompts:   newRefLRU(cfg.MaxPrompts, cfg.RefsPerPrompt),
	}
}

// Endpoint is the tier-1 reference key of a span: its service and span name, plus the
// prompt template when the span names one (lumina.prompt.template, gen_ai.prompt.name,
// langfuse.observation.prompt.name, or a hash of llm.prompt_template.template).
//
// OTel GenAI span names are "{operation} {model}" ("chat gpt-4o-mini"); the model is cut
// from the name, so a model change is compared with the old model's responses instead of
// starting a new endpoint.
func Endpoint(s *genai.Span) string {
	name := s.Name
	if c := s.GenAI; c != nil {
		for _, m := range []string{c.RequestModel, c.ResponseModel} {
			if m != "" && len(name) > len(m)+1 && strings.HasSuffix(name, " "+m) {
				name = strings.TrimSpace(strings.TrimSuffix(name, m))
				break
			}
		}
	}
	key := s.ServiceName + " / " + name
	for _, k := range []string{"lumina.prompt.template", "gen_ai.prompt.name", "langfuse.observation.prompt.name"} {
		if v, ok := s.Attributes[k].(string); ok && v != "" {
			return key + " / " + v
		}
	}
	if v, ok := s.Attributes["llm.prompt_template.template"].(string); ok && v != "" {
		return key + " / template:" + hex16(fnv64(v))
	}
	return key
}

// ScoreSpan scores an LLM span against its endpoint's references (see Score) and records
// it as a reference. It returns nil for spans that are not LLM calls.
func (s *Scorer) ScoreSpan(sp *genai.Span) *genai.Quality {
	if sp.GenAI == nil {
		return nil
	}
	ep := Endpoint(sp)
	q := s.score(sp.ProjectID, ep, sp.TraceID+"/"+sp.SpanID, sp.GenAI)
	if q != nil {
		q.Endpoint = ep
	}
	return q
}

// Score scores c, an LLM call of project projectID on endpoint (see Endpoint), against the
// references kept for the endpoint and for the call's normalized prompt, then keeps c as a
// reference unless an absolute check failed (empty, refusal, truncated, filtered, broken
// JSON), so failures never become the norm. A call seen again (same response id) is not
// compared with itself. It returns nil when c is not an LLM call. The returned Quality is
// new; Score does not modify c.
func (s *Scorer) Score(projectID, endpoint string, c *genai.Call) *genai.Quality {
	if c == nil {
		return nil
	}
	return s.score(projectID, endpoint, c.ResponseID, c)
}

func (s *Scorer) score(projectID, endpoint, id string, c *genai.Call) *genai.Quality {
	if c == nil || c.Type != genai.TypeLLM {
		return nil
	}
	now := s.now()
	text, toolCalls := responseText(c)
	q := &genai.Quality{Tier: genai.QualityTier1, ScoredAt: now, PromptHash: hex16(promptHash(c))}
	if strings.TrimSpace(text) == "" && toolCalls == 0 && c.ErrorType != "" {
		q.Method = MethodNoOutput
		q.Reason = "the call failed (" + c.ErrorType + ") before answering; nothing to score"
		return q
	}
	if len(c.OutputMessages) == 0 {
		// Content capture is off by default in most instrumentations, and some send the
		// messages later as OTLP log records: absence of content is not an empty answer.
		q.Method = MethodNoContent
		q.Reason = "the span carries no response content (capture off, or sent separately as log events); nothing to score"
		if truncated, filtered := finishFlags(c); truncated {
			q.Flags = []string{genai.FlagTruncated}
		} else if filtered {
			q.Flags = []string{genai.FlagContentFilter}
		}
		return q
	}
	cur := measure(id, text, toolCalls, c, now)
	q.Sketch = cur.simhash
	endpointKey := projectID + "\x00" + endpoint
	promptKey := projectID + "\x00" + q.PromptHash

	s.mu.Lock()
	promptRefs := s.prompts.get(promptKey)
	endpointRefs := s.endpoints.get(endpointKey)
	if cur.failed() == "" {
		s.prompts.add(promptKey, cur.ref)
		s.endpoints.add(endpointKey, cur.ref)
	}
	s.mu.Unlock()

	// The slices read under the lock are never modified, so comparing outside it is safe.
	cutoff := now.Add(-s.cfg.MaxAge)
	assess(q, cur, usable(promptRefs, id, cutoff), usable(endpointRefs, id, cutoff))
	return q
}

// usable filters out references that are too old or are the scored span itself.
func usable(refs []ref, id string, cutoff time.Time) []ref {
	n := 0
	for _, r := range refs {
		if r.at.Before(cutoff) || (id != "" && r.id == id) {
			continue
		}
		n++
	}
	if n == len(refs) {
		return refs
	}
	out := make([]ref, 0, n)
	for _, r := range refs {
		if r.at.Before(cutoff) || (id != "" && r.id == id) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// hex16 is fmt.Sprintf("%016x", x), without fmt on the per-span path.
func hex16(x uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[x&15]
		x >>= 4
	}
	return string(b[:])
}
