package lumina

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// split cuts s into chunks of n bytes, so SSE lines and events straddle reads.
func split(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

const chatRequestBody = `{"model":"gpt-4o","messages":[{"role":"system","content":"You are a weather bot."},` +
	`{"role":"user","content":[{"type":"text","text":"Weather in Paris?"},{"type":"image_url","image_url":{"url":"https://example.com/p.jpg"}}]},` +
	`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},` +
	`{"role":"tool","tool_call_id":"call_1","content":"rainy, 57F"}],` +
	`"temperature":0.2,"max_completion_tokens":256,"top_p":0.9,"seed":7,"stop":["END"],"n":1,` +
	`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}`

func TestTransportOpenAIChat(t *testing.T) {
	body := readFile(t, "openai_chat.json")
	srv := fakeServer(t, map[string]*fake{"/v1/chat/completions": {body: body}})
	c, exp := newTestClient(t, Config{})

	resp, got := post(t, context.Background(), c.HTTPClient(), srv.URL+"/v1/chat/completions", chatRequestBody)
	if got != body {
		t.Fatalf("application read %q, want the server's body unchanged", got)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	s := only(t, c, exp)
	if s.Name != "chat gpt-4o" || s.SpanKind != trace.SpanKindClient {
		t.Errorf("span %q kind %v, want \"chat gpt-4o\" client", s.Name, s.SpanKind)
	}
	a := attrs(s)
	wantAttr(t, a, keyOperation, "chat")
	wantAttr(t, a, keyProvider, "openai")
	wantAttr(t, a, keyRequestModel, "gpt-4o")
	wantAttr(t, a, keyResponseModel, "gpt-4o-2024-08-06")
	wantAttr(t, a, keyResponseID, "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG")
	wantAttr(t, a, keyTemperature, 0.2)
	wantAttr(t, a, keyTopP, 0.9)
	wantAttr(t, a, keyMaxTokens, 256)
	wantAttr(t, a, keySeed, 7)
	wantAttr(t, a, keyStopSequences, []string{"END"})
	wantAttr(t, a, keyInputTokens, 1117)
	wantAttr(t, a, keyOutputTokens, 46)
	wantAttr(t, a, keyCacheReadTokens, 1024)
	wantAttr(t, a, keyFinishReasons, []string{"tool_calls"})
	wantAttr(t, a, keyServiceTierResp, "default")
	wantAttr(t, a, keyFingerprint, "fp_fc9f1d7035")
	wantAttr(t, a, keyHTTPStatus, 200)
	wantAttr(t, a, keyServerAddress, "127.0.0.1")
	noAttr(t, a, keyChoiceCount)
	noAttr(t, a, keyReasoningTokens)
	noAttr(t, a, keyTimeToFirstChunk)

	wantJSON(t, a, keyInputMessages, `[{"role":"system","parts":[{"type":"text","content":"You are a weather bot."}]},`+
		`{"role":"user","parts":[{"type":"text","content":"Weather in Paris?"},{"type":"uri","modality":"image","uri":"https://example.com/p.jpg"}]},`+
		`{"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"get_weather","arguments":{"location":"Paris"}}]},`+
		`{"role":"tool","parts":[{"type":"tool_call_response","id":"call_1","response":"rainy, 57F"}]}]`)
	wantJSON(t, a, keyOutputMessages, `[{"role":"assistant","finish_reason":"tool_call","parts":[`+
		`{"type":"tool_call","id":"call_VSPygqKTWdrhaFErNvMV18Yl","name":"get_weather","arguments":{"location":"Paris"}}]}]`)
	wantJSON(t, a, keyToolDefinitions, `[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]`)
	if s.Status.Code == codes.Error {
		t.Errorf("status %v, want unset", s.Status)
	}
}

// wantJSON compares a JSON attribute semantically.
func wantJSON(t *testing.T, a map[string]attribute.Value, key, want string) {
	t.Helper()
	v, ok := a[key]
	if !ok {
		t.Errorf("attribute %s missing", key)
		return
	}
	var g, w any
	if err := json.Unmarshal([]byte(v.AsString()), &g); err != nil {
		t.Errorf("attribute %s is not JSON: %v: %s", key, err, v.AsString())
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON for %s: %v", key, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("attribute %s =\n%s\nwant\n%s", key, gb, wb)
	}
}

func TestTransportOpenAIChatStream(t *testing.T) {
	stream := readFile(t, "openai_chat_stream.sse")
	for _, size := range []int{len(stream), 97, 7, 1} {
		t.Run("chunk"+itoa(size), func(t *testing.T) {
			srv := fakeServer(t, map[string]*fake{"/v1/chat/completions": {events: split(stream, size)}})
			c, exp := newTestClient(t, Config{})
			_, got := post(t, context.Background(), c.HTTPClient(), srv.URL+"/v1/chat/completions",
				`{"model":"o4-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello"}]}`)
			if got != stream {
				t.Fatalf("application read a different stream:\n%q\nwant\n%q", got, stream)
			}
			s := only(t, c, exp)
			a := attrs(s)
			wantAttr(t, a, keyStream, true)
			wantAttr(t, a, keyResponseModel, "o4-mini-2025-04-16")
			wantAttr(t, a, keyResponseID, "chatcmpl-123")
			wantAttr(t, a, keyInputTokens, 19)
			wantAttr(t, a, keyOutputTokens, 210)
			wantAttr(t, a, keyReasoningTokens, 192)
			wantAttr(t, a, keyFinishReasons, []string{"stop"})
			noAttr(t, a, keyStreamIncomplete)
			if v, ok := a[keyTimeToFirstChunk]; !ok || v.AsFloat64() <= 0 {
				t.Errorf("time to first chunk = %v, want > 0", v.Emit())
			}
			wantJSON(t, a, keyInputMessages, `[{"role":"user","parts":[{"type":"text","content":"Say hello"}]}]`)
			wantJSON(t, a, keyOutputMessages, `[{"role":"assistant","finish_reason":"stop","parts":[{"type":"text","content":"Hello, world!"}]}]`)
		})
	}
}

func TestTransportOpenAIChatToolStream(t *testing.T) {
	stream := readFile(t, "openai_chat_tools_stream.sse")
	srv := fakeServer(t, map[string]*fake{"/v1/chat/completions": {events: split(stream, 50)}})
	c, exp := newTestClient(t, Config{})
	post(t, context.Background(), c.HTTPClient(), srv.URL+"/v1/chat/completions",
		`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Weather?"}]}`)
	a := attrs(only(t, c, exp))
	wantAttr(t, a, keyInputTokens, 80)
	wantAttr(t, a, keyCacheReadTokens, 64)
	wantAttr(t, a, keyOutputTokens, 17)
	wantAttr(t, a, keyFinishReasons, []string{"tool_calls"})
	wantJSON(t, a, keyOutputMessages, `[{"role":"assistant","finish_reason":"tool_call","parts":[`+
		`{"type":"tool_call","id":"call_abc","name":"get_weather","arguments":{"location":"Paris"}}]}]`)
}

func TestTransportOpenAIResponses(t *testing.T) {
	body := readFile(t, "openai_responses.json")
	stream := readFile(t, "openai_responses_stream.sse")
	srv := fakeServer(t, map[string]*fake{
		"/v1/responses":        {body: body},
		"/stream/v1/responses": {events: split(stream, 64)},
	})
	c, exp := newTestClient(t, Config{})

	_, got := post(t, context.Background(), c.HTTPClient(), srv.URL+"/v1/responses",
		`{"model":"gpt-4.1","instructions":"You are terse.","input":"Tell me a unicorn story.","max_output_tokens":300}`)
	if got != body {
		t.Fatal("application read a different body")
	}
	a := attrs(only(t, c, exp))
	wantAttr(t, a, keyRequestModel, "gpt-4.1")
	wantAttr(t, a, keyResponseModel, "gpt-4.1-2025-04-14")
	wantAttr(t, a, keyMaxTokens, 300)
	wantAttr(t, a, keyInputTokens, 36)
	wantAttr(t, a, keyCacheReadTokens, 12)
	wantAttr(t, a, keyOutputTokens, 87)
	wantAttr(t, a, keyReasoningTokens, 20)
	wantAttr(t, a, keyFinishReasons, []string{"completed"})
	wantJSON(t, a, keySystemInstr, `[{"type":"text","content":"You are terse."}]`)
	wantJSON(t, a, keyInputMessages, `[{"role":"user","parts":[{"type":"text","content":"Tell me a unicorn story."}]}]`)
	wantJSON(t, a, keyOutputMessages, `[{"role":"assistant","finish_reason":"stop","parts":[`+
		`{"type":"reasoning","content":"The user wants a unicorn story."},`+
		`{"type":"text","content":"In a peaceful grove beneath a silver moon, a unicorn named Lumina slept."}]}]`)

	exp.Reset()
	_, got = post(t, context.Background(), c.HTTPClient(), srv.URL+"/stream/v1/responses",
		`{"model":"gpt-4.1-mini","stream":true,"input":[{"role":"user","content":[{"type":"input_text","text":"Hi"}]}]}`)
	if got != stream {
		t.Fatal("application read a different stream")
	}
	a = attrs(only(t, c, exp))
	wantAttr(t, a, keyResponseID, "resp_1")
	wantAttr(t, a, keyInputTokens, 37)
	wantAttr(t, a, keyOutputTokens, 11)
	if _, ok := a[keyTimeToFirstChunk]; !ok {
		t.Error("time to first chunk missing")
	}
	wantJSON(t, a, keyInputMessages, `[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]`)
	wantJSON(t, a, keyOutputMessages, `[{"role":"assistant","finish_reason":"stop","parts":[{"type":"text","content":"Hi there!"}]}]`)
}

func TestTransportOpenAIEmbeddings(t *testing.T) {
	small := readFile(t, "openai_embeddings.json")
	// A large response: the vectors are never parsed, the tail still is.
	vec := strings.TrimSuffix(strings.Repeat("0.0123456789,", 60000), ",")
	large := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[` + vec +
		`]}],"model":"text-embedding-3-large","usage":{"prompt_tokens":4096,"total_tokens":4096}}`
	srv := fakeServer(t, map[string]*fake{"/v1/embeddings": {body: small}, "/large/v1/embeddings": {body: large}})
	c, exp := newTestClient(t, Config{})
	for _, tc := range []struct {
		path, model string
		tokens      int
		body        string
	}{
		{"/v1/embeddings", "text-embedding-3-small", 8, small},
		{"/large/v1/embeddings", "text-embedding-3-large", 4096, large},
	} {
		exp.Reset()
		_, got := post(t, context.Background(), c.HTTPClient(), srv.URL+tc.path,
			`{"model":"text-embedding-3-small","input":"hello world","encoding_format":"float","dimensions":256}`)
		if got != tc.body {
			t.Fatalf("%s: application read a different body", tc.path)
		}
		s := only(t, c, exp)
		if s.Name != "embeddings text-embedding-3-small" {
			t.Errorf("name %q", s.Name)
		}
		a := attrs(s)
		wantAttr(t, a, keyOperation, "embeddings")
		wantAttr(t, a, keyResponseModel, tc.model)
		wantAttr(t, a, keyInputTokens, tc.tokens)
		wantAttr(t, a, keyEncodingFormats, []string{"float"})
		wantAttr(t, a, keyDimensions, 256)
		noAttr(t, a, keyInputMessages)
	}
}

func TestTransportErrors(t *testing.T) {
	for _, tc := range []struct {
		name, path, body string
		status           int
		hdr              []string
		wantType         string
		wantMsg          string
	}{
		{"openai 429", "/v1/chat/completions", `{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
			429, nil, "requests", "Rate limit reached for gpt-4o"},
		{"openai 400 code only", "/v1/chat/completions", `{"error":{"message":"bad model","type":"","code":"model_not_found"}}`,
			400, nil, "model_not_found", "bad model"},
		{"anthropic 529", "/v1/messages", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}`,
			529, []string{"anthropic-version", "2023-06-01"}, "overloaded_error", "Overloaded"},
		{"proxy 502 html", "/v1/chat/completions", `<html>Bad Gateway</html>`, 502, nil, "502", "<html>Bad Gateway</html>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeServer(t, map[string]*fake{tc.path: {status: tc.status, body: tc.body}})
			c, exp := newTestClient(t, Config{})
			resp, got := post(t, context.Background(), c.HTTPClient(), srv.URL+tc.path, `{"model":"m","messages":[]}`, tc.hdr...)
			if resp.StatusCode != tc.status || got != tc.body {
				t.Fatalf("application got %d %q, want %d %q", resp.StatusCode, got, tc.status, tc.body)
			}
			s := only(t, c, exp)
			if s.Status.Code != codes.Error || s.Status.Description != tc.wantMsg {
				t.Errorf("status %v %q, want error %q", s.Status.Code, s.Status.Description, tc.wantMsg)
			}
			a := attrs(s)
			wantAttr(t, a, keyErrorType, tc.wantType)
			wantAttr(t, a, keyHTTPStatus, tc.status)
			noAttr(t, a, keyInputTokens)
		})
	}
}

func TestTransportConnectionError(t *testing.T) {
	srv := fakeServer(t, map[string]*fake{})
	url := srv.URL
	srv.Close()
	c, exp := newTestClient(t, Config{})
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o"}`))
	if _, err := c.HTTPClient().Do(req); err == nil {
		t.Fatal("want an error from a closed server")
	}
	s := only(t, c, exp)
	if s.Status.Code != codes.Error {
		t.Errorf("status %v, want error", s.Status.Code)
	}
	wantAttr(t, attrs(s), keyErrorType, "connection_error")
}

func TestTransportPassThrough(t *testing.T) {
	srv := fakeServer(t, map[string]*fake{"/v1/models": {body: `{"data":[]}`}, "/v1/messages": {body: `{}`}})
	c, exp := newTestClient(t, Config{})
	if resp, err := c.HTTPClient().Get(srv.URL + "/v1/models"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	// /v1/messages without Anthropic's header is some other API.
	post(t, context.Background(), c.HTTPClient(), srv.URL+"/v1/messages", `{}`)
	if got := spans(t, c, exp); len(got) != 0 {
		t.Fatalf("got %d spans for uninstrumented requests, want 0", len(got))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
