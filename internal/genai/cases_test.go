package genai_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// Hand-written cases live in testdata/spans/*.json: each file is a list of spans of one
// convention (or edge case) with the fields a test must see. Attribute values are decoded
// the way pdata's AsRaw produces them: whole numbers become int64, others float64.

type caseEvent struct {
	Name       string         `json:"name"`
	OffsetMS   int            `json:"offset_ms"`
	Attributes map[string]any `json:"attributes"`
}

type caseSpan struct {
	Name              string         `json:"name"`
	Kind              string         `json:"kind"`
	Scope             string         `json:"scope"`
	ScopeVersion      string         `json:"scope_version"`
	Status            string         `json:"status"`
	StatusMessage     string         `json:"status_message"`
	DroppedAttributes uint32         `json:"dropped_attributes"`
	Attributes        map[string]any `json:"attributes"`
	Resource          map[string]any `json:"resource"`
	Events            []caseEvent    `json:"events"`
}

type testCase struct {
	Case   string         `json:"case"`
	Span   caseSpan       `json:"span"`
	Expect map[string]any `json:"expect"` // dotted JSON paths into the Call; "genai": null for none
}

var caseStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// pdataValue turns decoded JSON into the types pcommon.Map.AsRaw produces.
func pdataValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = pdataValue(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = pdataValue(x[k])
		}
	}
	return v
}

func (c caseSpan) span(i int) genai.Span {
	s := genai.Span{
		TraceID: "0102030405060708090a0b0c0d0e0f10", SpanID: fmt.Sprintf("%016x", i+1),
		Name: c.Name, Kind: c.Kind, ScopeName: c.Scope, ScopeVersion: c.ScopeVersion,
		StatusCode: genai.StatusUnset, StatusMessage: c.StatusMessage, DroppedAttributes: c.DroppedAttributes,
		StartTime: caseStart, EndTime: caseStart.Add(time.Second),
		Attributes: c.Attributes, Resource: c.Resource,
	}
	if c.Status != "" {
		s.StatusCode = c.Status
	}
	for _, e := range c.Events {
		s.Events = append(s.Events, genai.Event{Name: e.Name, Time: caseStart.Add(time.Duration(e.OffsetMS) * time.Millisecond), Attributes: e.Attributes})
	}
	return s
}

func loadCases(t *testing.T, path string) []testCase {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var cases []testCase
	if err := dec.Decode(&cases); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	for i := range cases {
		pdataValue(cases[i].Span.Attributes)
		pdataValue(cases[i].Span.Resource)
		for _, e := range cases[i].Span.Events {
			pdataValue(e.Attributes)
		}
	}
	return cases
}

// lookup follows a dotted path ("usage.input_tokens", "input_messages.0.content") through
// the JSON form of v.
func lookup(v any, path string) (any, bool) {
	cur := v
	for _, p := range strings.Split(path, ".") {
		switch x := cur.(type) {
		case map[string]any:
			var ok bool
			if cur, ok = x[p]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// jsonNormal re-encodes v so numbers compare as float64 on both sides.
func jsonNormal(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestConventionCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "spans", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(base, func(t *testing.T) {
			cases := loadCases(t, f)
			var golden []map[string]any
			for i, tc := range cases {
				s := tc.Span.span(i)
				genai.Normalize(&s)
				golden = append(golden, map[string]any{"case": tc.Case, "genai": s.GenAI})
				t.Run(tc.Case, func(t *testing.T) {
					got := jsonNormal(t, s.GenAI)
					for path, want := range tc.Expect {
						want = jsonNormal(t, want)
						if path == "genai" {
							if !reflect.DeepEqual(got, want) {
								t.Errorf("genai: got %v, want %v", got, want)
							}
							continue
						}
						if got == nil {
							t.Fatalf("%s: span has no GenAI view, want %v", path, want)
						}
						v, ok := lookup(got, path)
						if !ok && want == nil {
							continue
						}
						if !ok {
							t.Errorf("%s: missing, want %v", path, want)
							continue
						}
						if !reflect.DeepEqual(v, want) {
							t.Errorf("%s: got %v, want %v", path, v, want)
						}
					}
				})
			}
			checkGolden(t, "spans-"+base, golden)
		})
	}
}
