package anthropic

import (
	"context"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
)

// BenchmarkCall measures one Messages call with a tool_use answer, plain and
// streamed, against the fake API: "bare" without, "traced" with
// RequestOption and tracing on (exported to a discarding destination).
func BenchmarkCall(b *testing.B) {
	fake := llmtest.Start(b)
	spantest.StartDiscard(b)
	base := []option.RequestOption{option.WithBaseURL(fake.AnthropicBaseURL()), option.WithAPIKey(llmtest.AnthropicKey),
		option.WithHTTPClient(fake.Client()), option.WithOpenTelemetryTraces(false)}
	bare, traced := anthropic.NewClient(base...), anthropic.NewClient(append(base, RequestOption())...)
	spantest.BenchCalls(b, &bare, &traced, fake.Reset, func(ctx context.Context, c *anthropic.Client) error {
		_, err := c.Messages.New(ctx, params("What's the weather in Paris?"))
		return err
	}, func(ctx context.Context, c *anthropic.Client) error {
		st := c.Messages.NewStreaming(ctx, params("What's the weather in Paris?"))
		for st.Next() {
		}
		return st.Err()
	})
}
