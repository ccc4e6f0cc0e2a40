package lumina

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"
)

var anthropicHeader = []string{"anthropic-version", "2023-06-01", "x-api-key", "test"}

const anthropicRequestBody = `{"model":"claude-sonnet-4-5","max_tokens":1024,"temperature":0.5,"top_k":40,` +
	`"system":[{"type":"text","text":"You are a weather bot.","cache_control":{"type":"ephemeral"}}],` +
	`"messages":[{"role":"user","content":"Weather in Paris?"},` +
	`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"location":"Paris"}}]},` +
	`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"rainy"}]}]}`

func TestTransportAnthropicMessage(t *testing.T) {
	body := readFile(t, "anthropic_message.json")
	srv := fakeServer(t, map[string]*fake{"/v1/messages": {body: body}})
	c, exp := newTestClient(t, Config{})
	_, got := post(t, context.Background(), c.HTTPClient(), srv.URL+"/v1/messages", anthropicRequestBody, anthropicHeader...)
	if got != body {
		t.Fatal("application read a different body")
	}
	s := only(t, c, exp)
	if s.Name != "chat claude-sonnet-4-5" {
		t.Errorf("name %q", s.Name)
	}
	a := attrs(s)
	wantAttr(t, a, keyProvider, "anthropic")
	wantAttr(t, a, keyMaxTokens, 1024)
	wantAttr(t, a, keyTemperature, 0.5)
	wantAttr(t, a, keyTopK, 40.0)
	wantAttr(t, a, keyResponseModel, "claude-sonnet-4-5-20250929")
	// Anthropic's input_tokens exclude the cache; the conventions' include it.
	wantAttr(t, a, keyInputTokens, 12+100+2000)
	wantAttr(t, a, keyCacheReadTokens, 2000)
	wantAttr(t, a, keyCacheWriteTokens, 100)
	wantAttr(t, a, keyOutputTokens, 60)
	wantAttr(t, a, keyFinishReasons, []string{"tool_use"})
	wantJSON(t, a, keySystemInstr, `[{"type":"text","content":"You are a weather bot."}]`)
	wantJSON(t, a, keyInputMessages, `[{"role":"user","parts":[{"type":"text","content":"Weather in Paris?"}]},`+
		`{"role":"assistant","parts":[{"type":"tool_call","id":"toolu_1","name":"get_weather","arguments":{"location":"Paris"}}]},`+
		`{"role":"tool","parts":[{"type":"tool_call_response","id":"toolu_1","response":"rainy"}]}]`)
	wantJSON(t, a, keyOutputMessages, `[{"role":"assistant","finish_reason":"tool_call","parts":[`+
		`{"type":"reasoning","content":"The user asks about Paris weather; call the tool."},`+
		`{"type":"text","content":"Let me check."},`+
		`{"type":"tool_call","id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather","arguments":{"location":"Paris"}}]}]`)
}

func TestTransportAnthropicStream(t *testing.T) {
	stream := readFile(t, "anthropic_stream.sse")
	for _, size := range []int{len(stream), 33, 1} {
		t.Run("chunk"+itoa(size), func(t *testing.T) {
			srv := fakeServer(t, map[string]*fake{"/v1/messages": {events: split(stream, size)}})
			c, exp := newTestClient(t, Config{})
			_, got := post(t, context.Background(), c.HTTPClient(), srv.URL+"/v1/messages",
				`{"model":"claude-haiku-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Hi"}]}`, anthropicHeader...)
			if got != stream {
				t.Fatal("application read a different stream")
			}
			a := attrs(only(t, c, exp))
			wantAttr(t, a, keyResponseID, "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY")
			wantAttr(t, a, keyResponseModel, "claude-haiku-4-5-20251001")
			wantAttr(t, a, keyInputTokens, 1525)
			wantAttr(t, a, keyCacheReadTokens, 1500)
			wantAttr(t, a, keyOutputTokens, 15)
			wantAttr(t, a, keyFinishReasons, []string{"end_turn"})
			if _, ok := a[keyTimeToFirstChunk]; !ok {
				t.Error("time to first chunk missing")
			}
			wantJSON(t, a, keyOutputMessages, `[{"role":"assistant","finish_reason":"stop","parts":[{"type":"text","content":"Hello!"}]}]`)
		})
	}
}

