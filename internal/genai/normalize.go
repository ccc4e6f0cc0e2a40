package genai

import (
	"strings"
)

// Normalize classifies s and sets s.GenAI to its normalized GenAI view, or to nil when the
// span is not GenAI work. It reads every convention in docs/conventions.md, resolving each
// field from exactly one attribute in a fixed priority order and recording that attribute
// in Call.Sources. It only reads s's attributes, resource and events; it is safe to call
// again (the result is recomputed from scratch).
func Normalize(s *Span) {
	s.GenAI = nil
	n := newNormalizer(s)
	typ, op := n.classify()
	if typ == "" {
		return
	}
	c := n.c
	c.Type, c.Operation = typ, op
	n.provider()
	n.models()
	n.usage()
	n.messages()
	n.details()
	c.Counted = c.Usage.Reported
	c.Conventions = n.conventions()
	if len(c.Sources) == 0 {
		c.Sources = nil
	}
	s.GenAI = c
}

// normalizer carries one span through normalization.
type normalizer struct {
	s    *Span
	a    map[string]any
	c    *Call
	flat flatGroups
	conv convSet
	call Call // c points here: one allocation for both
}

func newNormalizer(s *Span) *normalizer {
	a := s.Attributes
	if a == nil {
		a = map[string]any{}
	}
	n := &normalizer{s: s, a: a}
	n.c = &n.call
	n.scan()
	return n
}

// src records where a normalized field came from.
func (n *normalizer) src(field, from string) {
	if n.c.Sources == nil {
		n.c.Sources = make(map[string]string, 16)
	}
	n.c.Sources[field] = from
}

// has reports whether any of the keys is present with a usable value.
func (n *normalizer) has(keys ...string) bool {
	for _, k := range keys {
		if v, ok := n.a[k]; ok && present(v) {
			return true
		}
	}
	return false
}

// present reports whether an attribute value carries information.
func present(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return !absentString(x)
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	case []byte:
		return len(x) > 0
	}
	return true
}

// str returns the first present string among keys (attributes first, then resource).
func (n *normalizer) str(keys ...string) (string, string) {
	for _, k := range keys {
		if v, ok := asString(n.a[k]); ok {
			return strings.TrimSpace(v), k
		}
	}
	return "", ""
}

// firstStr resolves field from the first present key and records its source.
func (n *normalizer) firstStr(field string, keys ...string) string {
	v, k := n.str(keys...)
	if k != "" {
		n.src(field, k)
	}
	return v
}

// firstInt returns the first key holding a parseable integer.
func (n *normalizer) firstInt(keys ...string) (int64, string) {
	for _, k := range keys {
		if v, ok := n.a[k]; ok {
			if i, ok := asInt(v); ok {
				return i, k
			}
		}
	}
	return 0, ""
}

// firstFloat returns the first key holding a parseable number.
func (n *normalizer) firstFloat(keys ...string) (float64, string) {
	for _, k := range keys {
		if v, ok := n.a[k]; ok {
			if f, ok := asFloat(v); ok {
				return f, k
			}
		}
	}
	return 0, ""
}

// firstBool returns the first key holding a parseable boolean.
func (n *normalizer) firstBool(keys ...string) (bool, string) {
	for _, k := range keys {
		if v, ok := n.a[k]; ok {
			if b, ok := asBool(v); ok {
				return b, k
			}
		}
	}
	return false, ""
}

// resourceStr reads a resource attribute.
func (n *normalizer) resourceStr(key string) (string, bool) {
	v, ok := asString(n.s.Resource[key])
	return strings.TrimSpace(v), ok
}

// event returns the first span event with one of the names.
func (n *normalizer) event(names ...string) *Event {
	for i := range n.s.Events {
		for _, name := range names {
			if n.s.Events[i].Name == name {
				return &n.s.Events[i]
			}
		}
	}
	return nil
}
