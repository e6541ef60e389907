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
	"time"

	"google.golang.org/genai"

	mlflowgenai "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/genai"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

const defaultQuestion = "What's the weather and the local time in Paris?"

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
	provider, err := tracing.Init(ctx, tracing.WithGetenv(getenv))
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = provider.Shutdown(sctx)
	}()

	// The one line of instrumentation: mlflowgenai.NewClient for genai.NewClient.
	client, err := mlflowgenai.NewClient(ctx, &genai.ClientConfig{Backend: genai.BackendGeminiAPI})
	if err != nil {
		return fmt.Errorf("gemini client (set GEMINI_API_KEY): %w", err)
	}
	model := getenv("GEMINI_MODEL")
	if model == "" {
		model = "gemini-2.5-flash"
	}
	a := &agent{client: client, model: model}

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

// Conversation is the agent's input and output: chat messages in the shape
// MLflow's UI shows as a chat (OpenAI's, which MLflow's chat schema uses).
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

// ToolCall is a tool call of an assistant message (Gemini's function calls
// have no ids: the function's name is its id, as in MLflow's Gemini chat
// parsing).
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
	client *genai.Client
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
func (a *agent) answer(ctx context.Context, in Conversation) (Conversation, error) {
	return tracing.Func("gemini_agent", a.loop, tracing.WithSpanType(tracing.SpanTypeAgent))(ctx, in)
}

// loop sends the question in a chat, runs the functions the model calls and
// sends their results, until the model answers (at most 5 rounds).
func (a *agent) loop(ctx context.Context, in Conversation) (Conversation, error) {
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
			conv.Messages = append(conv.Messages, Message{Role: "assistant", Content: resp.Text()})
			return conv, nil
		}
		am := Message{Role: "assistant"}
		for _, c := range calls {
			args, _ := json.Marshal(c.Args)
			am.ToolCalls = append(am.ToolCalls, ToolCall{ID: c.Name, Type: "function", Function: FunctionCall{Name: c.Name, Arguments: string(args)}})
		}
		conv.Messages = append(conv.Messages, am)
		send = send[:0]
		for _, c := range calls {
			result := a.callTool(ctx, c)
			send = append(send, genai.Part{FunctionResponse: &genai.FunctionResponse{ID: c.ID, Name: c.Name, Response: result}})
			b, _ := json.Marshal(result)
			conv.Messages = append(conv.Messages, Message{Role: "tool", Content: string(b), ToolCallID: c.Name})
		}
	}
	return conv, errors.New("no answer after 5 rounds")
}

// callTool runs a function the model called; an error becomes the result,
// so the model can react to it.
func (a *agent) callTool(ctx context.Context, call *genai.FunctionCall) map[string]any {
	tool, ok := tools[call.Name]
	if !ok {
		return map[string]any{"error": "unknown function " + call.Name}
	}
	city, _ := call.Args["city"].(string)
	res, err := tool(ctx, CityArgs{City: city})
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	return res
}
