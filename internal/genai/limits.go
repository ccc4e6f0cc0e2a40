package genai

import (
	"strconv"
	"unicode/utf8"
)

// DefaultMaxValueBytes is the default cap on one stored string value: 256 KiB, generous
// enough for long prompts and completions, small enough that one hostile attribute cannot
// bloat a row. Base64 images above it are cut.
const DefaultMaxValueBytes = 256 << 10

// minMaxValueBytes is the smallest effective limit: below it the marker itself would not fit.
const minMaxValueBytes = 128

// Limits caps the size of stored content. Values over the cap are cut at a UTF-8 boundary
// and end with an explicit marker naming the original length
// ("…[truncated by Lumina: 1048576 bytes]"), so a cut is never silent. The result, marker
// included, fits in MaxValueBytes, so applying the limits again changes nothing.
type Limits struct {
	// MaxValueBytes caps each string (and byte) value; <= 0 means DefaultMaxValueBytes.
	MaxValueBytes int
}

// DefaultLimits returns the limits Lumina applies when none are configured.
func DefaultLimits() Limits { return Limits{MaxValueBytes: DefaultMaxValueBytes} }

func (l Limits) max() int {
	switch {
	case l.MaxValueBytes <= 0:
		return DefaultMaxValueBytes
	case l.MaxValueBytes < minMaxValueBytes:
		return minMaxValueBytes
	}
	return l.MaxValueBytes
}

// TruncationMarker returns the marker appended to a value cut from originalLen bytes.
func TruncationMarker(originalLen int) string {
	return "…[truncated by Lumina: " + strconv.Itoa(originalLen) + " bytes]"
}

// String cuts s to the limit, marker included; it returns s unchanged when it fits.
func (l Limits) String(s string) (string, bool) {
	limit := l.max()
	if len(s) <= limit {
		return s, false
	}
	marker := TruncationMarker(len(s))
	cut := limit - len(marker)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + marker, true
}

// value limits any attribute value, copying containers only when something inside changed
// (resource maps are shared between the spans of one resource).
func (l Limits) value(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		return l.String(x)
	case []byte:
		if len(x) <= l.max() {
			return x, false
		}
		marker := TruncationMarker(len(x))
		cut := l.max() - len(marker)
		out := make([]byte, 0, l.max())
		return append(append(out, x[:cut]...), marker...), true
	case []any:
		var out []any
		for i, e := range x {
			if ne, changed := l.value(e); changed {
				if out == nil {
					out = append([]any(nil), x...)
				}
				out[i] = ne
			}
		}
		if out != nil {
			return out, true
		}
	case map[string]any:
		if m, changed := l.attrs(x); changed {
			return m, true
		}
	}
	return v, false
}

// attrs limits every value of a map, returning a new map when anything changed.
func (l Limits) attrs(m map[string]any) (map[string]any, bool) {
	var out map[string]any
	for k, v := range m {
		nv, changed := l.value(v)
		if !changed {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(m))
			for k2, v2 := range m {
				out[k2] = v2
			}
		}
		out[k] = nv
	}
	if out == nil {
		return m, false
	}
	return out, true
}

// Apply cuts every over-long string of s: attributes, resource, events, links, the status
// message and the normalized call's content. Run it after Normalize, so normalization
// parses complete values. It reports whether anything was cut.
func (l Limits) Apply(s *Span) bool {
	cut := false
	if m, ok := l.attrs(s.Attributes); ok {
		s.Attributes, cut = m, true
	}
	if m, ok := l.attrs(s.Resource); ok {
		s.Resource, cut = m, true
	}
	for i := range s.Events {
		if m, ok := l.attrs(s.Events[i].Attributes); ok {
			s.Events[i].Attributes, cut = m, true
		}
	}
	for i := range s.Links {
		if m, ok := l.attrs(s.Links[i].Attributes); ok {
			s.Links[i].Attributes, cut = m, true
		}
	}
	if v, ok := l.String(s.StatusMessage); ok {
		s.StatusMessage, cut = v, true
	}
	if s.GenAI != nil && l.call(s.GenAI) {
		cut = true
	}
	return cut
}

// ApplyLog cuts every over-long string of r: body, attributes, resource and messages.
func (l Limits) ApplyLog(r *LogRecord) bool {
	cut := false
	if v, ok := l.value(r.Body); ok {
		r.Body, cut = v, true
	}
	if m, ok := l.attrs(r.Attributes); ok {
		r.Attributes, cut = m, true
	}
	if m, ok := l.attrs(r.Resource); ok {
		r.Resource, cut = m, true
	}
	if l.messages(r.Messages) {
		cut = true
	}
	if l.messages(r.OutputMessages) {
		cut = true
	}
	if v, ok := l.String(r.SystemInstructions); ok {
		r.SystemInstructions, cut = v, true
	}
	return cut
}

func (l Limits) str(p *string) bool {
	v, ok := l.String(*p)
	if ok {
		*p = v
	}
	return ok
}

func (l Limits) messages(ms []Message) bool {
	cut := false
	for i := range ms {
		m := &ms[i]
		cut = l.str(&m.Content) || cut
		cut = l.str(&m.Raw) || cut
		for j := range m.ToolCalls {
			cut = l.str(&m.ToolCalls[j].Arguments) || cut
		}
		if v, ok := l.value(m.Parts); ok && v != nil {
			m.Parts, cut = v.([]any), true
		}
	}
	return cut
}

func (l Limits) call(c *Call) bool {
	cut := l.messages(c.InputMessages)
	cut = l.messages(c.OutputMessages) || cut
	cut = l.str(&c.SystemInstructions) || cut
	cut = l.str(&c.ErrorMessage) || cut
	cut = l.str(&c.RetrievalQuery) || cut
	if v, ok := l.value(c.ToolDefinitions); ok {
		c.ToolDefinitions, cut = v, true
	}
	if c.Tool != nil {
		cut = l.str(&c.Tool.Arguments) || cut
		cut = l.str(&c.Tool.Result) || cut
	}
	for i := range c.RetrievalDocuments {
		cut = l.str(&c.RetrievalDocuments[i].Content) || cut
	}
	for k, v := range c.Metadata {
		if nv, ok := l.String(v); ok {
			c.Metadata[k], cut = nv, true
		}
	}
	return cut
}
