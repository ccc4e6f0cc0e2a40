// Command anthropic-streaming streams a Claude answer with anthropic-sdk-go.
//
//	LUMINA_ENDPOINT=http://localhost:4318 ANTHROPIC_API_KEY=sk-ant-... go run ./examples/anthropic-streaming
//
// Init registers Lumina's provider as the global one, so anthropic-sdk-go's own span of the
// call goes to Lumina; the instrumented transport sees that span and adds the messages to it
// instead of recording a second span. Lumina receives one span, with time to first token,
// usage (cache tokens included) and the streamed text.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	lumina "github.com/use-lumina/lumina/sdk"
)

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	lc, err := lumina.Init(ctx, lumina.Config{ServiceName: "anthropic-streaming-example"})
	if err != nil {
		return err
	}
	defer lc.Shutdown(context.Background())

	client := anthropic.NewClient(option.WithHTTPClient(lc.HTTPClient()))
	ctx = lumina.WithSession(ctx, "example-session")
	stream := client.Messages.NewStreaming(ctx, anthropic.MessageNewParams{
		Model:     anthropic.ModelClaudeHaiku4_5,
		MaxTokens: 256,
		System:    []anthropic.TextBlockParam{{Text: "You are concise."}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Write a haiku about tracing."))},
	})
	defer stream.Close()
	for stream.Next() {
		ev := stream.Current()
		if d, ok := ev.AsAny().(anthropic.ContentBlockDeltaEvent); ok {
			fmt.Print(d.Delta.Text)
		}
	}
	fmt.Println()
	if err := stream.Err(); err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	return nil
}
