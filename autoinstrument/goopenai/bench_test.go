package goopenai

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
)

// BenchmarkCall measures one chat completion call, plain and streamed (with
// two tool calls in the answer), against the fake API on loopback: "bare" is
// the client without Wrap, "traced" the same client wrapped, with tracing
// on (span, inputs, outputs, chunk events, attributes, exported to a
// discarding destination). The ratio traced/bare is the instrumentation's
// cost per call relative to a (fast, local) API call.
func BenchmarkCall(b *testing.B) {
	fake := llmtest.Start(b)
	spantest.StartDiscard(b)

	newClient := func(wrap bool) *openai.Client {
		cfg := openai.DefaultConfig(llmtest.OpenAIKey)
		cfg.BaseURL = strings.TrimSuffix(fake.OpenAIBaseURL(), "/")
		cfg.HTTPClient = fake.Client()
		if wrap {
			cfg.HTTPClient = Wrap(cfg.HTTPClient)
		}
		return openai.NewClientWithConfig(cfg)
	}
	req := chatRequest("What's the weather and the time in Paris?")
	req.Tools = tools
	streamReq := req
	streamReq.Stream = true
	streamReq.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	spantest.BenchCalls(b, newClient(false), newClient(true), fake.Reset, func(ctx context.Context, c *openai.Client) error {
		_, err := c.CreateChatCompletion(ctx, req)
		return err
	}, func(ctx context.Context, c *openai.Client) error {
		st, err := c.CreateChatCompletionStream(ctx, streamReq)
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
	})
}
