// Command bedrock-agent is a small tool-calling agent on Amazon Bedrock's
// Converse API through the AWS SDK for Go v2, traced with mlflowtrace-go:
// the bedrockruntime client is instrumented with one option
// (mlflowbedrock.ClientOption), the tools are traced with tracing.Func, and
// each user question is one MLflow trace:
//
//	bedrock_agent (AGENT)                  the question in, the conversation out
//	├─ BedrockRuntime.converse (CHAT_MODEL) the model asks for tools
//	├─ get_weather (TOOL)
//	├─ get_local_time (TOOL)
//	└─ BedrockRuntime.converse (CHAT_MODEL) the model answers from the tool results
//
// The client is configured the standard AWS way (config.LoadDefaultConfig):
// credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
// AWS_SESSION_TOKEN, a profile or any other source of the default chain,
// AWS_REGION (default us-east-1), and the endpoint from
// AWS_ENDPOINT_URL_BEDROCK_RUNTIME or AWS_ENDPOINT_URL when set. The model
// is BEDROCK_MODEL_ID (default anthropic.claude-3-haiku-20240307-v1:0).
// Traces go wherever tracing.Init sends them: with no MLFLOW_* environment
// to ./mlruns, with MLFLOW_TRACKING_URI=http://host:port to that MLflow
// server.
//
//	go run ./examples/bedrock-agent "What's the weather and the time in Paris?"
//
// To run it offline, start the fake Bedrock Runtime of this repository's
// tests (go run ./internal/llmtest/cmd/fakellm; it prints its URL and
// credentials) and point AWS_ENDPOINT_URL_BEDROCK_RUNTIME at it with its
// credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	mlflowbedrock "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/bedrock"
	"github.com/mlflowtrace/mlflowtrace-go/examples/internal/travel"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

const defaultModel = "anthropic.claude-3-haiku-20240307-v1:0"

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "bedrock-agent:", err)
		os.Exit(1)
	}
}

// run answers each question (the default one when there are none) in its
// own trace; getenv is os.Getenv in main and a fake in tests (the AWS SDK
// reads its own variables).
func run(ctx context.Context, questions []string, out io.Writer, getenv func(string) string) error {
	return travel.Run(ctx, questions, out, getenv, func(ctx context.Context) (travel.Agent, error) {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("loading the AWS configuration: %w", err)
		}
		if cfg.Region == "" {
			cfg.Region = "us-east-1"
		}
		model := getenv("BEDROCK_MODEL_ID")
		if model == "" {
			model = defaultModel
		}
		a := &agent{
			client: bedrockruntime.NewFromConfig(cfg, mlflowbedrock.ClientOption()), // the one line of instrumentation
			model:  model,
		}
		return a.answer, nil
	})
}

type agent struct {
	client *bedrockruntime.Client
	model  string
}

func cityTool(name, description string) types.Tool {
	return &types.ToolMemberToolSpec{Value: types.ToolSpecification{
		Name:        aws.String(name),
		Description: aws.String(description),
		InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(map[string]any{
			"type": "object", "required": []string{"city"},
			"properties": map[string]any{"city": map[string]any{"type": "string", "description": "City name"}},
		})},
	}}
}

var toolConfig = &types.ToolConfiguration{Tools: []types.Tool{
	cityTool("get_weather", "Current weather of a city"),
	cityTool("get_local_time", "Local time of a city"),
}}

// answer is the traced agent: the root span of each question's trace.
func (a *agent) answer(ctx context.Context, in travel.Conversation) (travel.Conversation, error) {
	return tracing.Func("bedrock_agent", a.loop, tracing.WithSpanType(tracing.SpanTypeAgent))(ctx, in)
}

// loop asks the model, runs the tools it calls, and asks again until it
// answers (at most 5 rounds).
func (a *agent) loop(ctx context.Context, in travel.Conversation) (travel.Conversation, error) {
	conv := in
	var msgs []types.Message
	for _, m := range in.Messages {
		msgs = append(msgs, types.Message{Role: types.ConversationRoleUser,
			Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: m.Content}}})
	}
	system := []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: "You are a travel assistant. Use the tools to answer."}}
	for round := 0; round < 5; round++ {
		resp, err := a.client.Converse(ctx, &bedrockruntime.ConverseInput{
			ModelId: aws.String(a.model), Messages: msgs, System: system, ToolConfig: toolConfig,
			InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(512)},
		})
		if err != nil {
			return conv, err
		}
		out, ok := resp.Output.(*types.ConverseOutputMemberMessage)
		if !ok {
			return conv, errors.New("the model returned no message")
		}
		msgs = append(msgs, out.Value)
		text, uses := split(out.Value)
		if resp.StopReason != types.StopReasonToolUse || len(uses) == 0 {
			conv.Messages = append(conv.Messages, travel.Message{Role: "assistant", Content: text})
			return conv, nil
		}
		am := travel.Message{Role: "assistant", Content: text}
		results := types.Message{Role: types.ConversationRoleUser}
		for _, u := range uses {
			args, _ := u.Input.MarshalSmithyDocument()
			am.ToolCalls = append(am.ToolCalls, travel.ToolCall{ID: aws.ToString(u.ToolUseId), Type: "function",
				Function: travel.FunctionCall{Name: aws.ToString(u.Name), Arguments: string(args)}})
		}
		conv.Messages = append(conv.Messages, am)
		for _, u := range uses {
			result, status := a.callTool(ctx, aws.ToString(u.Name), u.Input)
			results.Content = append(results.Content, &types.ContentBlockMemberToolResult{Value: types.ToolResultBlock{
				ToolUseId: u.ToolUseId, Status: status,
				Content: []types.ToolResultContentBlock{&types.ToolResultContentBlockMemberJson{Value: document.NewLazyDocument(result)}},
			}})
			b, _ := json.Marshal(result)
			conv.Messages = append(conv.Messages, travel.Message{Role: "tool", Content: string(b), ToolCallID: aws.ToString(u.ToolUseId)})
		}
		msgs = append(msgs, results)
	}
	return conv, errors.New("no answer after 5 rounds")
}

// split returns a message's text and its tool uses.
func split(m types.Message) (string, []types.ToolUseBlock) {
	var text []string
	var uses []types.ToolUseBlock
	for _, c := range m.Content {
		switch b := c.(type) {
		case *types.ContentBlockMemberText:
			text = append(text, b.Value)
		case *types.ContentBlockMemberToolUse:
			uses = append(uses, b.Value)
		}
	}
	return strings.Join(text, "\n"), uses
}

// callTool runs a tool; an error becomes the tool's result (status error),
// so the model can react to it.
func (a *agent) callTool(ctx context.Context, name string, input document.Interface) (map[string]any, types.ToolResultStatus) {
	tool, ok := travel.Tools[name]
	if !ok {
		return map[string]any{"error": "unknown tool " + name}, types.ToolResultStatusError
	}
	var args travel.CityArgs
	if input == nil || input.UnmarshalSmithyDocument(&args) != nil {
		return map[string]any{"error": "arguments are not an object"}, types.ToolResultStatusError
	}
	res, err := tool(ctx, args)
	if err != nil {
		return map[string]any{"error": err.Error()}, types.ToolResultStatusError
	}
	return res, types.ToolResultStatusSuccess
}
