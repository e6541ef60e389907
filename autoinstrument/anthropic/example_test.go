package anthropic_test

import (
	"context"
	"fmt"
	"log"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	mlflowanthropic "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/anthropic"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func ExampleRequestOption() {
	ctx := context.Background()
	// A fake Anthropic API stands in for api.anthropic.com here; traces go
	// to an in-memory destination instead of ./mlruns.
	fake := llmtest.NewServer()
	defer fake.Close()
	dest := exportertest.NewRecorder()
	p, err := tracing.Init(ctx, tracing.WithExporterOptions(exporter.WithDestination(dest)))
	if err != nil {
		log.Fatal(err)
	}

	client := anthropic.NewClient(
		option.WithBaseURL(fake.AnthropicBaseURL()), option.WithAPIKey(llmtest.AnthropicKey),
		mlflowanthropic.RequestOption(), // the one line
	)
	stream := client.Messages.NewStreaming(ctx, anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-6",
		MaxTokens: 128,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hello!"))},
	})
	var msg anthropic.Message
	for stream.Next() {
		_ = msg.Accumulate(stream.Current())
	}
	if err := stream.Err(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg.Content[0].Text)

	if err := p.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	s := dest.Traces()[0].Spans[0]
	fmt.Println(s.Name, s.Attributes["mlflow.spanType"], s.Attributes["mlflow.message.format"], s.Attributes["mlflow.llm.provider"])
	// Output:
	// You said: Hello!
	// Messages.create "CHAT_MODEL" "anthropic" "anthropic"
}
