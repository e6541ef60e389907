package exporter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/envmeta"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/settings"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// TraceUpdate is what a program sets on its open trace; see UpdateTrace.
type TraceUpdate = tracemodel.TraceUpdate

// Exporter is the MLflow span processor: it groups the spans of each trace,
// and when a trace's root span ends hands the trace to its pipeline, which
// assembles the MLflow Trace and writes it to the destination. Register it
// on any sdktrace.TracerProvider (tp.RegisterSpanProcessor(exp)); package
// tracing does this for you.
//
// It is made of three parts with one job each: the trace assembler
// (openTraces: OnStart and OnEnd, on the caller's path, one short lock, no
// I/O, no goroutine), the pipeline (every goroutine: export queues and
// workers, trace expiry, error reporting, the destination's background
// work; Shutdown stops them all), and the route (the destination, built by
// an explicit constructor that states what it can do).
type Exporter struct {
	s        *settings.Settings
	route    route
	meta     map[string]string
	counters *counters

	buf  *openTraces
	pipe *pipeline

	closed    atomic.Bool
	beginOnce sync.Once
	finalOnce sync.Once
	finalErr  error
}

var _ sdktrace.SpanProcessor = (*Exporter)(nil)

// New returns an Exporter configured from the environment, then opts (see
// the package documentation for the variables and options). It selects the
// destination, reads the environment metadata once and starts the pipeline;
// call Shutdown to stop it. Its only network call is the Databricks
// destination's look-up of the experiment's Unity Catalog link, made in the
// background and waited for 3 seconds at most.
func New(ctx context.Context, opts ...Option) (*Exporter, error) {
	e := &Exporter{}
	// The retry counter is hooked in before the destination is selected, so
	// that every transport counts its retries, Databricks OAuth token
	// requests included. No request is made before New returns.
	hook := option(func(s *settings.Settings) { s.OnRetry = e.onRetry })
	s, err := settings.Resolve(append(opts[:len(opts):len(opts)], hook)...)
	if err != nil {
		return nil, fmt.Errorf("exporter: %w", err)
	}
	c := *s // the Exporter's own copy
	e.s, e.counters = &c, newCounters(c.ErrorHandler)
	e.pipe = newPipeline(e)
	e.route, err = newRoute(&c, e.pipe.report)
	if err != nil {
		return nil, fmt.Errorf("exporter: %w", err)
	}
	e.meta = envmeta.Collect(c.Env)
	if c.ActiveModelID != "" {
		e.meta[keys.MetaModelID] = c.ActiveModelID
	}
	e.buf = newOpenTraces(c.MaxOpenTraces, c.MaxSpansPerTrace, c.BufferTTL, c.TraceTimeout)
	e.pipe.start(ctx)
	return e, nil
}

// OnStart implements sdktrace.SpanProcessor. It adds mlflow.traceRequestId
// to the span and registers it in its trace.
func (e *Exporter) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	sc := s.SpanContext()
	if e.closed.Load() || !sc.IsSampled() {
		s.SetAttributes(e.requestIDAttr(sc.TraceID()))
		return
	}
	p := s.Parent()
	isRoot := !p.IsValid() || p.IsRemote()
	live := liveSpan{span: s}
	live.start, _ = parent.Value(keys.StartingSpan{}).(keys.StartAttributesWriter)
	attr, ok, capped, evicted := e.buf.start(live, isRoot, e.s.Now(), e.requestIDAttr)
	if !ok {
		// A child of a trace that is not open here (finished, timed out,
		// evicted): MLflow ignores it too. It still gets its request id.
		attr = e.requestIDAttr(sc.TraceID())
	}
	s.SetAttributes(attr)
	if ok && isRoot && keys.ScopesUsed.Load() {
		// The trace options of tracing.ContextWithTraceOptions.
		if apply, _ := parent.Value(keys.TraceScope{}).(func(*TraceUpdate)); apply != nil {
			e.UpdateTrace(sc.TraceID(), apply)
		}
	}
	if capped {
		e.counters.addSpansDropped(1)
		e.pipe.warnDrop(dropSpanCap, e.TraceID(sc.TraceID()), "span dropped: the trace reached its span limit")
	}
	for _, ts := range evicted {
		if ts.rootEnd != nil {
			e.pipe.enqueue(ts) // evicted after its root ended: exported, open spans included
			continue
		}
		e.dropTrace(ts, errEvicted)
		e.pipe.warnDrop(dropEvicted, e.TraceID(ts.id), "trace dropped: evicted from the open-trace buffer (MLFLOW_TRACE_BUFFER_MAX_SIZE / MLFLOW_TRACE_BUFFER_TTL_SECONDS)")
	}
}

