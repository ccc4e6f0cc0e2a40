// Command dual-export sends the same spans to Lumina and to an existing OpenTelemetry backend
// (a collector, Jaeger, Tempo…) at once, each through its own non-blocking queue.
//
//	LUMINA_ENDPOINT=http://localhost:4318 BACKEND_OTLP_ENDPOINT=http://localhost:14318 \
//	OPENAI_API_KEY=sk-... go run ./examples/dual-export
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	lumina "github.com/use-lumina/lumina/sdk"
)

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	endpoint := os.Getenv("BACKEND_OTLP_ENDPOINT")
	if endpoint == "" {
		endpoint = "http://localhost:14318"
	}
	backend, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint+"/v1/traces"))
	if err != nil {
		return fmt.Errorf("backend exporter: %w", err)
	}
	lc, err := lumina.Init(ctx, lumina.Config{
		ServiceName: "dual-export-example",
		Exporters:   []sdktrace.SpanExporter{backend},
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := lc.Shutdown(context.Background()); err != nil {
			log.Print(err)
		}
		st := lc.Stats()
		fmt.Printf("exported %d, dropped %d, failed %d (both exporters)\n", st.Exported, st.Dropped, st.Failed)
	}()

	client := openai.NewClient(option.WithHTTPClient(lc.HTTPClient()))
	res, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    openai.ChatModelGPT4oMini,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello in French.")},
	})
	if err != nil {
		return fmt.Errorf("chat completion: %w", err)
	}
	fmt.Println(res.Choices[0].Message.Content)
	return nil
}
