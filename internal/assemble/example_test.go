package assemble_test

import (
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/assemble"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

func ExampleBuild() {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	root := &tracemodel.Span{
		TraceID:   trace.TraceID{1},
		SpanID:    trace.SpanID{1},
		Name:      "agent",
		StartTime: start,
		EndTime:   start.Add(1250 * time.Millisecond),
		Status:    tracemodel.Status{Code: tracemodel.StatusCodeOK},
		Attributes: map[string]string{
			"mlflow.spanInputs":  `{"messages": [{"role": "user", "content": "Hi!"}]}`,
			"mlflow.spanOutputs": `"Hello"`,
		},
	}
	t := assemble.Build(root, []*tracemodel.Span{root}, nil, assemble.Options{ExperimentID: "0"})
	fmt.Println(t.Info.TraceID, t.Info.State, t.Info.ExecutionDuration)
	fmt.Println(t.Info.RequestPreview, t.Info.ResponsePreview, t.Info.Tags["mlflow.traceName"])
	// Output:
	// tr-01000000000000000000000000000000 OK 1.25s
	// Hi! "Hello" agent
}