// OnEnd implements sdktrace.SpanProcessor. It records the span's snapshot in
// its trace; when the trace's root has ended and no span of the trace is
// still open, the trace is handed to the pipeline.
func (e *Exporter) OnEnd(s sdktrace.ReadOnlySpan) {
	if e.closed.Load() {
		return
	}
	es, done := e.buf.end(s)
	if es == nil {
		return
	}
	if done != nil {
		e.pipe.enqueue(done) // its spans go with it, or its worker streams them
		return
	}
	e.pipe.spanEnded()
}

// ForceFlush implements sdktrace.SpanProcessor: it returns when every span
// and every finished trace handed to the pipeline before the call has been
// exported or has failed, or when ctx ends (then with ctx's error, the
// number of traces still waiting and the last failure of the destination).
// Traces whose root is still open are not affected.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	if err := e.pipe.flush(ctx); err != nil {
		_, pending := e.buf.lens()
		return e.gaveUp("ForceFlush", err, pending)
	}
	return nil
}

// Shutdown implements sdktrace.SpanProcessor. It stops accepting spans,
// exports the traces whose root has ended (spans still open are included,
// ended at the root's end time), drops and counts the traces whose root is
// still open, exports what is queued — with a spool, then also what an
// earlier process left in it (see Durable spool) —, stops every goroutine
// of the Exporter and shuts the destination down.
//
// A wait on a destination that fails or does not answer is reported to the
// error handler once, early, with the number of traces waiting and the
// cause. Shutdown honours ctx: when ctx ends first it cancels the exports in
// flight and the destination's background work, drops (and counts) what is
// still queued and returns an error wrapping ctx's error that says how many
// traces were waiting and why; calling it again finishes the job. When it
// completes, it returns an *UndeliveredError if any trace since New was not
// delivered (dropped or failed), nil otherwise; later calls return the same.
// After Shutdown, OnStart and OnEnd do nothing.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.beginOnce.Do(e.beginShutdown)
	_, waiting := e.buf.lens()
	settled := e.counters.tracesSettled()
	stop := e.pipe.noteWait()
	err := e.pipe.drain(ctx)
	stop()
	if err != nil {
		// The traces that waited and were neither delivered nor failed
		// before ctx ended.
		pending := max(0, waiting-int(e.counters.tracesSettled()-settled))
		e.pipe.abort()
		return e.gaveUp("Shutdown", err, pending)
	}
	e.finalOnce.Do(func() {
		errs := []error{e.pipe.stop(ctx)}
		if derr := e.route.dest.Shutdown(ctx); derr != nil {
			errs = append(errs, fmt.Errorf("exporter: destination shutdown: %w", derr))
		}
		if lost := e.undelivered(); lost != nil {
			errs = append(errs, lost)
		}
		e.finalErr = errors.Join(errs...)
	})
	return e.finalErr
}

// beginShutdown stops intake: expiry stops, finished traces still buffered
// are queued, unfinished ones dropped.
func (e *Exporter) beginShutdown() {
	e.closed.Store(true)
	e.pipe.stopExpiry()
	dropped := 0
	for _, ts := range e.buf.drain() {
		if ts.rootEnd != nil {
			e.pipe.enqueue(ts)
			continue
		}
		e.dropTrace(ts, errOpenAtShutdown)
		dropped++
	}
	if dropped > 0 {
		n := int64(dropped)
		e.pipe.report(fmt.Errorf("exporter: %d %s still open at shutdown %s dropped (%s root span had not ended)",
			n, plural(n, "trace", "traces"), plural(n, "was", "were"), plural(n, "its", "their")))
	}
}

