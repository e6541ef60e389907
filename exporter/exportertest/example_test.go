package exportertest_test

import (
	"context"
	"fmt"
	"log"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
)

func ExampleRecorder() {
	ctx := context.Background()
	rec := exportertest.NewRecorder()
	// rec receives finished traces and, given as a span streamer too, the
	// spans as they end.
	exp, err := exporter.New(ctx, exporter.WithDestination(rec), exporter.WithSpanStreamer(rec))
	if err != nil {
		log.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))

	ctx, root := tp.Tracer("my-agent").Start(ctx, "agent")
	_, tool := tp.Tracer("my-agent").Start(ctx, "search")
	tool.End()
	root.End()

	if err := tp.Shutdown(context.Background()); err != nil { // flushes into rec
		log.Fatal(err)
	}
	for _, t := range rec.Traces() {
		fmt.Println(t.Info.Tags["mlflow.traceName"], len(t.Spans), "spans")
	}
	fmt.Println(len(rec.Spans()), "spans streamed; shut down:", rec.IsShutdown())
	// Output:
	// agent 2 spans
	// 2 spans streamed; shut down: true
}
