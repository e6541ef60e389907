package traces_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// A program traces an answer into ./mlruns, then reads it back and logs a
// user's feedback on it. With MLFLOW_TRACKING_URI set, the same code reads
// from and writes to an MLflow server or a Databricks workspace.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "traces-example")
	defer os.RemoveAll(dir)
	uri := exporter.WithTrackingURI(filepath.Join(dir, "mlruns"))

	p, _ := tracing.Init(ctx, tracing.WithEnabled(), tracing.WithoutGlobalTracerProvider(), tracing.WithExporterOptions(uri))
	_, span := tracing.StartSpan(ctx, "answer", tracing.WithSpanType(tracing.SpanTypeAgent), tracing.WithInputs("What is MLflow?"))
	span.End(tracing.WithOutputs("An open source platform."))
	id := span.TraceID()
	_ = p.Shutdown(ctx)

	c, err := traces.NewClient(ctx, uri)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	if _, err := c.LogFeedback(ctx, id, traces.Feedback{
		Name: "user_feedback", Value: true, Rationale: "clear",
		Source: exporter.AssessmentSource{Type: traces.SourceHuman, ID: "alice"},
	}); err != nil {
		panic(err)
	}
	t, err := c.GetTrace(ctx, id)
	if err != nil {
		panic(err)
	}
	a := t.Info.Assessments[0]
	fmt.Println(t.Info.Tags["mlflow.traceName"], len(t.Spans), "span;", a.Name, a.Feedback.Value, a.Source.ID)

	page, _ := c.SearchTraces(ctx, traces.SearchQuery{Filter: "name = 'answer' AND status = 'OK'"})
	fmt.Println(len(page.Traces), "trace found")
	// Output:
	// answer 1 span; user_feedback true alice
	// 1 trace found
}
