package langchaingo_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/tmc/langchaingo/llms"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/langchaingo"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
)

// weatherTool is the definition LangChain's @tool derives for
// get_weather(city: str).
var weatherTool = llms.Tool{Type: "function", Function: &llms.FunctionDefinition{
	Name: "get_weather", Description: "Current weather of a city.",
	Parameters: map[string]any{
		"properties": map[string]any{"city": map[string]any{"type": "string"}},
		"required":   []string{"city"},
		"type":       "object",
	},
}}

// TestToolCallTurn: a model call that returns a tool call, then the call
// with the tool's result, recorded as MLflow's LangChain tracer records them
// (conformance/test_langchain_parity.py compares with it): tool-call
// arguments as json.dumps of the parsed arguments, content null next to tool
// calls, the tool result a "tool" message with its call id, finish_reason null.
func TestToolCallTurn(t *testing.T) {
	f := setup(t)
	h := langchaingo.NewHandler()
	llm := newLLM(t, llmtest.Start(t), h)
	ctx := context.Background()
	msgs := []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "What's the weather in Paris?")}
	res, err := llm.GenerateContent(ctx, msgs, llms.WithTools([]llms.Tool{weatherTool}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Choices) != 1 || len(res.Choices[0].ToolCalls) != 1 {
		t.Fatalf("want one tool call, have %+v", res.Choices)
	}
	tc := res.Choices[0].ToolCalls[0]
	if tc.FunctionCall.Arguments != `{"city":"Paris"}` {
		t.Fatalf("the fake's arguments: %s", tc.FunctionCall.Arguments)
	}
	msgs = append(msgs,
		llms.MessageContent{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{tc}},
		llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{
			llms.ToolCallResponse{ToolCallID: tc.ID, Name: "get_weather", Content: "18°C"}}})
	if _, err := llm.GenerateContent(ctx, msgs, llms.WithTools([]llms.Tool{weatherTool})); err != nil {
		t.Fatal(err)
	}
	trs := f.Traces(t, 2)
	call := map[string]any{"id": tc.ID, "type": "function",
		"function": map[string]any{"name": "get_weather", "arguments": `{"city": "Paris"}`}}
	assistant := map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{call}, "refusal": nil, "tool_call_id": nil}
	first := one(t, trs[0], "chat model")
	if got, want := attr(first, "mlflow.spanOutputs"), map[string]any{"choices": []any{
		map[string]any{"message": assistant, "finish_reason": nil}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("first call outputs\n got %#v\nwant %#v", got, want)
	}
	second := one(t, trs[1], "chat model")
	in, _ := attr(second, "mlflow.spanInputs").(map[string]any)
	ms, _ := in["messages"].([]any)
	if len(ms) != 3 {
		t.Fatalf("second call inputs %#v", in)
	}
	tool := map[string]any{"role": "tool", "content": "18°C", "tool_calls": nil, "refusal": nil, "tool_call_id": tc.ID}
	if !reflect.DeepEqual(ms[1], assistant) || !reflect.DeepEqual(ms[2], tool) {
		t.Errorf("history\n got %#v\n     %#v\nwant %#v\n     %#v", ms[1], ms[2], assistant, tool)
	}
}

// TestRecordedShapes drives the model callbacks directly with what
// langchaingo's model clients report.
func TestRecordedShapes(t *testing.T) {
	call := func(args string) llms.ToolCall {
		return llms.ToolCall{ID: "call_1", Type: "function", FunctionCall: &llms.FunctionCall{Name: "f", Arguments: args}}
	}
	tests := []struct {
		name      string
		choice    llms.ContentChoice
		wantUsage any // decoded mlflow.chat.tokenUsage; nil: absent
		wantArgs  string
	}{
		{"openai usage", llms.ContentChoice{Content: "hi", GenerationInfo: map[string]any{
			"PromptTokens": 10, "CompletionTokens": 2, "TotalTokens": 12, "PromptCachedTokens": 0}},
			map[string]any{"input_tokens": 10.0, "output_tokens": 2.0, "total_tokens": 12.0, "cache_read_input_tokens": 0.0}, ""},
		{"anthropic usage", llms.ContentChoice{Content: "hi", GenerationInfo: map[string]any{
			"InputTokens": 10, "OutputTokens": 2, "CacheCreationInputTokens": 0, "CacheReadInputTokens": 5}},
			map[string]any{"input_tokens": 10.0, "output_tokens": 2.0, "total_tokens": 12.0,
				"cache_read_input_tokens": 5.0, "cache_creation_input_tokens": 0.0}, ""},
		{"no cache counts", llms.ContentChoice{Content: "hi", GenerationInfo: map[string]any{
			"input_tokens": 3, "output_tokens": 4}},
			map[string]any{"input_tokens": 3.0, "output_tokens": 4.0, "total_tokens": 7.0}, ""},
		{"no usage", llms.ContentChoice{Content: "hi"}, nil, ""},
		{"arguments redumped", llms.ContentChoice{ToolCalls: []llms.ToolCall{call(`{"city":"Zürich","days":[1,2.50]}`)}},
			nil, `{"city": "Z\u00fcrich", "days": [1, 2.5]}`},
		{"invalid arguments kept", llms.ContentChoice{ToolCalls: []llms.ToolCall{call(`{"city":`)}}, nil, `{"city":`},
		{"non-object arguments kept", llms.ContentChoice{ToolCalls: []llms.ToolCall{call(`"Paris"`)}}, nil, `"Paris"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			h := langchaingo.NewHandler()
			ctx := context.Background()
			h.HandleLLMGenerateContentStart(ctx, []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "q")})
			c := tt.choice
			h.HandleLLMGenerateContentEnd(ctx, &llms.ContentResponse{Choices: []*llms.ContentChoice{&c}})
			s := one(t, f.Traces(t, 1)[0], "chat model")
			if got := attr(s, "mlflow.chat.tokenUsage"); !reflect.DeepEqual(got, tt.wantUsage) {
				t.Errorf("usage %#v, want %#v", got, tt.wantUsage)
			}
			if tt.wantArgs == "" {
				return
			}
			out, _ := attr(s, "mlflow.spanOutputs").(map[string]any)
			msg := out["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
			args := msg["tool_calls"].([]any)[0].(map[string]any)["function"].(map[string]any)["arguments"]
			if args != tt.wantArgs {
				t.Errorf("arguments %q, want %q", args, tt.wantArgs)
			}
		})
	}
}
