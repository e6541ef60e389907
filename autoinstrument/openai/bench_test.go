package openai

import (
	"context"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
)

// BenchmarkCall measures one chat completion call, plain and streamed (with
// two tool calls in the answer), against the fake API on loopback: "bare" is
// the uninstrumented client, "traced" the same client with RequestOption and
// tracing on (the span, its inputs, outputs, chunk events and attributes,
// exported to a discarding destination). The ratio traced/bare is the
// instrumentation's cost per call relative to a (fast, local) API call.
func BenchmarkCall(b *testing.B) {
	fake := llmtest.Start(b)
	spantest.StartDiscard(b)

	base := []option.RequestOption{option.WithBaseURL(fake.OpenAIBaseURL()), option.WithAPIKey(llmtest.OpenAIKey), option.WithHTTPClient(fake.Client())}
	bare, traced := openai.NewClient(base...), openai.NewClient(append(base, RequestOption())...)
	params := chatParams("What's the weather and the time in Paris?")
	params.Tools = []openai.ChatCompletionToolUnionParam{weatherTool, timeTool}
	streamParams := params
	streamParams.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	spantest.BenchCalls(b, &bare, &traced, fake.Reset, func(ctx context.Context, c *openai.Client) error {
		_, err := c.Chat.Completions.New(ctx, params)
		return err
	}, func(ctx context.Context, c *openai.Client) error {
		st := c.Chat.Completions.NewStreaming(ctx, streamParams)
		for st.Next() {
		}
		return st.Err()
	})
}
