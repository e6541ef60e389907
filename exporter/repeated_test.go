package exporter_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
)

// A destination reports a configuration problem once (an MLflow 2.x server
// without StartTraceV3), but every trace it could not deliver still counts:
// the later batches used to come back as success, so Stats counted them
// exported and Shutdown's error said 2 of 12 traces were not delivered
// where none was stored.
func TestRepeatedFailureStillCountsEveryTrace(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/version" {
			fmt.Fprint(w, "2.21.0")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error_code":"ENDPOINT_NOT_FOUND","message":"No API found"}`)
	}))
	defer srv.Close()
	var log errLog
	exp, err := exporter.New(context.Background(), exporter.WithGetenv(noEnv), exporter.WithTrackingURI(srv.URL),
		exporter.WithBatchSize(2), exporter.WithMaxWorkers(1), exporter.WithErrorHandler(log.handle))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	const n = 12
	for range n {
		_, root := tp.Tracer("x").Start(context.Background(), "root")
		root.End()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = tp.Shutdown(ctx)
	var ue *exporter.UndeliveredError
	if !errors.As(err, &ue) || ue.Traces != n || !strings.Contains(err.Error(), "MLflow >= 3.0") {
		t.Errorf("Shutdown = %v, want all %d traces undelivered, with the reason", err, n)
	}
	if st := exp.Stats(); st.TracesExported != 0 || st.TracesFailed != n {
		t.Errorf("Stats exported %d failed %d, want 0 and %d", st.TracesExported, st.TracesFailed, n)
	}
	reports := 0
	for _, e := range log.snapshot() {
		if strings.Contains(e.Error(), "MLflow >= 3.0") {
			reports++
		}
	}
	if reports != 1 {
		t.Errorf("%d reports of the 2.x server, want 1: %v", reports, log.snapshot())
	}
}
