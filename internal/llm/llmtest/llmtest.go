// Package llmtest plays LLM providers in tests: an httptest server that records every
// request it receives and answers with canned replies in the providers' real wire formats
// (Anthropic Messages, OpenAI Chat Completions and Embeddings, and their error bodies).
package llmtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Reply is one canned answer.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
	// Delay holds the answer back (or until the client gives up), to test timeouts.
	Delay time.Duration
}

// Request is one recorded request.
type Request struct {
	Method, Path string
	Header       http.Header
	Raw          []byte
	Body         map[string]any // Raw decoded; nil when it is not a JSON object
}

// Server answers with its replies in order; the last one repeats.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	replies  []Reply
	requests []Request
}

// New starts a server, closed when the test ends.
func New(t testing.TB, replies ...Reply) *Server {
	t.Helper()
	if len(replies) == 0 {
		t.Fatal("llmtest.New: no replies")
	}
	s := &Server{replies: replies}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Raw: raw}
	_ = json.Unmarshal(raw, &req.Body)
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, req)
	rep := s.replies[min(n, len(s.replies)-1)]
	s.mu.Unlock()
	if rep.Delay > 0 {
		select {
		case <-time.After(rep.Delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	status := rep.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, rep.Body)
}

// Requests returns what the server received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// AnthropicText is a Messages API reply with one text block.
func AnthropicText(model, text string, inputTokens, outputTokens int64) Reply {
	return Reply{Body: jsonText(map[string]any{
		"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": model,
		"content":     []any{map[string]any{"type": "text", "text": text}},
		"stop_reason": "end_turn", "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": inputTokens, "output_tokens": outputTokens,
			"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
	})}
}

// AnthropicError is a Messages API error reply; retryAfter (seconds) is sent when not empty.
func AnthropicError(status int, errType, message, retryAfter string) Reply {
	r := Reply{Status: status, Body: jsonText(map[string]any{
		"type": "error", "error": map[string]any{"type": errType, "message": message},
		"request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
	})}
	if retryAfter != "" {
		r.Header = map[string]string{"Retry-After": retryAfter}
	}
	return r
}

// OpenAIText is a Chat Completions reply with one choice.
func OpenAIText(model, text string, promptTokens, completionTokens int64) Reply {
	return Reply{Body: jsonText(map[string]any{
		"id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion", "created": 1741570283, "model": model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "logprobs": nil,
			"message": map[string]any{"role": "assistant", "content": text, "refusal": nil, "annotations": []any{}}}},
		"usage": map[string]any{"prompt_tokens": promptTokens, "completion_tokens": completionTokens,
			"total_tokens":              promptTokens + completionTokens,
			"prompt_tokens_details":     map[string]any{"cached_tokens": 0, "audio_tokens": 0},
			"completion_tokens_details": map[string]any{"reasoning_tokens": 0}},
		"service_tier": "default", "system_fingerprint": "fp_06737a9306",
	})}
}

// OpenAIError is a Chat Completions error reply; retryAfter (seconds) is sent when not empty.
func OpenAIError(status int, code, message, retryAfter string) Reply {
	r := Reply{Status: status, Body: jsonText(map[string]any{
		"error": map[string]any{"message": message, "type": "requests", "param": nil, "code": code},
	})}
	if retryAfter != "" {
		r.Header = map[string]string{"Retry-After": retryAfter}
	}
	return r
}

// OpenAIEmbeddings is an Embeddings reply with one vector per entry of vecs.
func OpenAIEmbeddings(model string, vecs ...[]float64) Reply {
	data := make([]any, len(vecs))
	for i, v := range vecs {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": v}
	}
	return Reply{Body: jsonText(map[string]any{
		"object": "list", "data": data, "model": model,
		"usage": map[string]any{"prompt_tokens": 8, "total_tokens": 8},
	})}
}
