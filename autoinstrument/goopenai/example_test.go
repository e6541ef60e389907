package goopenai_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/goopenai"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func ExampleWrap() {
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

	cfg := openai.DefaultConfig(llmtest.OpenAIKey)
	cfg.BaseURL = strings.TrimSuffix(fake.OpenAIBaseURL(), "/")
	cfg.HTTPClient = goopenai.Wrap(cfg.HTTPClient) // the one line
	client := openai.NewClientWithConfig(cfg)

	resp, err := client.CreateChatCompletion(ctx, openai.ChatCompletionRequest{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Hello!"}},
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
