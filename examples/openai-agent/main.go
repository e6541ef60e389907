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
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	mlflowopenai "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/openai"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

const defaultQuestion = "What's the weather and the local time in Paris?"

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "openai-agent:", err)
		os.Exit(1)
	}
}

// run answers each question (the default one when there are none) in its own
// trace; getenv is os.Getenv in main and a fake in tests.
func run(ctx context.Context, questions []string, out io.Writer, getenv func(string) string) error {
	provider, err := tracing.Init(ctx, tracing.WithGetenv(getenv))
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = provider.Shutdown(sctx)
	}()

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

	if len(questions) == 0 {
		questions = []string{defaultQuestion}
	}
	for _, q := range questions {
		conv, err := a.answer(ctx, Conversation{Messages: []Message{{Role: "user", Content: q}}})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Q: %s\nA: %s\nTrace %s\n\n", q, conv.Messages[len(conv.Messages)-1].Content, tracing.LastTraceID())
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := provider.Shutdown(sctx); err != nil {
		return fmt.Errorf("writing the traces: %w", err)
	}
	return nil
}

// Conversation is the agent's input and output: chat messages in the OpenAI
// shape, so MLflow's UI shows the agent's span as a chat.
type Conversation struct {
	Messages []Message `json:"messages"`
}

// Message is one chat message.
type Message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// ToolCall is a tool call of an assistant message.
type ToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function FunctionCall `json:"function"`
}

// FunctionCall names the function and its JSON arguments.
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type agent struct {
	client openai.Client
	model  string
}

// CityArgs are the arguments of both tools.
type CityArgs struct {
	City string `json:"city"`
}

// The tools, traced with tracing.Func: each call is a TOOL span with the
// arguments as inputs and the result as outputs.
var (
	getWeather = tracing.Func("get_weather", func(_ context.Context, a CityArgs) (map[string]any, error) {
		if a.City == "" {
			return nil, errors.New("no city given")
		}
		return map[string]any{"city": a.City, "forecast": "light rain", "temperature_c": 14}, nil
	}, tracing.WithSpanType(tracing.SpanTypeTool))

	getLocalTime = tracing.Func("get_local_time", func(_ context.Context, a CityArgs) (map[string]any, error) {
		if a.City == "" {
			return nil, errors.New("no city given")
		}
		return map[string]any{"city": a.City, "local_time": "09:30", "timezone": "Europe/Paris"}, nil
	}, tracing.WithSpanType(tracing.SpanTypeTool))

	tools = map[string]func(context.Context, CityArgs) (map[string]any, error){
		"get_weather":    getWeather,
		"get_local_time": getLocalTime,
	}
)

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
func (a *agent) answer(ctx context.Context, in Conversation) (Conversation, error) {
	return tracing.Func("openai_agent", a.loop, tracing.WithSpanType(tracing.SpanTypeAgent))(ctx, in)
}

// loop asks the model, runs the tools it calls, and asks again until it
// answers (at most 5 rounds).
func (a *agent) loop(ctx context.Context, in Conversation) (Conversation, error) {
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
			conv.Messages = append(conv.Messages, Message{Role: "assistant", Content: msg.Content})
			return conv, nil
		}
		msgs = append(msgs, msg.ToParam())
		am := Message{Role: "assistant"}
		for _, tc := range msg.ToolCalls {
			am.ToolCalls = append(am.ToolCalls, ToolCall{ID: tc.ID, Type: "function",
				Function: FunctionCall{Name: tc.Function.Name, Arguments: tc.Function.Arguments}})
		}
		conv.Messages = append(conv.Messages, am)
		for _, tc := range msg.ToolCalls {
			result := a.callTool(ctx, tc.Function.Name, tc.Function.Arguments)
			msgs = append(msgs, openai.ToolMessage(result, tc.ID))
			conv.Messages = append(conv.Messages, Message{Role: "tool", Content: result, ToolCallID: tc.ID})
		}
	}
	return conv, errors.New("no answer after 5 rounds")
}

// callTool runs a tool; an error becomes the tool's result, so the model can
// react to it.
func (a *agent) callTool(ctx context.Context, name, arguments string) string {
	tool, ok := tools[name]
	if !ok {
		return `{"error": "unknown tool ` + strings.ReplaceAll(name, `"`, "") + `"}`
	}
	var args CityArgs
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
