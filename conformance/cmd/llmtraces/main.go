// Command llmtraces makes one MLflow trace per LLM call scenario through the
// real Go client libraries (openai-go, anthropic-sdk-go, go-openai) instrumented with
// package autoinstrument, against the fake APIs of internal/llmtest
// (LLMTEST_URL: the fake's base URL). conformance/parity/llm_workflow.py
// sends the same requests through MLflow's Python autolog; the conformance
// and parity tests (conformance/test_llm_*.py) load both with MLflow.
//
// Usage: llmtraces [scenario ...] (all when none). The destination comes
// from the environment (MLFLOW_TRACKING_URI; unset: ./mlruns). It prints one
// JSON line {"scenario": ..., "trace_id": ...} per scenario, after
// everything has been written.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	goopenai "github.com/sashabaranov/go-openai"

	mlflowanthropic "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/anthropic"
	mlflowgoopenai "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/goopenai"
	mlflowopenai "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/openai"
	"github.com/mlflowtrace/mlflowtrace-go/conformance/internal/scenario"
)

const (
	openAIKey    = "sk-test-openai"
	anthropicKey = "sk-ant-test"
	question     = "What's the weather and the local time in Paris?"
)

type clients struct {
	oai  openai.Client
	ant  anthropic.Client
	goai *goopenai.Client
}

var cityParams = map[string]any{
	"type":       "object",
	"properties": map[string]any{"city": map[string]any{"type": "string", "description": "City name"}},
	"required":   []string{"city"},
}

func chatTools() []openai.ChatCompletionToolUnionParam {
	return []openai.ChatCompletionToolUnionParam{
		openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "get_weather", Description: openai.String("Current weather of a city"), Parameters: cityParams}),
		openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "get_local_time", Description: openai.String("Local time of a city"), Parameters: cityParams}),
	}
}

func chatParams() openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("You are a travel assistant."),
			openai.UserMessage(question),
		},
		Model:       "gpt-4o-mini",
		Temperature: openai.Float(0.2),
	}
}

func anthropicParams(stream bool) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		MaxTokens: 256,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(question))},
		Model:     "claude-sonnet-4-6",
		System:    []anthropic.TextBlockParam{{Text: "You are a travel assistant."}},
		Tools: []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{
			Name: "get_weather", Description: anthropic.String("Current weather of a city"),
			InputSchema: anthropic.ToolInputSchemaParam{Properties: cityParams["properties"], Required: []string{"city"}},
		}}},
	}
}

// scenarios: each makes one call, its own trace.
var scenarios = []scenario.Scenario[*clients]{
	{Name: "openai_chat", Run: func(ctx context.Context, c *clients) error {
		_, err := c.oai.Chat.Completions.New(ctx, chatParams())
		return err
	}},
	{Name: "openai_chat_tools", Run: func(ctx context.Context, c *clients) error {
		p := chatParams()
		p.Tools = chatTools()
		_, err := c.oai.Chat.Completions.New(ctx, p)
		return err
	}},
	{Name: "openai_chat_stream", Run: func(ctx context.Context, c *clients) error {
		p := chatParams()
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		return drain(c.oai.Chat.Completions.NewStreaming(ctx, p))
	}},
	{Name: "openai_chat_tools_stream", Run: func(ctx context.Context, c *clients) error {
		p := chatParams()
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		p.Tools = chatTools()
		return drain(c.oai.Chat.Completions.NewStreaming(ctx, p))
	}},
	{Name: "openai_responses", Run: func(ctx context.Context, c *clients) error {
		_, err := c.oai.Responses.New(ctx, responsesParams())
		return err
	}},
	{Name: "openai_responses_stream", Run: func(ctx context.Context, c *clients) error {
		return drain(c.oai.Responses.NewStreaming(ctx, responsesParams()))
	}},
	{Name: "openai_embeddings", Run: func(ctx context.Context, c *clients) error {
		_, err := c.oai.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Input:      openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"Paris", "Rome"}},
			Model:      "text-embedding-3-small",
			Dimensions: openai.Int(4),
		})
		return err
	}},
	{Name: "openai_completion", Run: func(ctx context.Context, c *clients) error {
		_, err := c.oai.Completions.New(ctx, openai.CompletionNewParams{
			Model:  "gpt-3.5-turbo-instruct",
			Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say hello to Paris")},
		})
		return err
	}},
	{Name: "openai_completion_stream", Run: func(ctx context.Context, c *clients) error {
		return drain(c.oai.Completions.NewStreaming(ctx, openai.CompletionNewParams{
			Model:         "gpt-3.5-turbo-instruct",
			Prompt:        openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say hello to Paris")},
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
		}))
	}},
	{Name: "openai_error", Run: func(ctx context.Context, c *clients) error {
		p := chatParams()
		p.Model = "gpt-unknown"
		if _, err := c.oai.Chat.Completions.New(ctx, p); err == nil {
			return fmt.Errorf("no error for an unknown model")
		}
		return nil
	}},
	{Name: "anthropic_messages", Run: func(ctx context.Context, c *clients) error {
		p := anthropicParams(false)
		p.Tools = nil
		_, err := c.ant.Messages.New(ctx, p)
		return err
	}},
	{Name: "anthropic_tools", Run: func(ctx context.Context, c *clients) error {
		_, err := c.ant.Messages.New(ctx, anthropicParams(false))
		return err
	}},
	{Name: "anthropic_tools_stream", Run: func(ctx context.Context, c *clients) error {
		st := c.ant.Messages.NewStreaming(ctx, anthropicParams(true))
		for st.Next() {
		}
		return st.Err()
	}},
}

