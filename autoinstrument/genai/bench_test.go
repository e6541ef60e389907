package genai

import (
	"context"
	"testing"

	"google.golang.org/genai"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
)

// BenchmarkCall measures one GenerateContent call with a tool (the answer
// is a function call), plain and streamed, against the fake Gemini API on
// loopback: "bare" is genai.NewClient's client, "traced" the same client
// made with NewClient and tracing on (the span, its inputs and outputs in
// the Python SDK's form, tools, usage), exported to a discarding
// destination. The ratio traced/bare is the instrumentation's cost per call
// relative to a (fast, local) API call.
func BenchmarkCall(b *testing.B) {
	fake := llmtest.Start(b)
	spantest.StartDiscard(b)
	ctx := context.Background()
	cfg := func() *genai.ClientConfig {
		return &genai.ClientConfig{APIKey: llmtest.GeminiKey, Backend: genai.BackendGeminiAPI, HTTPClient: fake.Client(),
			HTTPOptions: genai.HTTPOptions{BaseURL: fake.URL}}
	}
	bare, err := genai.NewClient(ctx, cfg())
	if err != nil {
		b.Fatal(err)
	}
	traced, err := NewClient(ctx, cfg())
	if err != nil {
		b.Fatal(err)
	}
	contents := genai.Text("What's the weather in Paris?")
	config := tools()
	spantest.BenchCalls(b, bare, traced, fake.Reset, func(ctx context.Context, c *genai.Client) error {
		_, err := c.Models.GenerateContent(ctx, model, contents, config)
		return err
	}, func(ctx context.Context, c *genai.Client) error {
		for _, err := range c.Models.GenerateContentStream(ctx, model, genai.Text("Say hello to the people of Paris"), nil) {
			if err != nil {
				return err
			}
		}
		return nil
	})
}
