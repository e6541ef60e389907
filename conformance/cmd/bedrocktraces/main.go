// Command bedrocktraces makes one MLflow trace per Bedrock Runtime call
// scenario through aws-sdk-go-v2's bedrockruntime client instrumented with
// autoinstrument/bedrock, against the fake Bedrock Runtime of
// internal/llmtest (LLMTEST_URL: the fake's endpoint).
// conformance/parity/bedrock_workflow.py makes the same calls with boto3
// under mlflow.bedrock.autolog(); conformance/test_bedrock_parity.py loads
// both with MLflow and compares them.
//
// Usage: bedrocktraces [scenario ...] (all when none). The destination comes
// from the environment (MLFLOW_TRACKING_URI; unset: ./mlruns). It prints one
// JSON line {"scenario": ..., "trace_id": ...} per scenario, after
// everything has been written.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	mlflowbedrock "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/bedrock"
	"github.com/mlflowtrace/mlflowtrace-go/conformance/internal/scenario"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

const (
	claude   = "anthropic.claude-3-haiku-20240307-v1:0"
	question = "What's the weather and the local time in Paris?"
	system   = "You are a travel assistant."
)

func cityTool(name, description string) types.Tool {
	return &types.ToolMemberToolSpec{Value: types.ToolSpecification{
		Name: aws.String(name), Description: aws.String(description),
		InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(map[string]any{
			"type":       "object",
			"properties": map[string]any{"city": map[string]any{"type": "string", "description": "City name"}},
			"required":   []string{"city"},
		})},
	}}
}

var tools = &types.ToolConfiguration{Tools: []types.Tool{
	cityTool("get_weather", "Current weather of a city"),
	cityTool("get_local_time", "Local time of a city"),
}}

func converse() *bedrockruntime.ConverseInput {
	return &bedrockruntime.ConverseInput{
		ModelId:         aws.String(claude),
		Messages:        []types.Message{text(types.ConversationRoleUser, question)},
		System:          []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: system}},
		InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(256), Temperature: aws.Float32(0.5)},
	}
}

func text(role types.ConversationRole, s string) types.Message {
	return types.Message{Role: role, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: s}}}
}

func stream(in *bedrockruntime.ConverseInput) *bedrockruntime.ConverseStreamInput {
	return &bedrockruntime.ConverseStreamInput{ModelId: in.ModelId, Messages: in.Messages, System: in.System,
		InferenceConfig: in.InferenceConfig, ToolConfig: in.ToolConfig}
}

// Model bodies of InvokeModel, as JSON text (MLflow records the body
// argument as the text the caller passed).
const (
	anthropicBody = `{"anthropic_version": "bedrock-2023-05-31", "max_tokens": 256, "system": "You are a travel assistant.", "messages": [{"role": "user", "content": "Say hello to Paris"}]}`
	novaBody      = `{"schemaVersion": "messages-v1", "system": [{"text": "You are a travel assistant."}], "messages": [{"role": "user", "content": [{"text": "Say hello to Paris"}]}], "inferenceConfig": {"maxTokens": 256}}`
	llamaBody     = `{"prompt": "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nSay hello to Paris<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", "max_gen_len": 256, "temperature": 0.5}`
	titanBody     = `{"inputText": "User: Say hello to Paris\nBot:", "textGenerationConfig": {"maxTokenCount": 256}}`
	cohereBody    = `{"message": "Say hello to Paris", "preamble": "You are a travel assistant.", "max_tokens": 256}`
	embedBody     = `{"inputText": "Paris", "dimensions": 256}`
)

func invoke(model, body string) *bedrockruntime.InvokeModelInput {
	return &bedrockruntime.InvokeModelInput{ModelId: aws.String(model), Body: []byte(body),
		ContentType: aws.String("application/json"), Accept: aws.String("application/json")}
}

func invokeStream(model, body string) *bedrockruntime.InvokeModelWithResponseStreamInput {
	return &bedrockruntime.InvokeModelWithResponseStreamInput{ModelId: aws.String(model), Body: []byte(body),
		ContentType: aws.String("application/json"), Accept: aws.String("application/json")}
}

func drainConverse(out *bedrockruntime.ConverseStreamOutput, err error) error {
	if err != nil {
		return err
	}
	for range out.GetStream().Events() {
	}
	return out.GetStream().Close()
}

func drainInvoke(out *bedrockruntime.InvokeModelWithResponseStreamOutput, err error) error {
	if err != nil {
		return err
	}
	for range out.GetStream().Events() {
	}
	return out.GetStream().Close()
}

