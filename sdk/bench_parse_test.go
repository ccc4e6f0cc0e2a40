package lumina

import (
	"os"
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

// BenchmarkParse is the processor's parsing alone, content captured: a Chat Completions
// request, a response body, and a streamed response (seven chunks), from the testdata the
// other benchmarks send. Its instructions per op (callgrind) are free of the machine's load
// and of the export.
func BenchmarkParse(b *testing.B) {
	read := func(name string) []byte {
		s, err := os.ReadFile("testdata/" + name)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	body, sse, req := read("openai_chat.json"), read("openai_chat_stream.sse"), []byte(benchChatRequest)
	newCall := func(mode bodyMode) *call {
		c := &call{content: true, limit: DefaultMaxContentBytes, mode: mode, ex: new(chatExchange)}
		c.attrs = make([]attribute.KeyValue, 0, 24)
		return c
	}
	b.Run("request", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := newCall(modeJSON)
			c.ex.request(c, req)
		}
	})
	b.Run("response", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := newCall(modeJSON)
			c.ex.response(c, body)
		}
	})
	b.Run("stream", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := newCall(modeEvents)
			c.sse.sink = c
			c.sse.feed(sse)
			c.ex.finish(c)
		}
	})
}
