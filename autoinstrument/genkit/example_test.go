package genkit_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/firebase/genkit/go/ai"
	"github.com/firebase/genkit/go/genkit"
	oai "github.com/firebase/genkit/go/plugins/compat_oai/openai"
	"github.com/openai/openai-go/option"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// A Genkit flow on Genkit's OpenAI plugin, traced by initialising tracing
// before Genkit.
func Example() {
	ctx := context.Background()
	// Traces go to an in-memory destination here; by default tracing.Init
	// writes ./mlruns, or sends them to MLFLOW_TRACKING_URI.
	rec := exportertest.NewRecorder()
	p, err := tracing.Init(ctx, tracing.WithExporterOptions(exporter.WithDestination(rec))) // the one line
	if err != nil {
		panic(err)
	}

	// A fake OpenAI API stands in for api.openai.com, its answer scripted.
	fake := llmtest.NewServer()
	defer fake.Close()
	fake.Script(llmtest.Reply{Text: "Paris."})

	// genkit.Init watches for SIGINT/SIGTERM until its context is done.
	gctx, stop := context.WithCancel(ctx)
	defer stop()
	g := genkit.Init(gctx, genkit.WithPlugins(&oai.OpenAI{APIKey: llmtest.OpenAIKey,
		Opts: []option.RequestOption{option.WithBaseURL(fake.URL + "/v1")}}))
	capital := genkit.DefineFlow(g, "capitalFlow", func(ctx context.Context, country string) (string, error) {
		return genkit.GenerateText(ctx, g, ai.WithModelName("openai/gpt-4o-mini"),
			ai.WithPrompt("What is the capital of %s? Answer briefly.", country))
	})
	answer, err := capital.Run(ctx, "France")
	if err != nil {
		panic(err)
	}
	fmt.Println(answer)

	if err := p.Shutdown(ctx); err != nil { // writes the buffered traces
		panic(err)
	}
	for _, s := range rec.Traces()[0].Spans {
		fmt.Println(strings.TrimSpace(strings.Join([]string{s.Name, s.Attributes["mlflow.spanType"],
			s.Attributes["mlflow.llm.provider"], s.Attributes["mlflow.chat.tokenUsage"]}, " ")))
	}
	// Output:
	// Paris.
	// capitalFlow "CHAIN"
	// generate "CHAIN"
	// openai/gpt-4o-mini "CHAT_MODEL" "openai" {"input_tokens": 19, "output_tokens": 2, "total_tokens": 21}
}
