package databricks_test

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/databricks"
	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/dbauth"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// New → ExportTraces → Shutdown, against the fake workspace.
func Example() {
	ws, err := databrickstest.Start(databrickstest.Config{})
	if err != nil {
		panic(err)
	}
	defer ws.Close()
	exp := ws.CreateExperiment("/Users/me@example.com/agent", databrickstest.ADLS)

	env := ws.PATEnv() // DATABRICKS_HOST, DATABRICKS_TOKEN
	w, err := dbauth.Resolve(dbauth.Options{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		panic(err)
	}
	d, err := databricks.New(databricks.Config{Workspace: w, ExperimentID: exp})
	if err != nil {
		panic(err)
	}
	defer d.Shutdown(context.Background())

	tid := trace.TraceID{1}
	start := time.Now()
	t := &tracemodel.Trace{
		Info: tracemodel.TraceInfo{TraceID: tracemodel.RequestID(tid), RequestTime: start, State: tracemodel.StateOK},
		Spans: []*tracemodel.Span{{TraceID: tid, SpanID: trace.SpanID{1}, Name: "agent", StartTime: start, EndTime: start,
			Attributes: map[string]string{"mlflow.traceRequestId": `"` + tracemodel.RequestID(tid) + `"`}}},
	}
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{t}); err != nil {
		panic(err)
	}
	stored, _ := ws.Trace(t.Info.TraceID)
	fmt.Println(stored.Location == exp, stored.DataVia)
	// Output: true AZURE_ADLS_GEN2_SAS_URI
}
