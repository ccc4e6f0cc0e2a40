package genai

import (
	"slices"
	"strconv"
	"strings"
)

// MaxFlatIndex caps the index accepted in flattened attributes (gen_ai.prompt.N.*,
// llm.input_messages.N.*): a hostile or broken producer sending index 4000000000 must not
// make Lumina allocate for it. Entries above the cap are ignored and the call is marked
// ContentPartial. Langfuse caps its rebuild at 10,001 slots; so does Lumina.
const MaxFlatIndex = 10000

// flatPrefixes are the indexed attribute families rebuilt into arrays.
var flatPrefixes = []string{
	"gen_ai.prompt.", "gen_ai.completion.", "llm.input_messages.", "llm.output_messages.",
	"llm.prompts.", "llm.choices.", "llm.tools.", "llm.request.functions.",
	"gen_ai.tool.definitions.", "retrieval.documents.", "reranker.output_documents.",
	"embedding.embeddings.",
}

// mapPrefixes are attribute families whose suffix is a key ("ai.settings.maxOutputTokens").
var mapPrefixes = []string{
	"ai.settings.", "ai.telemetry.metadata.", "langfuse.trace.metadata.",
	"langfuse.observation.metadata.", "traceloop.association.properties.",
	"gcp.gen_ai.operation.config.", "llm.invocation_parameters.", "metadata.",
}

// flatItem is one rebuilt array element: its index and its fields by suffix.
type flatItem struct {
	Index  int
	Fields map[string]any
}

// flatGroups holds, per prefix, the indexed items found on the span.
type flatGroups struct {
	items   map[string]map[int]map[string]any
	maps    map[string]map[string]any
	dropped int // entries ignored for an index above MaxFlatIndex
}

// add files key under prefix p if its remainder starts with an index.
func (g *flatGroups) add(p, rest string, v any) {
	idxPart, suffix, _ := strings.Cut(rest, ".")
	idx, err := strconv.Atoi(idxPart)
	if err != nil || idx < 0 {
		return
	}
	if idx > MaxFlatIndex {
		g.dropped++
		return
	}
	if g.items == nil {
		g.items = make(map[string]map[int]map[string]any, 2)
	}
	byIdx := g.items[p]
	if byIdx == nil {
		byIdx = make(map[int]map[string]any, 2)
		g.items[p] = byIdx
	}
	f := byIdx[idx]
	if f == nil {
		f = make(map[string]any, 4)
		byIdx[idx] = f
	}
	f[suffix] = v
}

// list returns prefix p's items sorted by index (sparse indices keep their order).
func (g *flatGroups) list(p string) []flatItem {
	return sortedItems(g.items[p])
}

func sortedItems(byIdx map[int]map[string]any) []flatItem {
	if len(byIdx) == 0 {
		return nil
	}
	out := make([]flatItem, 0, len(byIdx))
	for i, f := range byIdx {
		out = append(out, flatItem{Index: i, Fields: f})
	}
	slices.SortFunc(out, func(a, b flatItem) int { return a.Index - b.Index })
	return out
}

// subItems rebuilds a nested indexed family inside one item ("tool_calls.0.name").
func subItems(fields map[string]any, prefix string) []flatItem {
	var byIdx map[int]map[string]any
	for k, v := range fields {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		idxPart, suffix, _ := strings.Cut(rest, ".")
		idx, err := strconv.Atoi(idxPart)
		if err != nil || idx < 0 || idx > MaxFlatIndex {
			continue
		}
		if byIdx == nil {
			byIdx = map[int]map[string]any{}
		}
		if byIdx[idx] == nil {
			byIdx[idx] = map[string]any{}
		}
		byIdx[idx][suffix] = v
	}
	return sortedItems(byIdx)
}

// scan makes the one pass over the attributes that finds flattened families, keyed
// families and the conventions present.
func (n *normalizer) scan() {
	for k, v := range n.a {
		n.conv.note(k)
		switch {
		case strings.HasPrefix(k, "gen_ai.") || strings.HasPrefix(k, "llm.") ||
			strings.HasPrefix(k, "retrieval.") || strings.HasPrefix(k, "reranker.") ||
			strings.HasPrefix(k, "embedding."):
			for _, p := range flatPrefixes {
				if rest, ok := strings.CutPrefix(k, p); ok {
					n.flat.add(p, rest, v)
					break
				}
			}
		}
		if strings.IndexByte(k, '.') < 0 {
			continue
		}
		for _, p := range mapPrefixes {
			if rest, ok := strings.CutPrefix(k, p); ok && rest != "" {
				if n.flat.maps == nil {
					n.flat.maps = make(map[string]map[string]any, 2)
				}
				m := n.flat.maps[p]
				if m == nil {
					m = make(map[string]any, 4)
					n.flat.maps[p] = m
				}
				m[rest] = v
				break
			}
		}
	}
	n.conv.noteScope(n.s.ScopeName)
	if n.s.DroppedAttributes > 0 || n.flat.dropped > 0 {
		n.c.ContentPartial = true
	}
}
