package exporter_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
)

// heldDest blocks every export until release is closed.
type heldDest struct{ release chan struct{} }

func (d *heldDest) ExportTraces(ctx context.Context, _ []*exporter.Trace) error {
	select {
	case <-d.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (d *heldDest) Shutdown(context.Context) error { return nil }

// expDest is a destination that reports its experiment id.
type expDest struct{ heldDest }

func (expDest) ExperimentID() string { return "42" }

func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestWatchReturnsAssembledTrace(t *testing.T) {
	f := setup(t, nil)
	ctx, root := f.tracer.Start(context.Background(), "agent")
	w, err := f.exp.Watch(root.SpanContext().TraceID())
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	_, child := f.tracer.Start(ctx, "tool")
	root.End()

	// The root ended but a child is open: not finished yet.
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := w.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with an open child = %v, want deadline exceeded", err)
	}
	child.End()
	got, err := w.Wait(waitCtx(t))
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if got.Info.TraceID != w.TraceID() || len(got.Spans) != 2 {
		t.Fatalf("got trace %s with %d spans, want %s with 2", got.Info.TraceID, len(got.Spans), w.TraceID())
	}
	// The exported trace is the same assembly (built once).
	f.flush(t)
	exported := f.rec.Trace(w.TraceID())
	if exported == nil {
		t.Fatal("trace not exported")
	}
	if exported.Spans[0] != got.Spans[0] {
		t.Error("watcher and export got different assemblies")
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var back exporter.Trace
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Unmarshal of %s: %v", b, err)
	}
	if back.Info.TraceID != got.Info.TraceID || len(back.Spans) != 2 {
		t.Errorf("round trip: %+v", back.Info)
	}
}

func TestWatchDoesNotWaitForExportAndFillsExperiment(t *testing.T) {
	d := &expDest{heldDest{release: make(chan struct{})}}
	defer close(d.release)
	f := setup(t, d, exporter.WithMaxWorkers(1), exporter.WithTestRoute(d, exporter.TestCaps{ExperimentID: d.ExperimentID}))
	// A first trace occupies the only export worker.
	_, r1 := f.tracer.Start(context.Background(), "first")
	r1.End()
	_, root := f.tracer.Start(context.Background(), "second")
	w, err := f.exp.Watch(root.SpanContext().TraceID())
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	root.End()
	got, err := w.Wait(waitCtx(t))
	if err != nil {
		t.Fatalf("Wait while the destination is blocked: %v", err)
	}
	if got.Info.ExperimentID != "42" {
		t.Errorf("ExperimentID = %q, want the destination's 42", got.Info.ExperimentID)
	}
}

func TestWatchErrors(t *testing.T) {
	f := setup(t, nil, exporter.WithMaxOpenTraces(1))
	if _, err := f.exp.Watch(trace.TraceID{1}); !errors.Is(err, exporter.ErrTraceNotOpen) {
		t.Errorf("Watch(unknown) = %v, want ErrTraceNotOpen", err)
	}
	_, done := f.tracer.Start(context.Background(), "done")
	done.End()
	if _, err := f.exp.Watch(done.SpanContext().TraceID()); !errors.Is(err, exporter.ErrTraceNotOpen) {
		t.Errorf("Watch(finished) = %v, want ErrTraceNotOpen", err)
	}

	// Evicted while its root is open: dropped.
	_, open := f.tracer.Start(context.Background(), "open")
	w, err := f.exp.Watch(open.SpanContext().TraceID())
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	_, next := f.tracer.Start(context.Background(), "next") // evicts "open"
	if _, err := w.Wait(waitCtx(t)); !errors.Is(err, exporter.ErrTraceDropped) {
		t.Errorf("Wait(evicted) = %v, want ErrTraceDropped", err)
	}
	open.End()
	next.End()
}

func TestWatchShutdownWakesWaiters(t *testing.T) {
	f := setup(t, nil)
	_, open := f.tracer.Start(context.Background(), "open")
	w, err := f.exp.Watch(open.SpanContext().TraceID())
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, werr = w.Wait(waitCtx(t))
	}()
	wantUndelivered(t, f.exp, f.exp.Shutdown(waitCtx(t)))
	wg.Wait()
	if !errors.Is(werr, exporter.ErrTraceDropped) {
		t.Errorf("Wait after Shutdown with the root open = %v, want ErrTraceDropped", werr)
	}
	open.End()
	if _, err := f.exp.Watch(open.SpanContext().TraceID()); !errors.Is(err, exporter.ErrTraceNotOpen) {
		t.Errorf("Watch after Shutdown = %v, want ErrTraceNotOpen", err)
	}
}

func TestWatchManyWaiters(t *testing.T) {
	f := setup(t, nil)
	_, root := f.tracer.Start(context.Background(), "agent")
	var ws []*exporter.TraceWatch
	for range 8 {
		w, err := f.exp.Watch(root.SpanContext().TraceID())
		if err != nil {
			t.Fatalf("Watch: %v", err)
		}
		ws = append(ws, w)
	}
	root.End()
	var wg sync.WaitGroup
	got := make([]*exporter.Trace, len(ws))
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr, err := w.Wait(waitCtx(t))
			if err != nil {
				t.Errorf("Wait: %v", err)
			}
			got[i] = tr
		}()
	}
	wg.Wait()
	for _, tr := range got {
		if tr == nil || tr.Spans[0] != got[0].Spans[0] {
			t.Fatal("waiters got different assemblies")
		}
	}
}
