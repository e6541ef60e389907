package langchaingo_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/llms/openai"
	"github.com/tmc/langchaingo/prompts"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/langchaingo"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// An LLMChain on langchaingo's OpenAI client, traced with one Handler given
// to both the model and the chain.
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

	// A fake OpenAI API stands in for api.openai.com, its answer scripted.
	fake := llmtest.NewServer()
	defer fake.Close()
	fake.Script(llmtest.Reply{Text: "Paris."})

	h := langchaingo.NewHandler(langchaingo.WithModel("gpt-4o-mini"), langchaingo.WithProvider("openai"))
	llm, err := openai.New(openai.WithBaseURL(fake.URL+"/v1"), openai.WithToken(llmtest.OpenAIKey),
		openai.WithModel("gpt-4o-mini"), openai.WithCallback(h))
	if err != nil {
		panic(err)
	}
	prompt := prompts.NewPromptTemplate("Answer briefly: {{.question}}", []string{"question"})
	chain := chains.NewLLMChain(llm, prompt, chains.WithCallback(h))
	answer, err := chains.Run(ctx, chain, "What is the capital of France?")
	if err != nil {
		panic(err)
	}
	fmt.Println(answer)

	if err := p.Shutdown(ctx); err != nil { // writes the buffered traces
		panic(err)
	}
	for _, s := range rec.Traces()[0].Spans {
		fmt.Println(strings.TrimSpace(s.Name + " " + s.Attributes["mlflow.spanType"] + " " + s.Attributes["mlflow.chat.tokenUsage"]))
	}
	// Output:
	// Paris.
	// chain "CHAIN"
	// chat model "CHAT_MODEL" {"input_tokens": 19, "output_tokens": 2, "total_tokens": 21, "cache_read_input_tokens": 0}
}
