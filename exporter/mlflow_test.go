package exporter_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/pyenv"
)

const readTracesPy = `
import json, sys, mlflow
mlflow.set_tracking_uri("file://" + sys.argv[1])
out = []
for t in mlflow.search_traces(return_type="list", locations=["0"]):
    out.append({
        "trace_id": t.info.trace_id,
        "state": str(t.info.state),
        "tags": t.info.tags,
        "request_preview": t.info.request_preview,
        "spans": [{
            "name": s.name,
            "status": s.status.status_code,
            "request_id": s.attributes.get("mlflow.traceRequestId"),
            "events": [e.attributes.get("exception.message", e.name) for e in s.events],
            "ended_in_root": s.end_time_ns is not None,
        } for s in t.data.spans],
    })
print(json.dumps(out))
`

type pyTrace struct {
	TraceID        string            `json:"trace_id"`
	State          string            `json:"state"`
	Tags           map[string]string `json:"tags"`
	RequestPreview string            `json:"request_preview"`
	Spans          []struct {
		Name      string   `json:"name"`
		Status    string   `json:"status"`
		RequestID string   `json:"request_id"`
		Events    []string `json:"events"`
	} `json:"spans"`
}

// TestMLflowReadsExportedTraces writes traces through a real TracerProvider
// into the local store and reads them back with MLflow's Python SDK.
func TestMLflowReadsExportedTraces(t *testing.T) {
	python := pyenv.Python(t)
	dir := t.TempDir()
	start := time.Now()
	exp, err := exporter.New(context.Background(), exporter.WithGetenv(noEnv), exporter.WithTrackingURI(dir),
		exporter.WithTraceTimeout(time.Hour), exporter.WithTimeoutCheckInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	tr := tp.Tracer(keys.ScopeName)

	// 1: a finished trace with a tag, and a child still open at Shutdown.
	ctx, root := tr.Start(context.Background(), "agent")
	root.SetAttributes(attribute.String(keys.SpanInputs, `{"question": "hi"}`))
	_, llm := tr.Start(ctx, "llm")
	llm.End()
	_, open := tr.Start(ctx, "still open")
	exp.UpdateTrace(root.SpanContext().TraceID(), func(u *exporter.TraceUpdate) {
		u.Tags = map[string]string{"team": "search"}
	})
	root.End()
	// 2: a trace that times out.
	_, slow := tr.Start(context.Background(), "slow")
	exp.Expire(start.Add(2 * time.Hour))

	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	open.End()
	slow.End()

	var got []pyTrace
	if err := json.Unmarshal(pyenv.Run(t, python, readTracesPy, dir), &got); err != nil {
		t.Fatal(err)
	}
	byName := map[string]pyTrace{}
	for _, tr := range got {
		byName[tr.Tags[keys.TagTraceName]] = tr
	}
	if len(got) != 2 {
		t.Fatalf("MLflow read %d traces, want 2: %+v", len(got), got)
	}
	a := byName["agent"]
	if a.TraceID != "tr-"+root.SpanContext().TraceID().String() || a.State != "OK" || a.Tags["team"] != "search" ||
		len(a.Spans) != 3 || a.RequestPreview != `{"question": "hi"}` {
		t.Errorf("agent trace = %+v", a)
	}
	for _, s := range a.Spans {
		if s.RequestID != a.TraceID {
			t.Errorf("span %s mlflow.traceRequestId = %q", s.Name, s.RequestID)
		}
	}
	s := byName["slow"]
	if s.State != "ERROR" || len(s.Spans) != 1 || s.Spans[0].Status != "ERROR" || len(s.Spans[0].Events) != 1 {
		t.Fatalf("timed-out trace = %+v", s)
	}
	want := "Trace " + s.TraceID + " is timed out after 3600 seconds."
	if got := s.Spans[0].Events[0]; len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("timeout event = %q, want prefix %q", got, want)
	}
}
