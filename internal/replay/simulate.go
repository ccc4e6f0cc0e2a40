package replay

import (
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/use-lumina/lumina/internal/genai"
)

// simulate answers req without calling anyone: the original answer with a seeded share of
// its words dropped or repeated, modelled latency and token counts. The same seed, item
// and request always give the same answer. It exists to try the replay workflow without
// keys or costs, and everything it produces is labelled as simulation.
func simulate(seed uint64, it *Item, req Request) Response {
	h := fnv.New64a()
	h.Write([]byte(strconv.FormatUint(seed, 10) + "\x00" + it.TraceID + it.SpanID + "\x00" + req.Model + "\x00" + req.System))
	for _, m := range req.Messages {
		h.Write([]byte(m.Role + "\x00" + m.Content + "\x00"))
	}
	rng := rand.New(rand.NewPCG(h.Sum64(), seed))
	c := &it.Capture

	// A changed model or prompt changes more of the answer.
	change := 0.05
	if req.Model != c.Model {
		change += 0.15
	}
	if req.System != c.System || lastUser(req.Messages) != lastUser(c.Messages) {
		change += 0.10
	}
	words := strings.Fields(c.Response)
	out := make([]string, 0, len(words))
	for _, w := range words {
		switch x := rng.Float64(); {
		case x < change/2: // dropped
		case x < change:
			out = append(out, w, w)
		default:
			out = append(out, w)
		}
	}
	if req.MaxTokens > 0 && int64(len(out)) > req.MaxTokens {
		out = out[:req.MaxTokens]
	}
	text := strings.Join(out, " ")

	// Input tokens scale with the prompt's length, output tokens with the answer's.
	inTok := scaleTokens(c.Usage.InputTokens, promptChars(c.System, c.Messages), promptChars(req.System, req.Messages))
	outTok := scaleTokens(c.Usage.OutputTokens, len(c.Response), len(text))
	latency := time.Duration(c.LatencyMS * float64(time.Millisecond) * (0.6 + 0.8*rng.Float64()))
	return Response{Model: req.Model, Text: text, ToolCalls: c.ToolCalls, Latency: latency, Attempts: 0,
		Usage: genai.Usage{InputTokens: inTok, OutputTokens: outTok, TotalTokens: inTok + outTok, Reported: true}}
}

// promptChars is the length of everything a request sends as text.
func promptChars(system string, ms []genai.Message) int {
	n := len(system)
	for _, m := range ms {
		n += len(m.Content)
		for _, tc := range m.ToolCalls {
			n += len(tc.Name) + len(tc.Arguments)
		}
	}
	return n
}

// scaleTokens scales a token count by a length ratio; with no count, about four characters
// make a token.
func scaleTokens(tokens int64, fromChars, toChars int) int64 {
	if tokens <= 0 || fromChars == 0 {
		return int64((toChars + 3) / 4)
	}
	return max(0, int64(float64(tokens)*float64(toChars)/float64(fromChars)+0.5))
}

func usage(in, out int64) genai.Usage {
	return genai.Usage{InputTokens: in, OutputTokens: out, TotalTokens: in + out, Reported: true}
}
