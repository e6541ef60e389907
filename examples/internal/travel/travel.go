// Package travel is what the tool-calling agent examples share: the
// conversation they record as their AGENT span's inputs and outputs, the two
// traced tools (get_weather, get_local_time), and the loop that answers each
// question in its own trace. Each example keeps its model client and agent
// loop, the parts that show an integration.
package travel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// DefaultQuestion is asked when the command line has none.
const DefaultQuestion = "What's the weather and the local time in Paris?"

// Conversation is an agent's input and output: chat messages in OpenAI's
// shape (MLflow's chat schema), so MLflow's UI shows the agent's span as a
// chat.
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

	// Tools are the tools by name.
	Tools = map[string]func(context.Context, CityArgs) (map[string]any, error){
		"get_weather":    getWeather,
		"get_local_time": getLocalTime,
	}
)

// Agent answers one question's conversation (the traced agent, the root
// span of the question's trace).
type Agent func(context.Context, Conversation) (Conversation, error)

// Run initialises tracing from getenv's environment, builds the agent with
// newAgent, answers each question (DefaultQuestion when there are none) in
// its own trace, printing the answer and the trace id to out, and shuts
// tracing down so that every trace is written.
func Run(ctx context.Context, questions []string, out io.Writer, getenv func(string) string, newAgent func(context.Context) (Agent, error)) error {
	provider, err := tracing.Init(ctx, tracing.WithGetenv(getenv))
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = provider.Shutdown(sctx)
	}()
	answer, err := newAgent(ctx)
	if err != nil {
		return err
	}
	if len(questions) == 0 {
		questions = []string{DefaultQuestion}
	}
	for _, q := range questions {
		conv, err := answer(ctx, Conversation{Messages: []Message{{Role: "user", Content: q}}})
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
