package lumina

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestScanChunkChoices wants the scanner to decode what encoding/json decodes, or to give up.
func TestScanChunkChoices(t *testing.T) {
	for _, tc := range []struct {
		in     string
		giveUp bool
	}{
		{in: `[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]`},
		{in: `[{"index":0,"delta":{"content":"Hello, \"world\"\n"},"finish_reason":null}]`},
		{in: `[{"index":1,"delta":{"content":"héllo ✓"},"finish_reason":"stop"}]`},
		{in: `[{"index":0,"delta":{"reasoning_content":"think","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get","arguments":"{\"a\":"}}]}}]`},
		{in: `[{"index":0,"delta":{"tool_calls":[]}},{"index":2,"delta":{"tool_calls":null,"content":null}},null]`},
		{in: `[{"index":0,"delta":{},"finish_reason":"stop"},{"index":1,"delta":{"content":"x"},"delta":{"refusal":"no"}}]`},
		{in: `[]`},
		{in: `null`},
		{in: `[{"Index":3,"delta":{}}]`, giveUp: true},
		{in: `[{"index":0,"delta":{"Content":"x"}}]`, giveUp: true},
		{in: `[{"ind\u0065x":3}]`, giveUp: true},
		{in: `[{"index":1.5}]`, giveUp: true},
		{in: `[{"index":0,"delta":{"content":5}}]`, giveUp: true},
		{in: `[{"index":0,"delta":"x"}]`, giveUp: true},
		{in: `[{"index":0,"delta":{"content":"x"}]`, giveUp: true},
		{in: "[{\"index\":0,\"delta\":{\"content\":\"\xff\"}}]"},
	} {
		got, ok := scanChunkChoices([]byte(tc.in), nil)
		if ok == tc.giveUp {
			t.Errorf("%s: handled %v, want %v", tc.in, ok, !tc.giveUp)
			continue
		}
		if !ok {
			continue
		}
		var want []chatChunkChoice
		if err := json.Unmarshal([]byte(tc.in), &want); err != nil {
			t.Errorf("%s: encoding/json: %v, but the scanner decoded it", tc.in, err)
			continue
		}
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", tc.in, got, want)
		}
	}
}
