package exporter

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// Errors returned by Watch and TraceWatch.Wait.
var (
	// ErrTraceNotOpen: the trace is not open in this Exporter (unknown, not
	// sampled, already finished, or the Exporter has no MLflow destination).
	ErrTraceNotOpen = errors.New("exporter: trace is not open")
	// ErrTraceDropped: the trace was dropped before its root span ended
	// (evicted from the open-trace buffer, or Shutdown).
	ErrTraceDropped = errors.New("exporter: trace was dropped before it finished")
)

// TraceWatch is a handle on one open trace, taken with Exporter.Watch; Wait
// returns the finished trace. It holds the trace's memory only while the
// handle is reachable.
type TraceWatch struct {
	e  *Exporter
	ts *traceState
}

// traceWatch is the per-trace state behind TraceWatch handles.
type traceWatch struct {
	settleOnce sync.Once
	done       chan struct{}
	finished   bool // set before done is closed

	buildOnce sync.Once
	built     *Trace
}

// Watch returns a handle on the open trace id, so that the caller can have
// the finished, assembled trace (TraceWatch.Wait) — for example to return it
// in an HTTP response, as Databricks Model Serving does for
// databricks_options.return_trace. Take it while the trace is open (before
// its root span ends); it fails with ErrTraceNotOpen otherwise. Watching
// costs nothing on other traces: the watched trace is assembled once, by
// whichever of Wait and the export worker needs it first, and is exported
// as usual. Any number of handles may watch the same trace.
func (e *Exporter) Watch(id trace.TraceID) (*TraceWatch, error) {
	if e.closed.Load() {
		return nil, ErrTraceNotOpen
	}
	e.buf.mu.Lock()
	defer e.buf.mu.Unlock()
	ts := e.buf.openLocked(id)
	if ts == nil {
		return nil, ErrTraceNotOpen
	}
	if ts.watch == nil {
		ts.watch = &traceWatch{done: make(chan struct{})}
	}
	return &TraceWatch{e: e, ts: ts}, nil
}

// Wait waits until the watched trace has finished — its root span and every
// other span of it have ended, or it left the open-trace buffer with its
// root ended (trace timeout, eviction, Shutdown) — and returns it, assembled
// exactly as it is handed to the destination (which may not have written
// it yet). It does not wait for the export. It returns ErrTraceDropped when
// the trace was dropped unfinished, and ctx's error when ctx ends first. The
// returned Trace is shared with the export: treat it as read-only. Its
// Info.ExperimentID is the destination's experiment when the destination
// has one (the local store, an MLflow server, a Databricks experiment) and
// the assembled trace has none.
func (w *TraceWatch) Wait(ctx context.Context) (*Trace, error) {
	tw := w.ts.watch
	select {
	case <-tw.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if !tw.finished {
		return nil, ErrTraceDropped
	}
	t := *w.e.builtTrace(w.ts) // shallow copy: Info is changed below
	if t.Info.ExperimentID == "" && w.e.route.experimentID != nil {
		t.Info.ExperimentID = w.e.route.experimentID()
	}
	return &t, nil
}

// TraceID returns the MLflow id ("tr-…") of the watched trace.
func (w *TraceWatch) TraceID() string { return w.ts.reqID() }

// finish marks a detached trace finished (true) or dropped (false) and wakes
// its watchers; only the first call counts. It is called after the trace left
// the buffer (under no lock): no watch can be added any more.
func (ts *traceState) finish(finished bool) {
	tw := ts.watch
	if tw == nil {
		return
	}
	tw.settleOnce.Do(func() {
		tw.finished = finished
		close(tw.done)
	})
}

func (ts *traceState) reqID() string { return tracemodel.RequestID(ts.id) }

// builtTrace returns the assembled trace of a detached trace state. A
// watched trace is assembled once and shared between its watchers and the
// export worker; an unwatched one is assembled by the worker alone.
func (e *Exporter) builtTrace(ts *traceState) *Trace {
	tw := ts.watch
	if tw == nil {
		return e.assembleTrace(ts)
	}
	tw.buildOnce.Do(func() { tw.built = e.assembleTrace(ts) })
	return tw.built
}
