// Command genkittraces makes one MLflow trace with Genkit, traced by
// tracing.Init before genkit.Init, against the fake OpenAI API of
// internal/llmtest (LLMTEST_URL: the fake's base URL): "genkittraces agent"
// (the default) runs a flow that generates with a weather tool on Genkit's
// OpenAI plugin; "genkittraces chat" calls the model action alone with a
// history that holds a tool call and its result.
// conformance/test_llm_browser.py shows both in MLflow's UI.
//
// The destination comes from the environment (MLFLOW_TRACKING_URI; unset:
// ./mlruns). It prints the JSON line {"trace_id": ...} after the trace has
// been written.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/firebase/genkit/go/ai"
	"github.com/firebase/genkit/go/genkit"
	oai "github.com/firebase/genkit/go/plugins/compat_oai/openai"
	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/genkit/internal/rootspan"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
	"github.com/openai/openai-go/option"
)

const (
	openAIKey = "sk-test-openai"
	question  = "What's the weather in Paris?"
)

type cityInput struct {
	City string `json:"city" jsonschema:"description=City name"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "genkittraces:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := context.WithCancel(context.Background())
	defer stop() // genkit.Init watches for signals until ctx is done
	base := os.Getenv("LLMTEST_URL")
	if base == "" {
		return fmt.Errorf("LLMTEST_URL is not set")
	}
	roots := &rootspan.Recorder{}
	p, err := tracing.Init(ctx, tracing.WithSpanProcessor(roots))
	if err != nil {
		return err
	}
	g := genkit.Init(ctx, genkit.WithPlugins(&oai.OpenAI{APIKey: openAIKey,
		Opts: []option.RequestOption{option.WithBaseURL(base + "/v1")}}))
	weather := genkit.DefineTool(g, "get_weather", "Current weather of a city",
		func(_ *ai.ToolContext, in cityInput) (string, error) { return "18°C and sunny in " + in.City, nil })

	var answer string
	if len(os.Args) > 1 && os.Args[1] == "chat" {
		m := genkit.LookupModel(g, "openai/gpt-4o-mini")
		if m == nil {
			return fmt.Errorf("model openai/gpt-4o-mini not found")
		}
		call := &ai.ToolRequest{Name: "get_weather", Ref: "call_1", Input: map[string]any{"city": "Paris"}}
		resp, err := m.Generate(ctx, &ai.ModelRequest{
			Messages: []*ai.Message{
				ai.NewSystemTextMessage("You are a travel assistant."), ai.NewUserTextMessage(question),
				ai.NewModelMessage(ai.NewToolRequestPart(call)),
				ai.NewMessage(ai.RoleTool, nil, ai.NewToolResponsePart(&ai.ToolResponse{Name: "get_weather", Ref: "call_1", Output: "18°C and sunny in Paris"})),
			},
			Tools: []*ai.ToolDefinition{weather.Definition()},
		}, nil)
		if err != nil {
			return err
		}
		answer = resp.Text()
	} else {
		flow := genkit.DefineFlow(g, "weatherFlow", func(ctx context.Context, q string) (string, error) {
			resp, err := genkit.Generate(ctx, g, ai.WithModelName("openai/gpt-4o-mini"),
				ai.WithSystem("You are a travel assistant."), ai.WithPrompt(q), ai.WithTools(weather))
			if err != nil {
				return "", err
			}
			return resp.Text(), nil
		})
		if answer, err = flow.Run(ctx, question); err != nil {
			return err
		}
	}
	fmt.Println(answer)
	if err := p.Shutdown(ctx); err != nil {
		return err
	}
	fmt.Printf("{\"trace_id\": %q}\n", roots.TraceID())
	return nil
}