// go-openai's requests: the same calls, as go-openai serialises them (its
// struct order; "stream" always sent).
func goChatRequest() goopenai.ChatCompletionRequest {
	return goopenai.ChatCompletionRequest{
		Model: "gpt-4o-mini",
		Messages: []goopenai.ChatCompletionMessage{
			{Role: goopenai.ChatMessageRoleSystem, Content: "You are a travel assistant."},
			{Role: goopenai.ChatMessageRoleUser, Content: question},
		},
		Temperature: 0.2,
	}
}

func goTools() []goopenai.Tool {
	return []goopenai.Tool{
		{Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{Name: "get_weather", Description: "Current weather of a city", Parameters: cityParams}},
		{Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{Name: "get_local_time", Description: "Local time of a city", Parameters: cityParams}},
	}
}

func goStream(ctx context.Context, c *goopenai.Client, r goopenai.ChatCompletionRequest) error {
	r.Stream = true
	r.StreamOptions = &goopenai.StreamOptions{IncludeUsage: true}
	st, err := c.CreateChatCompletionStream(ctx, r)
	if err != nil {
		return err
	}
	defer st.Close()
	for {
		if _, err := st.Recv(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

var goScenarios = []scenario.Scenario[*clients]{
	{Name: "goopenai_chat", Run: func(ctx context.Context, c *clients) error {
		_, err := c.goai.CreateChatCompletion(ctx, goChatRequest())
		return err
	}},
	{Name: "goopenai_chat_tools", Run: func(ctx context.Context, c *clients) error {
		r := goChatRequest()
		r.Tools = goTools()
		_, err := c.goai.CreateChatCompletion(ctx, r)
		return err
	}},
	{Name: "goopenai_chat_stream", Run: func(ctx context.Context, c *clients) error {
		return goStream(ctx, c.goai, goChatRequest())
	}},
	{Name: "goopenai_chat_tools_stream", Run: func(ctx context.Context, c *clients) error {
		r := goChatRequest()
		r.Tools = goTools()
		return goStream(ctx, c.goai, r)
	}},
	{Name: "goopenai_embeddings", Run: func(ctx context.Context, c *clients) error {
		_, err := c.goai.CreateEmbeddings(ctx, goopenai.EmbeddingRequest{
			Input: []string{"Paris", "Rome"}, Model: goopenai.SmallEmbedding3, Dimensions: 4,
		})
		return err
	}},
	{Name: "goopenai_error", Run: func(ctx context.Context, c *clients) error {
		r := goChatRequest()
		r.Model = "gpt-unknown"
		if _, err := c.goai.CreateChatCompletion(ctx, r); err == nil {
			return fmt.Errorf("no error for an unknown model")
		}
		return nil
	}},
}

func responsesParams() responses.ResponseNewParams {
	return responses.ResponseNewParams{
		Input:        responses.ResponseNewParamsInputUnion{OfString: openai.String(question)},
		Instructions: openai.String("You are a travel assistant."),
		Model:        "gpt-4o-mini",
		Tools: []responses.ToolUnionParam{{OfFunction: &responses.FunctionToolParam{
			Name: "get_weather", Parameters: cityParams, Strict: openai.Bool(false), Description: openai.String("Current weather of a city"),
		}}},
	}
}

type stream interface {
	Next() bool
	Err() error
	Close() error
}

func drain(s stream) error {
	for s.Next() {
	}
	err := s.Err()
	_ = s.Close()
	return err
}

func main() {
	scenario.Main("llmtraces", append(scenarios, goScenarios...), func(_ context.Context, base string) (*clients, error) {
		goCfg := goopenai.DefaultConfig(openAIKey)
		goCfg.BaseURL = base + "/v1"
		goCfg.HTTPClient = mlflowgoopenai.Wrap(goCfg.HTTPClient)
		return &clients{
			oai:  openai.NewClient(option.WithBaseURL(base+"/v1"), option.WithAPIKey(openAIKey), mlflowopenai.RequestOption()),
			ant:  anthropic.NewClient(aoption.WithBaseURL(base), aoption.WithAPIKey(anthropicKey), mlflowanthropic.RequestOption()),
			goai: goopenai.NewClientWithConfig(goCfg),
		}, nil
	})
}
