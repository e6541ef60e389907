package main

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/responsesagent"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// maxTurns bounds the model/tool loop of one request.
const maxTurns = 5

// Agent is a tool-calling agent: it asks the chat model, runs the tools the
// model calls, gives it their results, until the model answers in text.
type Agent struct{ model Model }

// Stream answers req as a stream of ResponsesAgent events: one
// function_call and one function_call_output item per tool call, then the
// answer as text deltas and its message item.
func (a *Agent) Stream(ctx context.Context, req *responsesagent.Request) iter.Seq2[responsesagent.StreamEvent, error] {
	return func(yield func(responsesagent.StreamEvent, error) bool) {
		msgs := responsesagent.ToChatCompletions(req.Input)
		for turn := 0; turn < maxTurns; turn++ {
			reply, err := callModel(ctx, a.model, msgs)
			if err != nil {
				yield(responsesagent.StreamEvent{}, err)
				return
			}
			if len(reply.ToolCalls) == 0 {
				id := fmt.Sprintf("msg_%s_%d", reply.ID, turn)
				for _, w := range splitWords(reply.Content) {
					if !yield(responsesagent.TextDelta(w, id), nil) {
						return
					}
				}
				yield(responsesagent.ItemDone(responsesagent.TextItem(reply.Content, id)), nil)
				return
			}
			msgs = append(msgs, responsesagent.ChatMessage{Role: "assistant", Content: reply.Content, ToolCalls: reply.ToolCalls})
			for _, tc := range reply.ToolCalls {
				call := responsesagent.FunctionCallItem("fc_"+tc.ID, tc.ID, tc.Function.Name, tc.Function.Arguments)
				if !yield(responsesagent.ItemDone(call), nil) {
					return
				}
				out, err := runTool(ctx, tc.Function.Name, tc.Function.Arguments)
				if err != nil {
					out = "error: " + err.Error() // the model sees the failure and can recover
				}
				if !yield(responsesagent.ItemDone(responsesagent.FunctionCallOutputItem(tc.ID, out)), nil) {
					return
				}
				msgs = append(msgs, responsesagent.ChatMessage{Role: "tool", Content: out, ToolCallID: tc.ID})
			}
		}
		yield(responsesagent.StreamEvent{}, fmt.Errorf("no answer after %d model calls", maxTurns))
	}
}

// splitWords cuts text into word-sized deltas (keeping the spaces).
func splitWords(text string) []string {
	var out []string
	for text != "" {
		i := strings.IndexByte(text[1:], ' ')
		if i < 0 {
			out = append(out, text)
			break
		}
		out = append(out, text[:i+1])
		text = text[i+1:]
	}
	return out
}

// tools are the tools offered to the model (OpenAI function tools).
var tools = []tracing.ChatTool{
	{Type: "function", Function: tracing.ChatToolFunction{
		Name: "get_weather", Description: "Current weather of a city",
		Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`),
	}},
	{Type: "function", Function: tracing.ChatToolFunction{
		Name: "convert_temperature", Description: "Convert a Celsius temperature to Fahrenheit",
		Parameters: json.RawMessage(`{"type":"object","properties":{"celsius":{"type":"number"}},"required":["celsius"]}`),
	}},
}

type weatherArgs struct {
	City string `json:"city"`
}

type convertArgs struct {
	Celsius float64 `json:"celsius"`
}

var (
	getWeather = tracing.Func("get_weather", func(ctx context.Context, a weatherArgs) (string, error) {
		w, ok := weather[strings.ToLower(a.City)]
		if !ok {
			return "", fmt.Errorf("no weather for %q", a.City)
		}
		return a.City + ": " + w, nil
	}, tracing.WithSpanType(tracing.SpanTypeTool))
	convertTemperature = tracing.Func("convert_temperature", func(ctx context.Context, a convertArgs) (string, error) {
		return fmt.Sprintf("%.1fF", a.Celsius*9/5+32), nil
	}, tracing.WithSpanType(tracing.SpanTypeTool))
)

var weather = map[string]string{
	"paris": "18C, sunny", "rome": "24C, clear", "london": "12C, rain", "tokyo": "21C, cloudy",
}

// runTool runs one tool call (a TOOL span each).
func runTool(ctx context.Context, name, arguments string) (string, error) {
	switch name {
	case "get_weather":
		var a weatherArgs
		if err := json.Unmarshal([]byte(arguments), &a); err != nil {
			return "", fmt.Errorf("bad arguments: %w", err)
		}
		return getWeather(ctx, a)
	case "convert_temperature":
		var a convertArgs
		if err := json.Unmarshal([]byte(arguments), &a); err != nil {
			return "", fmt.Errorf("bad arguments: %w", err)
		}
		return convertTemperature(ctx, a)
	}
	return "", fmt.Errorf("unknown tool %q", name)
}