// scenarios: each makes one call, its own trace.
var scenarios = []scenario.Scenario[*bedrockruntime.Client]{
	{Name: "converse", Run: func(ctx context.Context, c *bedrockruntime.Client) error {
		_, err := c.Converse(ctx, converse())
		return err
	}},
	{Name: "converse_tools", Run: func(ctx context.Context, c *bedrockruntime.Client) error {
		in := converse()
		in.ToolConfig = tools
		_, err := c.Converse(ctx, in)
		return err
	}},
	{Name: "converse_tool_result", Run: func(ctx context.Context, c *bedrockruntime.Client) error {
		in := converse()
		in.ToolConfig = tools
		in.Messages = append(in.Messages, types.Message{Role: types.ConversationRoleAssistant, Content: []types.ContentBlock{
			&types.ContentBlockMemberText{Value: "I'll use the get_weather tool."},
			&types.ContentBlockMemberToolUse{Value: types.ToolUseBlock{ToolUseId: aws.String("tooluse_paris"), Name: aws.String("get_weather"),
				Input: document.NewLazyDocument(map[string]any{"city": "Paris"})}},
		}}, types.Message{Role: types.ConversationRoleUser, Content: []types.ContentBlock{
			&types.ContentBlockMemberToolResult{Value: types.ToolResultBlock{ToolUseId: aws.String("tooluse_paris"),
				Content: []types.ToolResultContentBlock{&types.ToolResultContentBlockMemberJson{Value: document.NewLazyDocument(map[string]any{"sky": "rain", "temp_c": 18})}}}},
		}})
		_, err := c.Converse(ctx, in)
		return err
	}},
	{Name: "converse_stream", Run: func(ctx context.Context, c *bedrockruntime.Client) error {
		return drainConverse(c.ConverseStream(ctx, stream(converse())))
	}},
	{Name: "converse_tools_stream", Run: func(ctx context.Context, c *bedrockruntime.Client) error {
		in := converse()
		in.ToolConfig = tools
		return drainConverse(c.ConverseStream(ctx, stream(in)))
	}},
	{Name: "converse_cache", Run: func(ctx context.Context, c *bedrockruntime.Client) error {
		in := converse()
		in.System = []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: strings.Repeat("You are a careful travel assistant. ", 150)},
			&types.SystemContentBlockMemberCachePoint{Value: types.CachePointBlock{Type: types.CachePointTypeDefault}}}
		_, err := c.Converse(ctx, in)
		return err
	}},
	{Name: "converse_error", Run: func(ctx context.Context, c *bedrockruntime.Client) error {
		in := converse()
		in.ModelId = aws.String("amazon.nova-ultra-v9:0")
		var ve *types.ValidationException
		if _, err := c.Converse(ctx, in); !errors.As(err, &ve) {
			return fmt.Errorf("want a ValidationException, got %v", err)
		}
		return nil
	}},
	{Name: "invoke_anthropic", Run: func(ctx context.Context, c *bedrockruntime.Client) error {
		_, err := c.InvokeModel(ctx, invoke(claude, anthropicBody))
		return err
	}},
	{Name: "invoke_anthropic_stream", Run: func(ctx context.Context, c *bedrockruntime.Client) error {
		return drainInvoke(c.InvokeModelWithResponseStream(ctx, invokeStream(claude, anthropicBody)))
	}},
	{Name: "invoke_nova", Run: func(ctx context.Context, c *bedrockruntime.Client) error {
		_, err := c.InvokeModel(ctx, invoke("amazon.nova-lite-v1:0", novaBody))
		return err
	}},
	{Name: "invoke_nova_stream", Run: func(ctx context.Context, c *bedrockruntime.Client) error {
		return drainInvoke(c.InvokeModelWithResponseStream(ctx, invokeStream("amazon.nova-lite-v1:0", novaBody)))
	}},
	{Name: "invoke_llama", Run: func(ctx context.Context, c *bedrockruntime.Client) error {
		_, err := c.InvokeModel(ctx, invoke("meta.llama3-8b-instruct-v1:0", llamaBody))
		return err
	}},
	{Name: "invoke_titan", Run: func(ctx context.Context, c *bedrockruntime.Client) error {
		_, err := c.InvokeModel(ctx, invoke("amazon.titan-text-express-v1", titanBody))
		return err
	}},
	{Name: "invoke_cohere", Run: func(ctx context.Context, c *bedrockruntime.Client) error {
		_, err := c.InvokeModel(ctx, invoke("cohere.command-r-v1:0", cohereBody))
		return err
	}},
	{Name: "invoke_titan_embed", Run: func(ctx context.Context, c *bedrockruntime.Client) error {
		_, err := c.InvokeModel(ctx, invoke("amazon.titan-embed-text-v2:0", embedBody))
		return err
	}},
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bedrocktraces:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	endpoint := os.Getenv("LLMTEST_URL")
	if endpoint == "" {
		return fmt.Errorf("LLMTEST_URL is not set")
	}
	p, err := tracing.Init(ctx)
	if err != nil {
		return err
	}
	client := bedrockruntime.New(bedrockruntime.Options{
		Region:       llmtest.AWSRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(llmtest.AWSAccessKeyID, llmtest.AWSSecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
		// The SDK's request-body race on loopback (see llmtest.AWSClient).
		HTTPClient: llmtest.AWSHTTPClient(nil),
	}, mlflowbedrock.ClientOption())
	return scenario.Run(ctx, p, scenarios, client, os.Args[1:], os.Stdout)
}
