package openai_test

import (
	"context"
	"fmt"
	"log"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	mlflowopenai "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/openai"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func ExampleRequestOption() {
	ctx := context.Background()
	// A fake OpenAI API stands in for api.openai.com here; traces go to an
	// in-memory destination instead of ./mlruns.
	fake := llmtest.NewServer()
	defer fake.Close()
	dest := exportertest.NewRecorder()
	p, err := tracing.Init(ctx, tracing.WithExporterOptions(exporter.WithDestination(dest)))
	if err != nil {
		log.Fatal(err)
	}

	client := openai.NewClient(
		option.WithBaseURL(fake.OpenAIBaseURL()), option.WithAPIKey(llmtest.OpenAIKey),
		mlflowopenai.RequestOption(), // the one line
	)
	resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello!")},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Choices[0].Message.Content)

	if err := p.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	s := dest.Traces()[0].Spans[0]
	fmt.Println(s.Name, s.Attributes["mlflow.spanType"], s.Attributes["mlflow.llm.model"], s.Attributes["mlflow.message.format"])
	// Output:
	// You said: Hello!
	// Completions "CHAT_MODEL" "gpt-4o-mini-2024-07-18" "openai"
}