func TestTransportAnthropicErrorEvent(t *testing.T) {
	stream := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\",\"model\":\"claude-haiku-4-5\",\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n" +
		"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
	srv := fakeServer(t, map[string]*fake{"/v1/messages": {events: []string{stream}}})
	c, exp := newTestClient(t, Config{})
	post(t, context.Background(), c.HTTPClient(), srv.URL+"/v1/messages", `{"model":"claude-haiku-4-5","stream":true,"messages":[]}`, anthropicHeader...)
	s := only(t, c, exp)
	if s.Status.Code != codes.Error || s.Status.Description != "Overloaded" {
		t.Errorf("status %v %q, want error Overloaded", s.Status.Code, s.Status.Description)
	}
	a := attrs(s)
	wantAttr(t, a, keyErrorType, "overloaded_error")
	wantAttr(t, a, keyInputTokens, 9)
}

// TestTransportStreamEndings covers the ways a stream ends before its last event: the
// application closes it early, cancels its context, or the server cuts it.
func TestTransportStreamEndings(t *testing.T) {
	stream := readFile(t, "anthropic_stream.sse")
	head := stream[:strings.Index(stream, "event: content_block_stop")]
	for _, tc := range []struct {
		name       string
		block      bool // the server keeps the stream open after head
		read       func(t *testing.T, body io.ReadCloser, cancel context.CancelFunc)
		wantError  string // error.type, "" for no error status
		incomplete bool
	}{
		{"close early", true, func(t *testing.T, body io.ReadCloser, _ context.CancelFunc) {
			readUntil(t, body, "Hello")
			body.Close()
		}, "", true},
		{"context canceled", true, func(t *testing.T, body io.ReadCloser, cancel context.CancelFunc) {
			readUntil(t, body, "Hello")
			cancel()
			if _, err := io.ReadAll(body); !errors.Is(err, context.Canceled) {
				t.Errorf("read after cancel: %v, want context.Canceled", err)
			}
			body.Close()
		}, "", true},
		{"server cut", false, func(t *testing.T, body io.ReadCloser, _ context.CancelFunc) {
			if _, err := io.ReadAll(body); err != nil {
				t.Errorf("read: %v", err)
			}
			body.Close()
		}, "stream_incomplete", true},
		{"close after last event", true, nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fake{events: []string{head}}
			if tc.read == nil {
				f.events = []string{stream}
			}
			if tc.block {
				f.block = make(chan struct{})
				defer close(f.block)
			}
			srv := fakeServer(t, map[string]*fake{"/v1/messages": f})
			c, exp := newTestClient(t, Config{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/messages",
				strings.NewReader(`{"model":"claude-haiku-4-5","stream":true,"messages":[]}`))
			req.Header.Set("anthropic-version", "2023-06-01")
			resp, err := c.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if tc.read == nil {
				// Read through message_stop, then close without reading the end of the body.
				readUntil(t, resp.Body, `"type":"message_stop"}`)
				resp.Body.Close()
			} else {
				tc.read(t, resp.Body, cancel)
			}
			s := only(t, c, exp)
			a := attrs(s)
			if tc.wantError == "" {
				if s.Status.Code == codes.Error {
					t.Errorf("status error %q, want none", s.Status.Description)
				}
				noAttr(t, a, keyErrorType)
			} else {
				wantAttr(t, a, keyErrorType, tc.wantError)
			}
			if tc.incomplete {
				wantAttr(t, a, keyStreamIncomplete, true)
			} else {
				noAttr(t, a, keyStreamIncomplete)
				wantAttr(t, a, keyOutputTokens, 15)
			}
			// What arrived before the end is kept.
			wantAttr(t, a, keyResponseModel, "claude-haiku-4-5-20251001")
			wantAttr(t, a, keyCacheReadTokens, 1500)
		})
	}
}

// readUntil reads body until what was read contains s.
func readUntil(t *testing.T, body io.Reader, s string) {
	t.Helper()
	var got []byte
	buf := make([]byte, 64)
	for !strings.Contains(string(got), s) {
		n, err := body.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil && !strings.Contains(string(got), s) {
			t.Fatalf("read until %q: %v (read %q)", s, err, got)
		}
	}
}
