// Command einotraces makes one MLflow trace with Eino, instrumented with
// autoinstrument/eino, against the fake OpenAI API of internal/llmtest
// (LLMTEST_URL: the fake's base URL): "einotraces agent" (the default) runs
// an Eino ReAct agent (flow/agent/react on eino-ext's OpenAI model with a
// weather tool); "einotraces chat" calls the model alone with a history that
// holds a tool call and its result. conformance/test_llm_browser.py shows
// both in MLflow's UI.
//
// The destination comes from the environment (MLFLOW_TRACKING_URI; unset:
// ./mlruns). It prints the JSON line {"trace_id": ...} after the trace has
// been written.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/cloudwego/eino-ext/components/model/openai"
	"github.com/cloudwego/eino/callbacks"
	"github.com/cloudwego/eino/components/tool"
	"github.com/cloudwego/eino/components/tool/utils"
	"github.com/cloudwego/eino/compose"
	"github.com/cloudwego/eino/flow/agent/react"
	"github.com/cloudwego/eino/schema"

	mlfloweino "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/eino"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
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
		fmt.Fprintln(os.Stderr, "einotraces:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	base := os.Getenv("LLMTEST_URL")
	if base == "" {
		return fmt.Errorf("LLMTEST_URL is not set")
	}
	p, err := tracing.Init(ctx)
	if err != nil {
		return err
	}
	callbacks.AppendGlobalHandlers(mlfloweino.NewHandler())

	model, err := openai.NewChatModel(ctx, &openai.ChatModelConfig{Model: "gpt-4o-mini", APIKey: openAIKey, BaseURL: base + "/v1"})
	if err != nil {
		return err
	}
	weather, err := utils.InferTool("get_weather", "Current weather of a city", func(_ context.Context, in cityInput) (string, error) {
		return "18°C and sunny in " + in.City, nil
	})
	if err != nil {
		return err
	}
	if len(os.Args) > 1 && os.Args[1] == "chat" {
		info, err := weather.Info(ctx)
		if err != nil {
			return err
		}
		m, err := model.WithTools([]*schema.ToolInfo{info})
		if err != nil {
			return err
		}
		call := schema.ToolCall{ID: "call_1", Type: "function", Function: schema.FunctionCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}}
		out, err := m.Generate(ctx, []*schema.Message{
			schema.SystemMessage("You are a travel assistant."), schema.UserMessage(question),
			schema.AssistantMessage("", []schema.ToolCall{call}), schema.ToolMessage("18°C and sunny in Paris", "call_1"),
		})
		if err != nil {
			return err
		}
		return finish(ctx, p, out.Content)
	}
	agent, err := react.NewAgent(ctx, &react.AgentConfig{
		ToolCallingModel: model,
		ToolsConfig:      compose.ToolsNodeConfig{Tools: []tool.BaseTool{weather}},
		GraphName:        "weather_agent",
	})
	if err != nil {
		return err
	}
	out, err := agent.Generate(ctx, []*schema.Message{schema.SystemMessage("You are a travel assistant."), schema.UserMessage(question)})
	if err != nil {
		return err
	}
	return finish(ctx, p, out.Content)
}

// finish prints the answer, writes the trace and prints its id.
func finish(ctx context.Context, p *tracing.Provider, answer string) error {
	fmt.Println(answer)
	if err := p.Shutdown(ctx); err != nil {
		return err
	}
	fmt.Printf("{\"trace_id\": %q}\n", tracing.LastTraceID())
	return nil
}
