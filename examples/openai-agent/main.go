// Command openai-agent is a small tool-calling agent on the OpenAI Go SDK,
// traced with mlflowtrace-go: the OpenAI client is instrumented with one
// line (mlflowopenai.RequestOption), the tools are traced with tracing.Func,
// and each user question is one MLflow trace:
//
//	openai_agent (AGENT)            the question in, the conversation out
//	├─ Completions (CHAT_MODEL)     the model asks for tools (parallel tool calls)
//	├─ get_weather (TOOL)
//	├─ get_local_time (TOOL)
//	└─ Completions (CHAT_MODEL)     the model answers from the tool results
//
// It talks to any OpenAI-compatible API: OPENAI_BASE_URL and OPENAI_API_KEY
// (and OPENAI_MODEL, default gpt-4o-mini). Traces go wherever tracing.Init
// sends them: with no MLFLOW_* environment to ./mlruns, with
// MLFLOW_TRACKING_URI=http://host:port to that MLflow server.
//
//	OPENAI_API_KEY=sk-... go run ./examples/openai-agent "What's the weather and the time in Paris?"
//
// To run it offline, start the fake OpenAI API of this repository's tests
// (go run ./internal/llmtest/cmd/fakellm) and point OPENAI_BASE_URL at it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	mlflowopenai "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/openai"
	"github.com/mlflowtrace/mlflowtrace-go/examples/internal/travel"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "openai-agent:", err)
		os.Exit(1)
	}
}

// run answers each question (the default one when there are none) in its own
// trace; getenv is os.Getenv in main and a fake in tests.
func run(ctx context.Context, questions []string, out io.Writer, getenv func(string) string) error {
	return travel.Run(ctx, questions, out, getenv, func(context.Context) (travel.Agent, error) {
		opts := []option.RequestOption{mlflowopenai.RequestOption()} // the one line of instrumentation
		if u := getenv("OPENAI_BASE_URL"); u != "" {
			opts = append(opts, option.WithBaseURL(u))
		}
		if k := getenv("OPENAI_API_KEY"); k != "" {
			opts = append(opts, option.WithAPIKey(k))
		}
		model := getenv("OPENAI_MODEL")
		if model == "" {
			model = "gpt-4o-mini"
		}
		a := &agent{client: openai.NewClient(opts...), model: model}
		return a.answer, nil
	})
}

type agent struct {
	client openai.Client
	model  string
}

var toolParams = []openai.ChatCompletionToolUnionParam{
	openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
		Name:        "get_weather",
		Description: openai.String("Current weather of a city"),
		Parameters: openai.FunctionParameters{"type": "object", "required": []string{"city"},
			"properties": map[string]any{"city": map[string]any{"type": "string", "description": "City name"}}},
	}),
	openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
		Name:        "get_local_time",
		Description: openai.String("Local time of a city"),
		Parameters: openai.FunctionParameters{"type": "object", "required": []string{"city"},
			"properties": map[string]any{"city": map[string]any{"type": "string", "description": "City name"}}},
	}),
}

// answer is the traced agent: the root span of each question's trace.
func (a *agent) answer(ctx context.Context, in travel.Conversation) (travel.Conversation, error) {
	return tracing.Func("openai_agent", a.loop, tracing.WithSpanType(tracing.SpanTypeAgent))(ctx, in)
}

// loop asks the model, runs the tools it calls, and asks again until it
// answers (at most 5 rounds).
func (a *agent) loop(ctx context.Context, in travel.Conversation) (travel.Conversation, error) {
	conv := in
	msgs := []openai.ChatCompletionMessageParamUnion{
		openai.SystemMessage("You are a travel assistant. Use the tools to answer."),
	}
	for _, m := range in.Messages {
		msgs = append(msgs, openai.UserMessage(m.Content))
	}
	for round := 0; round < 5; round++ {
		resp, err := a.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: a.model, Messages: msgs, Tools: toolParams,
		})
		if err != nil {
			return conv, err
		}
		if len(resp.Choices) == 0 {
			return conv, errors.New("the model returned no choices")
		}
		msg := resp.Choices[0].Message
		if len(msg.ToolCalls) == 0 {
			conv.Messages = append(conv.Messages, travel.Message{Role: "assistant", Content: msg.Content})
			return conv, nil
		}
		msgs = append(msgs, msg.ToParam())
		am := travel.Message{Role: "assistant"}
		for _, tc := range msg.ToolCalls {
			am.ToolCalls = append(am.ToolCalls, travel.ToolCall{ID: tc.ID, Type: "function",
				Function: travel.FunctionCall{Name: tc.Function.Name, Arguments: tc.Function.Arguments}})
		}
		conv.Messages = append(conv.Messages, am)
		for _, tc := range msg.ToolCalls {
			result := a.callTool(ctx, tc.Function.Name, tc.Function.Arguments)
			msgs = append(msgs, openai.ToolMessage(result, tc.ID))
			conv.Messages = append(conv.Messages, travel.Message{Role: "tool", Content: result, ToolCallID: tc.ID})
		}
	}
	return conv, errors.New("no answer after 5 rounds")
}

// callTool runs a tool; an error becomes the tool's result, so the model can
// react to it.
func (a *agent) callTool(ctx context.Context, name, arguments string) string {
	tool, ok := travel.Tools[name]
	if !ok {
		return `{"error": "unknown tool ` + strings.ReplaceAll(name, `"`, "") + `"}`
	}
	var args travel.CityArgs
	if err := json.Unmarshal([]byte(arguments), &args); err != nil {
		return `{"error": "arguments are not JSON"}`
	}
	res, err := tool(ctx, args)
	if err != nil {
		b, _ := json.Marshal(map[string]string{"error": err.Error()})
		return string(b)
	}
	b, _ := json.Marshal(res)
	return string(b)
}