// UpdateTrace applies fn to the pending update of the open trace id, under the
// exporter's lock (fn must be quick, and must neither end spans nor call the
// Exporter). It reports false when the trace is not open here (unknown,
// unsampled or already finished).
func (e *Exporter) UpdateTrace(id trace.TraceID, fn func(*TraceUpdate)) bool {
	if fn == nil {
		return false
	}
	e.buf.mu.Lock()
	defer e.buf.mu.Unlock()
	ts := e.buf.openLocked(id)
	if ts == nil {
		return false
	}
	if ts.upd == nil {
		ts.upd = &TraceUpdate{}
	}
	fn(ts.upd)
	return true
}

// AwaitExport waits until the trace id, if this Exporter is recording it or
// has it waiting for export, has reached the destination, and returns nil;
// at once when the trace is not known here (never seen, or already
// delivered). It returns ErrTraceDropped (wrapped, with the reason) when the
// trace was dropped, the destination's error (an *ExportError) when its
// export failed, and ctx's error when ctx ends first. Use it to order work
// that needs the stored trace — a user's feedback on it — after its export.
func (e *Exporter) AwaitExport(ctx context.Context, id trace.TraceID) error {
	st := e.buf.await(id)
	if st == nil {
		return nil
	}
	select {
	case <-st.done:
		return st.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ReportError hands err to the Exporter's error handler, from the
// pipeline's reporter goroutine: it never blocks and never runs the handler
// on the caller's goroutine (when the reporter is far behind, the report is
// dropped). It is the SDK's one error path: package tracing and the
// integrations report their background errors here (tracing.ReportError).
func (e *Exporter) ReportError(err error) {
	if err != nil {
		e.pipe.rep.tryReport(err)
	}
}

// Stats returns the Exporter's counters.
func (e *Exporter) Stats() Stats {
	// The spool first: a trace is counted before its record leaves the
	// spool, so a Stats with SpoolPending 0 has counted every trace that
	// left it.
	var sp Stats
	if sc := e.pipe.spool; sc != nil {
		sc.stats(&sp)
	}
	st := e.counters.stats()
	st.SpoolDir, st.SpoolBytes, st.SpoolPending = sp.SpoolDir, sp.SpoolBytes, sp.SpoolPending
	st.SpoolDeadLetters, st.SpoolRecordsSkipped = sp.SpoolDeadLetters, sp.SpoolRecordsSkipped
	return st
}

// requestIDAttr is the mlflow.traceRequestId attribute: the JSON string of
// the trace's MLflow id, quotes included.
func (e *Exporter) requestIDAttr(id trace.TraceID) attribute.KeyValue {
	return attribute.String(keys.TraceRequestID, `"`+e.TraceID(id)+`"`)
}

// TraceID returns the MLflow id of the OpenTelemetry trace id: "tr-<32 hex>",
// or "trace:/<location>/<32 hex>" when traces go to Unity Catalog tables
// (MLFLOW_TRACING_DESTINATION=<catalog>.<schema>, or an experiment linked to
// them). It is safe on a nil Exporter ("tr-…").
func (e *Exporter) TraceID(id trace.TraceID) string {
	if e == nil {
		return tracemodel.RequestID(id)
	}
	if p, _ := e.traceIDPrefix(); p != "" {
		return p + id.String()
	}
	return tracemodel.RequestID(id)
}

// traceIDPrefix returns the prefix of the MLflow ids of traces started now
// and their schema version, as the destination says ("" for the defaults:
// "tr-" and "3").
func (e *Exporter) traceIDPrefix() (prefix, schemaVersion string) {
	if e.route.idPrefix == nil {
		return "", ""
	}
	return e.route.idPrefix()
}

// idPrefix is the prefix of MLflow trace ids ("tr-" unless Unity Catalog).
func (e *Exporter) idPrefix() string {
	if p, _ := e.traceIDPrefix(); p != "" {
		return p
	}
	return tracemodel.RequestIDPrefix
}

// dropTrace counts a trace that will never be exported and settles it.
func (e *Exporter) dropTrace(ts *traceState, why error) {
	ts.finish(false)
	e.counters.addTracesDropped(1)
	e.counters.addSpansDropped(len(ts.ended) + len(ts.open))
	e.pipe.noteLoss(why)
	e.buf.settle(ts, why)
}
