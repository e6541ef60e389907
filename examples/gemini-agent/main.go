// Command gemini-agent is a small tool-calling agent on Google's Go SDK for
// the Gemini API (google.golang.org/genai), traced with mlflowtrace-go: the
// client is instrumented with one line (mlflowgenai.NewClient instead of
// genai.NewClient), the tools are traced with tracing.Func, and each user
// question is one MLflow trace:
//
//	gemini_agent (AGENT)                  the question in, the conversation out
//	├─ Chat.send_message (CHAT_MODEL)     the question; the model calls tools
//	│  └─ Models.generate_content (LLM)
//	├─ get_weather (TOOL)
//	├─ get_local_time (TOOL)
//	└─ Chat.send_message (CHAT_MODEL)     the tool results; the model answers
//	   └─ Models.generate_content (LLM)
//
// The SDK reads its own environment: GEMINI_API_KEY (or GOOGLE_API_KEY) and
// GOOGLE_GEMINI_BASE_URL (default: Google's Gemini API); GEMINI_MODEL picks
// the model (default gemini-2.5-flash). Traces go wherever tracing.Init
// sends them: with no MLFLOW_* environment to ./mlruns, with
// MLFLOW_TRACKING_URI=http://host:port to that MLflow server.
//
//	GEMINI_API_KEY=... go run ./examples/gemini-agent "What's the weather and the time in Paris?"
//
// To run it offline, start the fake Gemini API of this repository's tests
// (go run ./internal/llmtest/cmd/fakellm: its key is gemini-test-key) and
// point GOOGLE_GEMINI_BASE_URL at it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"google.golang.org/genai"

	mlflowgenai "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/genai"
	"github.com/mlflowtrace/mlflowtrace-go/examples/internal/travel"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "gemini-agent:", err)
		os.Exit(1)
	}
}

// run answers each question (the default one when there are none) in its own
// trace; getenv is os.Getenv in main and a fake in tests (the genai SDK reads
// its variables from the process environment itself).
func run(ctx context.Context, questions []string, out io.Writer, getenv func(string) string) error {
	return travel.Run(ctx, questions, out, getenv, func(ctx context.Context) (travel.Agent, error) {
		// The one line of instrumentation: mlflowgenai.NewClient for genai.NewClient.
		client, err := mlflowgenai.NewClient(ctx, &genai.ClientConfig{Backend: genai.BackendGeminiAPI})
		if err != nil {
			return nil, fmt.Errorf("gemini client (set GEMINI_API_KEY): %w", err)
		}
		model := getenv("GEMINI_MODEL")
		if model == "" {
			model = "gemini-2.5-flash"
		}
		a := &agent{client: client, model: model}
		return a.answer, nil
	})
}

type agent struct {
	client *genai.Client
	model  string
}

func cityFunction(name, description string) *genai.FunctionDeclaration {
	return &genai.FunctionDeclaration{
		Name: name, Description: description,
		Parameters: &genai.Schema{Type: genai.TypeObject, Required: []string{"city"},
			Properties: map[string]*genai.Schema{"city": {Type: genai.TypeString, Description: "City name"}}},
	}
}

var chatConfig = &genai.GenerateContentConfig{
	SystemInstruction: genai.NewContentFromText("You are a travel assistant. Use the tools to answer.", genai.RoleUser),
	Tools: []*genai.Tool{{FunctionDeclarations: []*genai.FunctionDeclaration{
		cityFunction("get_weather", "Current weather of a city"),
		cityFunction("get_local_time", "Local time of a city"),
	}}},
}

// answer is the traced agent: the root span of each question's trace.
func (a *agent) answer(ctx context.Context, in travel.Conversation) (travel.Conversation, error) {
	return tracing.Func("gemini_agent", a.loop, tracing.WithSpanType(tracing.SpanTypeAgent))(ctx, in)
}

// loop sends the question in a chat, runs the functions the model calls and
// sends their results, until the model answers (at most 5 rounds).
func (a *agent) loop(ctx context.Context, in travel.Conversation) (travel.Conversation, error) {
	conv := in
	chat, err := a.client.Chats.Create(ctx, a.model, chatConfig, nil)
	if err != nil {
		return conv, err
	}
	var send []genai.Part
	for _, m := range in.Messages {
		send = append(send, genai.Part{Text: m.Content})
	}
	for round := 0; round < 5; round++ {
		resp, err := chat.SendMessage(ctx, send...)
		if err != nil {
			return conv, err
		}
		calls := resp.FunctionCalls()
		if len(calls) == 0 {
			conv.Messages = append(conv.Messages, travel.Message{Role: "assistant", Content: resp.Text()})
			return conv, nil
		}
		am := travel.Message{Role: "assistant"}
		for _, c := range calls {
			args, _ := json.Marshal(c.Args)
			am.ToolCalls = append(am.ToolCalls, travel.ToolCall{ID: c.Name, Type: "function", Function: travel.FunctionCall{Name: c.Name, Arguments: string(args)}})
		}
		conv.Messages = append(conv.Messages, am)
		send = send[:0]
		for _, c := range calls {
			result := a.callTool(ctx, c)
			send = append(send, genai.Part{FunctionResponse: &genai.FunctionResponse{ID: c.ID, Name: c.Name, Response: result}})
			b, _ := json.Marshal(result)
			conv.Messages = append(conv.Messages, travel.Message{Role: "tool", Content: string(b), ToolCallID: c.Name})
		}
	}
	return conv, errors.New("no answer after 5 rounds")
}

// callTool runs a function the model called; an error becomes the result,
// so the model can react to it.
func (a *agent) callTool(ctx context.Context, call *genai.FunctionCall) map[string]any {
	tool, ok := travel.Tools[call.Name]
	if !ok {
		return map[string]any{"error": "unknown function " + call.Name}
	}
	city, _ := call.Args["city"].(string)
	res, err := tool(ctx, travel.CityArgs{City: city})
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	return res
}
