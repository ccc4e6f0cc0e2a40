// Command rag answers a question with a small retrieval-augmented pipeline and records it as
// one trace: qa (workflow) → retrieve → rerank → the model call.
//
//	LUMINA_ENDPOINT=http://localhost:4318 OPENAI_API_KEY=sk-... go run ./examples/rag "How long are traces kept?"
//
// Retrieval here is a keyword search over three documents in memory; a real application would
// query its vector store in the same span.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	lumina "github.com/use-lumina/lumina/sdk"
)

type doc struct{ id, text string }

var corpus = []doc{
	{"retention", "Lumina keeps traces for 7 days by default; retention is configurable per project."},
	{"quota", "Each project may send 50,000 traces per day by default; the quota resets at 00:00 UTC."},
	{"alerts", "Cost, quality and latency alerts are evaluated right after each batch of spans is stored."},
}

func main() {
	question := "How long are traces kept?"
	if len(os.Args) > 1 {
		question = strings.Join(os.Args[1:], " ")
	}
	if err := run(context.Background(), question); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, question string) error {
	lc, err := lumina.Init(ctx, lumina.Config{ServiceName: "rag-example"})
	if err != nil {
		return err
	}
	defer lc.Shutdown(context.Background())
	client := openai.NewClient(option.WithHTTPClient(lc.HTTPClient()))

	ctx = lumina.WithSession(lumina.WithUser(ctx, "example-user"), "rag-session")
	return lc.Trace(ctx, "qa", func(ctx context.Context) error {
		var hits []lumina.Document
		if err := lc.Trace(ctx, "retrieve", func(ctx context.Context) error {
			_, s := lc.Start(ctx, "keyword search", lumina.Retrieval("corpus"))
			hits = search(question)
			s.SetRetrieval(question, hits)
			s.End(nil)
			return nil
		}, lumina.Retrieval("corpus")); err != nil {
			return err
		}
		_ = lc.Trace(ctx, "rerank", func(context.Context) error {
			slices.SortFunc(hits, func(a, b lumina.Document) int { return int((b.Score - a.Score) * 1000) })
			hits = hits[:min(len(hits), 2)]
			return nil
		}, lumina.Rerank())

		var docs strings.Builder
		for _, h := range hits {
			for _, d := range corpus {
				if d.id == h.ID {
					docs.WriteString(d.text + "\n")
				}
			}
		}
		res, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: openai.ChatModelGPT4oMini,
			Messages: []openai.ChatCompletionMessageParamUnion{
				openai.SystemMessage("Answer only from these documents:\n" + docs.String()),
				openai.UserMessage(question),
			},
		})
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		fmt.Println(res.Choices[0].Message.Content)
		return nil
	}, lumina.Workflow("qa"))
}

// search scores each document by the share of the question's words it contains.
func search(q string) []lumina.Document {
	words := strings.Fields(strings.ToLower(strings.Trim(q, "?.!")))
	var out []lumina.Document
	for _, d := range corpus {
		n := 0
		for _, w := range words {
			if strings.Contains(strings.ToLower(d.text), w) {
				n++
			}
		}
		if n > 0 {
			out = append(out, lumina.Document{ID: d.id, Score: float64(n) / float64(len(words))})
		}
	}
	return out
}
