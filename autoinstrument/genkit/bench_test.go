package genkit_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// BenchmarkFlow compares a Genkit flow run (generate with a tool: two model
// calls against the fake OpenAI API on loopback, six spans) on Genkit's own
// tracer provider ("bare": Genkit records its spans and nothing reads them)
// and on one with the MLflow exporter ("traced": the spans are translated
// and assembled into MLflow traces by the exporter's background workers,
// then discarded). "stream" is the same flow run (Genkit's flows stream
// only when asked).
func BenchmarkFlow(b *testing.B) {
	bare, withMLflow := sdktrace.NewTracerProvider(), sdktrace.NewTracerProvider()
	b.Cleanup(func() {
		_ = bare.Shutdown(context.Background())
		_ = withMLflow.Shutdown(context.Background())
	})
	spantest.StartDiscard(b, tracing.WithTracerProvider(withMLflow))
	prev := otel.GetTracerProvider()
	b.Cleanup(func() { otel.SetTracerProvider(prev) })
	fake := llmtest.Start(b)
	flow := weatherFlow(b.Context(), fake.URL)
	run := func(ctx context.Context, tp *sdktrace.TracerProvider) error {
		otel.SetTracerProvider(tp) // the provider Genkit records on
		_, err := flow.Run(ctx, question)
		return err
	}
	spantest.BenchCalls(b, bare, withMLflow, fake.Reset, run, run)
}
