package bedrock

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
)

// BenchmarkCall measures one Converse call with a tool-use answer, plain
// and streamed, against the fake Bedrock Runtime (SigV4 signing and
// checking included): "bare" without, "traced" with ClientOption and
// tracing on (exported to a discarding destination).
func BenchmarkCall(b *testing.B) {
	fake := llmtest.Start(b)
	spantest.StartDiscard(b)
	f := fixture{&spantest.LLM{Fake: fake}}
	bare, traced := bedrockruntime.New(f.options()), bedrockruntime.New(f.options(), ClientOption())
	in := func() *bedrockruntime.ConverseInput {
		return &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userText("What's the weather in Paris?"), ToolConfig: cityTool}
	}
	spantest.BenchCalls(b, bare, traced, fake.Reset, func(ctx context.Context, c *bedrockruntime.Client) error {
		_, err := c.Converse(ctx, in())
		return err
	}, func(ctx context.Context, c *bedrockruntime.Client) error {
		i := in()
		out, err := c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: i.ModelId, Messages: i.Messages, ToolConfig: i.ToolConfig})
		if err != nil {
			return err
		}
		for range out.GetStream().Events() {
		}
		return out.GetStream().Close()
	})
}
