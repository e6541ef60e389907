package anthropic

import (
	"context"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

type discard struct{}

func (discard) ExportTraces(context.Context, []*exporter.Trace) error { return nil }
func (discard) Shutdown(context.Context) error                        { return nil }

// BenchmarkCall measures one Messages call with a tool_use answer, plain and
// streamed, against the fake API: "bare" without, "traced" with
// RequestOption and tracing on (exported to a discarding destination).
func BenchmarkCall(b *testing.B) {
	fake := llmtest.NewServer()
	defer fake.Close()
	p, err := tracing.Init(context.Background(), tracing.WithGetenv(func(string) string { return "" }),
		tracing.WithoutGlobalTracerProvider(), tracing.WithExporterOptions(exporter.WithDestination(discard{})))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	base := []option.RequestOption{option.WithBaseURL(fake.AnthropicBaseURL()), option.WithAPIKey(llmtest.AnthropicKey),
		option.WithHTTPClient(fake.Client()), option.WithOpenTelemetryTraces(false)}
	clients := map[string]anthropic.Client{
		"bare":   anthropic.NewClient(base...),
		"traced": anthropic.NewClient(append(base, RequestOption())...),
	}
	ctx := context.Background()
	for _, mode := range []string{"plain", "stream"} {
		for _, name := range []string{"bare", "traced"} {
			c := clients[name]
			b.Run(mode+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					fake.Reset()
					if mode == "plain" {
						if _, err := c.Messages.New(ctx, params("What's the weather in Paris?")); err != nil {
							b.Fatal(err)
						}
						continue
					}
					st := c.Messages.NewStreaming(ctx, params("What's the weather in Paris?"))
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
