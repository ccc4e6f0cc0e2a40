// Command openai-chat sends one Chat Completions request with openai-go through Lumina's
// instrumented HTTP client and prints the answer and the trace id to look up in Lumina.
//
//	LUMINA_ENDPOINT=http://localhost:4318 OPENAI_API_KEY=sk-... go run ./examples/openai-chat
//
// OPENAI_BASE_URL points it at any OpenAI-compatible server.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	lumina "github.com/use-lumina/lumina/sdk"
)

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	lc, err := lumina.Init(ctx, lumina.Config{ServiceName: "openai-chat-example"})
	if err != nil {
		return err
	}
	defer lc.Shutdown(context.Background()) // exports what is still queued

	client := openai.NewClient(option.WithHTTPClient(lc.HTTPClient()))
	ctx = lumina.WithUser(ctx, "example-user")
	ctx, span := lc.Start(ctx, "ask")
	defer span.End(nil)

	model := os.Getenv("OPENAI_MODEL")
	if model == "" {
		model = openai.ChatModelGPT4oMini
	}
	res, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: model,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("Answer in one sentence."),
			openai.UserMessage("What does an observability platform for LLM apps record?"),
		},
	})
	if err != nil {
		return fmt.Errorf("chat completion: %w", err)
	}
	fmt.Println(res.Choices[0].Message.Content)
	fmt.Println("trace:", span.SpanContext().TraceID())
	return nil
}
