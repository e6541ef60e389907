package autoinstrument_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	mlflowopenai "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/openai"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Content capture and redaction apply to every integration: here an OpenAI
// client, whose chat spans get their e-mail addresses masked by a span
// filter.
func Example() {
	ctx := context.Background()
	fake := llmtest.NewServer() // a fake OpenAI API for the example
	defer fake.Close()
	dest := exportertest.NewRecorder()
	p, err := tracing.Init(ctx,
		tracing.WithContentCapture(true), // false: metadata only, for every integration
		tracing.WithSpanFilter(func(s *tracing.Span) {
			if in := s.Inputs(); strings.Contains(in, "@") {
				// Inputs returns the stored JSON: set it back as JSON.
				s.SetInputs(json.RawMessage(strings.ReplaceAll(in, "alice@example.com", "<email>")))
			}
		}),
		tracing.WithExporterOptions(exporter.WithDestination(dest)),
	)
	if err != nil {
		log.Fatal(err)
	}

	client := openai.NewClient(option.WithBaseURL(fake.OpenAIBaseURL()), option.WithAPIKey(llmtest.OpenAIKey),
		mlflowopenai.RequestOption())
	if _, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Mail alice@example.com")},
	}); err != nil {
		log.Fatal(err)
	}

	if err := p.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	s := dest.Traces()[0].Spans[0]
	fmt.Println(s.Name, s.Attributes["mlflow.spanInputs"])
	// Output:
	// Completions {"messages": [{"content": "Mail <email>", "role": "user"}], "model": "gpt-4o-mini"}
}
