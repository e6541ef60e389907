package exporter_test

import (
	"context"
	"fmt"
	"log"
	"os"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
)

// New → register on a TracerProvider → spans → Shutdown. Traces land in an
// MLflow FileStore directory that `mlflow ui --backend-store-uri <dir>` shows.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "mlruns")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	exp, err := exporter.New(ctx, exporter.WithTrackingURI(dir), exporter.WithExperimentName("quickstart"))
	if err != nil {
		log.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))

	ctx, root := tp.Tracer("example").Start(ctx, "agent")
	_, llm := tp.Tracer("example").Start(ctx, "llm")
	llm.End()
	root.End() // the trace is assembled and written in the background

	// Shutting the provider down shuts the exporter down: it writes what is
	// pending and stops its goroutines.
	if err := tp.Shutdown(context.Background()); err != nil {
		log.Fatal(err)
	}
	st := exp.Stats()
	fmt.Println("traces:", st.TracesExported, "spans:", st.SpansExported)
	// Output: traces: 1 spans: 2
}

// Tests of your own instrumentation can record traces in memory.
func ExampleWithDestination() {
	ctx := context.Background()
	rec := exportertest.NewRecorder()
	exp, err := exporter.New(ctx, exporter.WithDestination(rec))
	if err != nil {
		log.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	_, span := tp.Tracer("example").Start(ctx, "tool call")
	span.End()
	if err := exp.ForceFlush(ctx); err != nil {
		log.Fatal(err)
	}
	t := rec.Traces()[0]
	fmt.Println(t.Info.State, t.Info.Tags["mlflow.traceName"], len(t.Spans))
	_ = tp.Shutdown(ctx)
	// Output: OK tool call 1
}

// Watch hands the finished trace back to the code that produced it, e.g. to
// return it in an HTTP response (Databricks' databricks_options.return_trace).
func ExampleExporter_Watch() {
	ctx := context.Background()
	exp, err := exporter.New(ctx, exporter.WithDestination(exportertest.NewRecorder()))
	if err != nil {
		log.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	defer tp.Shutdown(ctx)

	ctx, root := tp.Tracer("example").Start(ctx, "agent")
	w, err := exp.Watch(root.SpanContext().TraceID()) // while the trace is open
	if err != nil {
		log.Fatal(err)
	}
	_, tool := tp.Tracer("example").Start(ctx, "tool")
	tool.End()
	root.End()

	t, err := w.Wait(ctx) // bounded by ctx; does not wait for the export
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.Info.State, len(t.Spans), t.Spans[0].Name)
	// Output: OK 2 agent
}
