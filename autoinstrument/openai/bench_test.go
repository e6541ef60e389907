package openai

import (
	"context"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// discard is a destination that drops every trace (the export work still
// runs in the exporter's goroutines).
type discard struct{}

func (discard) ExportTraces(context.Context, []*exporter.Trace) error { return nil }
func (discard) Shutdown(context.Context) error                        { return nil }

// BenchmarkCall measures one chat completion call, plain and streamed (with
// two tool calls in the answer), against the fake API on loopback: "bare" is
// the uninstrumented client, "traced" the same client with RequestOption and
// tracing on (the span, its inputs, outputs, chunk events and attributes,
// exported to a discarding destination). The ratio traced/bare is the
// instrumentation's cost per call relative to a (fast, local) API call.
func BenchmarkCall(b *testing.B) {
	fake := llmtest.NewServer()
	defer fake.Close()
	p, err := tracing.Init(context.Background(), tracing.WithGetenv(func(string) string { return "" }),
		tracing.WithoutGlobalTracerProvider(), tracing.WithExporterOptions(exporter.WithDestination(discard{})))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Shutdown(context.Background())

	base := []option.RequestOption{option.WithBaseURL(fake.OpenAIBaseURL()), option.WithAPIKey(llmtest.OpenAIKey), option.WithHTTPClient(fake.Client())}
	clients := map[string]openai.Client{
		"bare":   openai.NewClient(base...),
		"traced": openai.NewClient(append(base, RequestOption())...),
	}
	params := chatParams("What's the weather and the time in Paris?")
	params.Tools = []openai.ChatCompletionToolUnionParam{weatherTool, timeTool}
	streamParams := params
	streamParams.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	ctx := context.Background()
	for _, mode := range []string{"plain", "stream"} {
		for _, name := range []string{"bare", "traced"} {
			c := clients[name]
			b.Run(mode+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					fake.Reset() // bounded request log
					if mode == "plain" {
						if _, err := c.Chat.Completions.New(ctx, params); err != nil {
							b.Fatal(err)
						}
						continue
					}
					st := c.Chat.Completions.NewStreaming(ctx, streamParams)
					for st.Next() {
					}
					if err := st.Err(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
