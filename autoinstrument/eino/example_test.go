package eino_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/cloudwego/eino-ext/components/model/openai"
	"github.com/cloudwego/eino/callbacks"
	"github.com/cloudwego/eino/components/prompt"
	"github.com/cloudwego/eino/compose"
	"github.com/cloudwego/eino/schema"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/eino"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// A chain of a chat template and eino-ext's OpenAI model, traced by a
// handler installed for every Eino run.
func Example() {
	ctx := context.Background()
	// Traces go to an in-memory destination here; by default tracing.Init
	// writes ./mlruns, or sends them to MLFLOW_TRACKING_URI.
	rec := exportertest.NewRecorder()
	p, err := tracing.Init(ctx, tracing.WithExporterOptions(exporter.WithDestination(rec)),
		tracing.WithoutGlobalTracerProvider())
	if err != nil {
		panic(err)
	}

	callbacks.AppendGlobalHandlers(eino.NewHandler()) // the one line
	defer callbacks.InitCallbackHandlers(nil)

	// A fake OpenAI API stands in for api.openai.com, its answer scripted.
	fake := llmtest.NewServer()
	defer fake.Close()
	fake.Script(llmtest.Reply{Text: "Paris."})
	model, err := openai.NewChatModel(ctx, &openai.ChatModelConfig{
		Model: "gpt-4o-mini", APIKey: llmtest.OpenAIKey, BaseURL: fake.URL + "/v1"})
	if err != nil {
		panic(err)
	}
	chain := compose.NewChain[map[string]any, *schema.Message]()
	chain.AppendChatTemplate(prompt.FromMessages(schema.FString, schema.UserMessage("Answer briefly: {question}"))).
		AppendChatModel(model)
	r, err := chain.Compile(ctx, compose.WithGraphName("qa"))
	if err != nil {
		panic(err)
	}
	answer, err := r.Invoke(ctx, map[string]any{"question": "What is the capital of France?"})
	if err != nil {
		panic(err)
	}
	fmt.Println(answer.Content)

	if err := p.Shutdown(ctx); err != nil { // writes the buffered traces
		panic(err)
	}
	for _, s := range rec.Traces()[0].Spans {
		fmt.Println(strings.TrimSpace(strings.Join([]string{s.Name, s.Attributes["mlflow.spanType"],
			s.Attributes["mlflow.llm.model"], s.Attributes["mlflow.chat.tokenUsage"]}, " ")))
	}
	// Output:
	// Paris.
	// qa "CHAIN"
	// DefaultChatTemplate "CHAIN"
	// OpenAIChatModel "CHAT_MODEL" "gpt-4o-mini" {"input_tokens": 19, "output_tokens": 2, "total_tokens": 21}
}
