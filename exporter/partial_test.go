package exporter_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
)

// One trace of a batch that the destination cannot write must not count its
// batch-mates as lost: they were written. The local store writes each trace
// on its own; a tag key MLflow's file store cannot hold ("") fails that trace
// only (MLflow's Python SDK fails that trace too and writes the others).
//
// With the spool, the batch-mates are acknowledged and only the bad trace is
// kept as a dead letter.
func TestOneBadTraceDoesNotFailItsBatch(t *testing.T) {
	for _, spooled := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory", true: "spool"}[spooled], func(t *testing.T) {
			oneBadTrace(t, spooled)
		})
	}
}

func oneBadTrace(t *testing.T, spooled bool) {
	dir := t.TempDir()
	var mu sync.Mutex
	var reports []error
	opts := []exporter.Option{exporter.WithGetenv(noEnv),
		exporter.WithTrackingURI(dir), exporter.WithBatchSize(5), exporter.WithBatchInterval(time.Hour),
		exporter.WithErrorHandler(func(err error) { mu.Lock(); reports = append(reports, err); mu.Unlock() })}
	if spooled {
		opts = append(opts, exporter.WithSpool(t.TempDir()), exporter.WithSpoolIntervals(time.Hour, time.Hour))
	}
	exp, err := exporter.New(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	tr := tp.Tracer("x")
	var bad string
	for i := range 5 {
		_, root := tr.Start(context.Background(), "root")
		if i == 2 {
			id := root.SpanContext().TraceID()
			bad = "tr-" + id.String()
			exp.UpdateTrace(id, func(u *exporter.TraceUpdate) { u.Tags = map[string]string{"": "x"} })
		}
		root.End()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = tp.Shutdown(ctx)

	entries, _ := os.ReadDir(filepath.Join(dir, "0", "traces"))
	if len(entries) != 5 {
		t.Fatalf("%d trace directories, want 5", len(entries))
	}
	st := exp.Stats()
	switch {
	case !spooled:
		if st.TracesExported != 4 || st.TracesFailed != 1 {
			t.Errorf("Stats exported %d failed %d, want 4 and 1", st.TracesExported, st.TracesFailed)
		}
		var ue *exporter.UndeliveredError
		if !errors.As(err, &ue) || ue.Traces != 1 {
			t.Errorf("Shutdown = %v, want an UndeliveredError for 1 trace", err)
		}
	default:
		if st.TracesExported != 4 || st.TracesDeadLettered != 1 || st.SpoolDeadLetters != 1 || st.TracesFailed != 0 {
			t.Errorf("Stats %+v, want 4 exported and 1 dead letter", st)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range reports {
		var xe *exporter.ExportError
		if !errors.As(r, &xe) {
			continue // e.g. the spool's note of the dead letter left
		}
		if len(xe.TraceIDs) != 1 || xe.TraceIDs[0] != bad {
			t.Errorf("reported %v, want only %s failed", r, bad)
		}
		if !strings.Contains(r.Error(), bad) {
			t.Errorf("report %v does not name %s", r, bad)
		}
	}
}
