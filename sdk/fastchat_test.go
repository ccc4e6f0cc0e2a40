package lumina

import (
	"encoding/json"
	"reflect"
	"testing"
)

// general is the general path of a request's messages, which the fast path must match.
func general(t *testing.T, raw string, limit int) string {
	t.Helper()
	var ms []chatMessage
	if err := json.Unmarshal([]byte(raw), &ms); err != nil {
		t.Fatal(err)
	}
	msgs := make([]Message, 0, len(ms))
	for _, m := range ms {
		msgs = append(msgs, m.message())
	}
	s, _ := encodeMessages(msgs, limit)
	return s
}

func sameJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("fast path wrote invalid JSON %s: %v", got, err)
	}
	_ = json.Unmarshal([]byte(want), &w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("fast path\n%s\nwant (general path)\n%s", got, want)
	}
}

func TestFastChatMessages(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		fast      bool
	}{
		{"text", `[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi \"you\" \u00e9 \n é <b>"}]`, true},
		{"name", `[{"role":"user","name":"ann","content":"Hi"}]`, true},
		{"tool calls", `[{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}]`, true},
		{"text and tool call", `[{"role":"assistant","content":"x","tool_calls":[{"id":"c1","function":{"name":"f","arguments":""}}],"refusal":null}]`, true},
		{"no content", `[{"role":"assistant"}]`, true},
		{"tool message", `[{"role":"tool","tool_call_id":"c1","content":"rainy"}]`, false},
		{"content parts", `[{"role":"user","content":[{"type":"text","text":"Hi"}]}]`, false},
		{"empty content", `[{"role":"user","content":""}]`, false},
		{"arguments not JSON", `[{"role":"assistant","tool_calls":[{"id":"c1","function":{"name":"f","arguments":"{oops"}}]}]`, false},
		{"bad escape", `[{"role":"user","content":"a\x"}]`, false},
		{"reasoning", `[{"role":"assistant","content":"x","reasoning_content":"think"}]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := fastChatMessages([]byte(tc.raw), DefaultMaxContentBytes)
			if ok != tc.fast {
				t.Fatalf("fast path taken = %v, want %v", ok, tc.fast)
			}
			if ok {
				sameJSON(t, got, general(t, tc.raw, DefaultMaxContentBytes))
			}
		})
	}
	// Over the content limit the general path cuts the text: the fast path stands aside.
	if _, ok := fastChatMessages([]byte(`[{"role":"user","content":"0123456789"}]`), 5); ok {
		t.Error("fast path taken for text over the limit")
	}
}

func TestFastChatChoices(t *testing.T) {
	raw := `[{"index":0,"message":{"role":"assistant","content":"Paris.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"},` +
		`{"index":1,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}]`
	got, reasons, ok := fastChatChoices([]byte(raw), DefaultMaxContentBytes)
	if !ok {
		t.Fatal("fast path not taken")
	}
	if !reflect.DeepEqual(reasons, []string{"stop", "tool_calls"}) {
		t.Errorf("finish reasons %v", reasons)
	}
	var chs []chatChoice
	if err := json.Unmarshal([]byte(raw), &chs); err != nil {
		t.Fatal(err)
	}
	var out []Message
	for _, ch := range chs {
		m := ch.Message.message()
		m.Role, m.FinishReason = "assistant", finishReason(ch.FinishReason)
		out = append(out, m)
	}
	want, _ := encodeMessages(out, DefaultMaxContentBytes)
	sameJSON(t, got, want)
}
