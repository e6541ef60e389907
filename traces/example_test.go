package traces_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

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

// A chat's turns, each a trace of session "chat-1", read back as one
// conversation (MLflow's search_sessions).
func ExampleClient_SearchSessions() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sessions-example")
	defer os.RemoveAll(dir)
	uri := exporter.WithTrackingURI(filepath.Join(dir, "mlruns"))

	p, _ := tracing.Init(ctx, tracing.WithEnabled(), tracing.WithoutGlobalTracerProvider(), tracing.WithExporterOptions(uri))
	chat := tracing.ContextWithTraceOptions(ctx, tracing.WithSession("chat-1"))
	for _, q := range []string{"Hi", "Weather in Paris?", "Thanks"} {
		_, span := tracing.StartSpan(chat, "turn", tracing.WithSpanType(tracing.SpanTypeAgent), tracing.WithInputs(q))
		span.End(tracing.WithOutputs("…"))
	}
	_ = p.Shutdown(ctx)

	c, err := traces.NewClient(ctx, uri)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	sessions, err := c.SearchSessions(ctx, traces.SessionQuery{WithoutSpans: true})
	if err != nil {
		panic(err)
	}
	for _, s := range sessions {
		fmt.Println(s.ID, len(s.Traces), "turns")
	}
	_, err = c.SearchTraces(ctx, traces.SearchQuery{ModelID: "m-1", Filter: "status = 'OK'"})
	fmt.Println(errors.Is(err, traces.ErrInvalid))
	// Output:
	// chat-1 3 turns
	// true
}

// Traces in Unity Catalog tables of a Databricks workspace, read through a
// SQL warehouse (MLFLOW_TRACING_SQL_WAREHOUSE_ID does the same): the client
// starts the warehouse if it is stopped, waiting up to five minutes, and
// passes its id with every call that needs it. (Not run: it needs a
// workspace.)
func ExampleWithSQLWarehouseID() {
	ctx := context.Background()
	c, err := traces.NewClient(ctx,
		exporter.WithTrackingURI("databricks"), // DATABRICKS_HOST and credentials from the environment
		traces.WithSQLWarehouseID("1234567890abcdef"),
		traces.WithSQLWarehouseAutoStart(5*time.Minute))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	page, err := c.SearchTraces(ctx, traces.SearchQuery{Locations: []string{"main.agents"}, Filter: "status = 'ERROR'"})
	if errors.Is(err, traces.ErrSQLWarehouseRequired) {
		fmt.Println("set MLFLOW_TRACING_SQL_WAREHOUSE_ID")
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range page.Traces {
		fmt.Println(t.Info.TraceID, len(t.Spans))
	}
}
