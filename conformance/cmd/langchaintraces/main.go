// Command langchaintraces makes one MLflow trace per langchaingo workflow:
// langchaingo's OpenAI client (llms/openai) reporting to the handler of
// package autoinstrument/langchaingo, against the fake OpenAI API of
// internal/llmtest (LLMTEST_URL: the fake's base URL).
// conformance/parity/langchain_workflow.py runs the same workflows with
// Python LangChain (ChatOpenAI) under mlflow.langchain.autolog;
// conformance/test_langchain_parity.py compares the traces.
//
// Usage: langchaintraces [scenario ...] (all when none). The destination
// comes from the environment (MLFLOW_TRACKING_URI; unset: ./mlruns). It
// prints one JSON line {"scenario": ..., "trace_id": ...} per scenario, after
// everything has been written.
package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"
	"github.com/tmc/langchaingo/prompts"
	"github.com/tmc/langchaingo/tools"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/langchaingo"
	"github.com/mlflowtrace/mlflowtrace-go/conformance/internal/scenario"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

const (
	openAIKey     = "sk-test-openai"
	system        = "You are a travel assistant."
	question      = "What's the weather in Paris?"
	chainQuestion = "What is the weather in Paris?"
	temperature   = 0.2
)

type env struct {
	h   *langchaingo.Handler
	llm *openai.LLM
}

// scenarios: each makes its own trace.
var scenarios = []scenario.Scenario[*env]{
	{Name: "chat", Run: chat},
	{Name: "chain", Run: chain},
	{Name: "tools", Run: toolTurn},
}

// chat is one chat model call: a system and a user message.
func chat(ctx context.Context, e *env) error {
	_, err := e.llm.GenerateContent(ctx, []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, system),
		llms.TextParts(llms.ChatMessageTypeHuman, question),
	}, llms.WithTemperature(temperature))
	return err
}

// chain is a prompt template feeding the model (chains.LLMChain).
func chain(ctx context.Context, e *env) error {
	prompt := prompts.NewPromptTemplate("Answer briefly: {{.question}}", []string{"question"})
	c := chains.NewLLMChain(e.llm, prompt, chains.WithCallback(e.h))
	_, err := chains.Call(ctx, c, map[string]any{"question": chainQuestion}, chains.WithTemperature(temperature))
	return err
}

// weatherTool is get_weather; its input is the model's JSON arguments.
type weatherTool struct{}

var _ tools.Tool = weatherTool{}

func (weatherTool) Name() string        { return "get_weather" }
func (weatherTool) Description() string { return "Current weather of a city." }
func (weatherTool) Call(_ context.Context, input string) (string, error) {
	var args struct {
		City string `json:"city"`
	}
	if err := json.Unmarshal([]byte(input), &args); err != nil {
		return "", fmt.Errorf("get_weather: bad arguments: %w", err)
	}
	return "18°C and sunny in " + args.City, nil
}

// The definition LangChain's @tool derives from get_weather's signature.
var weatherDef = llms.Tool{Type: "function", Function: &llms.FunctionDefinition{
	Name: "get_weather", Description: "Current weather of a city.",
	Parameters: map[string]any{
		"properties": map[string]any{"city": map[string]any{"type": "string"}},
		"required":   []string{"city"},
		"type":       "object",
	},
}}

// toolTurn: the model calls get_weather, the tool runs (a TOOL span through
// Handler.WrapTools), the model answers with its result; inside one traced
// function.
func toolTurn(ctx context.Context, e *env) error {
	tool := e.h.WrapTools(weatherTool{})[0]
	agent := tracing.Func("weather_agent", func(ctx context.Context, q string) (string, error) {
		msgs := []llms.MessageContent{
			llms.TextParts(llms.ChatMessageTypeSystem, system),
			llms.TextParts(llms.ChatMessageTypeHuman, q),
		}
		opts := []llms.CallOption{llms.WithTemperature(temperature), llms.WithTools([]llms.Tool{weatherDef})}
		res, err := e.llm.GenerateContent(ctx, msgs, opts...)
		if err != nil {
			return "", err
		}
		ai := llms.MessageContent{Role: llms.ChatMessageTypeAI}
		for _, tc := range res.Choices[0].ToolCalls {
			ai.Parts = append(ai.Parts, tc)
		}
		msgs = append(msgs, ai)
		for _, tc := range res.Choices[0].ToolCalls {
			out, err := tool.Call(ctx, tc.FunctionCall.Arguments)
			if err != nil {
				return "", err
			}
			msgs = append(msgs, llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{
				llms.ToolCallResponse{ToolCallID: tc.ID, Name: tc.FunctionCall.Name, Content: out},
			}})
		}
		res, err = e.llm.GenerateContent(ctx, msgs, opts...)
		if err != nil {
			return "", err
		}
		return res.Choices[0].Content, nil
	}, tracing.WithSpanType(tracing.SpanTypeAgent), tracing.WithInputName("question"))
	_, err := agent(ctx, question)
	return err
}

func main() {
	scenario.Main("langchaintraces", scenarios, func(_ context.Context, base string) (*env, error) {
		h := langchaingo.NewHandler(langchaingo.WithModel("gpt-4o-mini"), langchaingo.WithProvider("openai"))
		llm, err := openai.New(openai.WithBaseURL(base+"/v1"), openai.WithToken(openAIKey),
			openai.WithModel("gpt-4o-mini"), openai.WithCallback(h))
		if err != nil {
			return nil, err
		}
		return &env{h: h, llm: llm}, nil
	})
}
