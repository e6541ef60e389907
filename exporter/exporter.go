package exporter

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/assemble"
	"github.com/mlflowtrace/mlflowtrace-go/internal/batch"
	"github.com/mlflowtrace/mlflowtrace-go/internal/envmeta"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// TraceUpdate is what a program sets on its open trace; see UpdateTrace.
type TraceUpdate = tracemodel.TraceUpdate

// Exporter is the MLflow span processor: it groups the spans of each trace,
// assembles the MLflow Trace when the root span ends, and hands spans and
// traces to its Destination from background workers. Register it on any
// sdktrace.TracerProvider (tp.RegisterSpanProcessor(exp)); package tracing
// does this for you.
//
// OnStart and OnEnd run on the caller's path: they take one short lock, never
// do I/O and never block on the destination. Everything else (span
// conversion, trace assembly, export) runs on goroutines owned by the
// Exporter and stopped by Shutdown.
type Exporter struct {
	cfg      config
	dest     Destination  // nil: MLflow export off (OTLP only)
	streamer SpanStreamer // dest as a SpanStreamer, or nil
	// carrier: the destination sends a finished trace's unstreamed spans
	// itself (see unstreamedSpansSender), so only open traces stream.
	carrier bool
	// idSource is dest when the prefix of trace ids depends on what the
	// destination learns (a Databricks experiment linked to Unity Catalog).
	idSource traceIDPrefixer
	otlp     sdktrace.SpanProcessor
	meta     map[string]string
	counters *counters

	traceQ *batch.Batcher[*traceState]
	spanQ  *batch.Batcher[*endedSpan] // nil unless streaming

	mu     sync.Mutex
	traces map[trace.TraceID]*traceState
	oldest *traceState // open traces in creation order
	newest *traceState

	closed       atomic.Bool
	beginOnce    sync.Once
	janitorStop  chan struct{}
	janitorDone  chan struct{}
	finalOnce    sync.Once
	finalErr     error
	lastDropWarn [numDropKinds]atomic.Int64 // unix nanos of the last report

	// Traces (and their spans) still queued when Shutdown's ctx ended,
	// reported once when the trace workers stop.
	shutdownDropped, shutdownDroppedSpans atomic.Int64

	// Reports raised on the caller's path (drops) go through this channel
	// to the reporter goroutine, so the error handler's I/O never runs in
	// OnStart/OnEnd.
	reports      chan error
	reporterStop chan struct{}
	reporterDone chan struct{}
}

// traceState is one open trace. Its fields are guarded by Exporter.mu while
// the trace is in Exporter.traces; once detached it belongs to the goroutine
// that detached it (and then to the export worker).
type traceState struct {
	id      trace.TraceID
	reqAttr attribute.KeyValue // mlflow.traceRequestId, computed once per trace
	created time.Time
	rootID  trace.SpanID
	root    sdktrace.ReadWriteSpan // live root, from OnStart
	rootEnd sdktrace.ReadOnlySpan  // root snapshot, from OnEnd
	open    map[trace.SpanID]sdktrace.ReadWriteSpan
	ended   []*endedSpan
	upd     *TraceUpdate
	prev    *traceState
	next    *traceState
	// queued is set once the trace is in the export queue; span workers
	// read it without the lock to leave its spans to the trace export.
	queued atomic.Bool
	// watch is non-nil once a Watch was taken on the open trace (allocated
	// under Exporter.mu); see watch.go.
	watch *traceWatch
}

// endedSpan is an ended span of an open trace. The same value is queued for
// streaming and kept in its trace, so the span is converted once: by
// whichever worker needs it first (see converted); the converted Span is
// read-only from then on and shared by both exports.
type endedSpan struct {
	ro    sdktrace.ReadOnlySpan
	conv  atomic.Pointer[Span]
	trace *traceState
}

// converted returns the span's MLflow conversion, converting it on first use.
// Concurrent callers get the same pointer.
func (es *endedSpan) converted() *Span {
	if ms := es.conv.Load(); ms != nil {
		return ms
	}
	ms := assemble.ConvertSpan(es.ro)
	if !es.conv.CompareAndSwap(nil, ms) {
		return es.conv.Load()
	}
	return ms
}

var _ sdktrace.SpanProcessor = (*Exporter)(nil)

// New returns an Exporter configured from the environment, then opts (see
// the package documentation for the variables and options). It selects the
// destination, reads the environment metadata once and starts the background
// workers; call Shutdown to stop them.
func New(ctx context.Context, opts ...Option) (*Exporter, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	c.counters = newCounters()
	e := &Exporter{
		cfg:      c,
		counters: c.counters,
		traces:   make(map[trace.TraceID]*traceState),
	}

	otlp, mlflowToo, err := e.cfg.newOTLPProcessor(ctx)
	if err != nil {
		return nil, err
	}
	e.otlp = otlp
	if mlflowToo || otlp == nil || e.cfg.dest != nil {
		dest, err := e.cfg.newDestination(ctx)
		if err != nil {
			if otlp != nil {
				_ = otlp.Shutdown(ctx)
			}
			return nil, err
		}
		e.dest = dest
		e.streamer, _ = dest.(SpanStreamer)
		if c, ok := dest.(unstreamedSpansSender); ok && e.streamer != nil {
			e.carrier = c.SendsUnstreamedSpans()
		}
		e.idSource, _ = dest.(traceIDPrefixer)
		if s, ok := dest.(starter); ok {
			wctx, cancel := context.WithTimeout(ctx, startWait)
			s.Start(wctx)
			cancel()
		}
	}
	if e.dest == nil {
		return e, nil
	}
	e.meta = envmeta.Collect(e.cfg.getenv)
	e.reports = make(chan error, 16)
	e.reporterStop = make(chan struct{})
	e.reporterDone = make(chan struct{})
	go e.reporter()

	e.traceQ = batch.New(e.exportTraces, batch.Config[*traceState]{
		QueueSize:     c.maxQueueSize,
		Workers:       c.maxWorkers,
		BatchSize:     c.batchSize,
		Interval:      0, // a finished trace is exported as soon as a worker is free
		ExportTimeout: c.exportTimeout,
		OnError: func(n int, err error) {
			e.counters.addExportFailures(1)
			e.report(err)
		},
		OnDrop: e.droppedAtShutdown,
		OnStop: e.reportShutdownDrops,
	})
	if e.streamer != nil {
		e.spanQ = batch.New(e.exportSpans, batch.Config[*endedSpan]{
			QueueSize:     c.maxQueueSize,
			Workers:       c.maxWorkers,
			BatchSize:     c.batchSize,
			Interval:      c.batchInterval,
			ExportTimeout: c.exportTimeout,
			OnError: func(n int, err error) {
				e.counters.addExportFailures(1)
				e.counters.addStreamDropped(n)
				e.report(err)
			},
			OnDrop: func(d []*endedSpan) { e.counters.addStreamDropped(len(d)) },
		})
	}
	if c.traceTimeout > 0 {
		e.janitorStop = make(chan struct{})
		e.janitorDone = make(chan struct{})
		go e.janitor(c.timeoutCheckInterval)
	}
	return e, nil
}

// OnStart implements sdktrace.SpanProcessor. It adds mlflow.traceRequestId
// to the span and registers it in its trace.
func (e *Exporter) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	sc := s.SpanContext()
	if e.dest == nil || e.closed.Load() || !sc.IsSampled() {
		s.SetAttributes(e.requestIDAttr(sc.TraceID()))
		if e.otlp != nil {
			e.otlp.OnStart(parent, s)
		}
		return
	}
	p := s.Parent()
	isRoot := !p.IsValid() || p.IsRemote()

	var (
		attr    attribute.KeyValue
		evicted []*traceState
		capped  bool
	)
	e.mu.Lock()
	ts := e.traces[sc.TraceID()]
	if ts == nil && isRoot {
		now := e.cfg.now()
		evicted = e.makeRoomLocked(now)
		ts = &traceState{
			id:      sc.TraceID(),
			reqAttr: e.requestIDAttr(sc.TraceID()),
			created: now,
			rootID:  sc.SpanID(),
			root:    s,
			open:    make(map[trace.SpanID]sdktrace.ReadWriteSpan, 4),
		}
		e.traces[ts.id] = ts
		e.linkLocked(ts)
	}
	if ts != nil {
		attr = ts.reqAttr
		if len(ts.open)+len(ts.ended) >= e.cfg.maxSpansPerTrace {
			capped = true
		} else {
			ts.open[sc.SpanID()] = s
		}
	}
	e.mu.Unlock()

	if ts == nil {
		// A child of a trace that is not open here (finished, timed out,
		// evicted): MLflow ignores it too. It still gets its request id.
		attr = e.requestIDAttr(sc.TraceID())
	}
	s.SetAttributes(attr)
	if e.otlp != nil {
		e.otlp.OnStart(parent, s)
	}
	if capped {
		e.counters.addSpansDropped(1)
		e.warnDrop(dropSpanCap, sc.TraceID(), "span dropped: the trace reached its span limit")
	}
	e.disposeEvicted(evicted)
}

// OnEnd implements sdktrace.SpanProcessor. It records the span's snapshot in
// its trace; when the trace's root has ended and no span of the trace is
// still open, the trace is handed to the export workers.
func (e *Exporter) OnEnd(s sdktrace.ReadOnlySpan) {
	if e.otlp != nil {
		e.otlp.OnEnd(s)
	}
	if e.dest == nil || e.closed.Load() {
		return
	}
	sc := s.SpanContext()
	e.mu.Lock()
	ts := e.traces[sc.TraceID()]
	if ts == nil {
		e.mu.Unlock()
		return // not tracked, or already finished: never resurrect a trace
	}
	if _, ok := ts.open[sc.SpanID()]; !ok {
		e.mu.Unlock()
		return // dropped at start (span limit)
	}
	delete(ts.open, sc.SpanID())
	es := &endedSpan{ro: s, trace: ts}
	ts.ended = append(ts.ended, es)
	if sc.SpanID() == ts.rootID {
		ts.rootEnd = s
	}
	done := ts.rootEnd != nil && len(ts.open) == 0
	if done {
		e.unlinkLocked(ts)
	}
	e.mu.Unlock()

	if e.spanQ != nil && !e.spanQ.Enqueue(es) {
		e.counters.addStreamDropped(1)
		e.warnDrop(dropSpanQueue, sc.TraceID(), "span not streamed: the span export queue is full")
	}
	if done {
		e.enqueueTrace(ts)
	}
}

// ForceFlush implements sdktrace.SpanProcessor: it returns when every span
// and every finished trace handed to the workers before the call has been
// exported or has failed, or when ctx ends. Traces whose root is still open
// are not affected.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	var errs []error
	if e.spanQ != nil {
		errs = append(errs, e.spanQ.ForceFlush(ctx))
	}
	if e.traceQ != nil {
		errs = append(errs, e.traceQ.ForceFlush(ctx))
	}
	if e.otlp != nil {
		errs = append(errs, e.otlp.ForceFlush(ctx))
	}
	return errors.Join(errs...)
}

// Shutdown implements sdktrace.SpanProcessor. It stops accepting spans,
// exports the traces whose root has ended (spans still open are included,
// ended at the root's end time), drops and counts the traces whose root is
// still open, flushes the queues, stops every goroutine and shuts the
// destination down. It honours ctx: when ctx ends first it cancels the
// exports in flight and returns ctx's error; calling it again finishes the
// job. After Shutdown, OnStart and OnEnd do nothing.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.beginOnce.Do(e.beginShutdown)
	// Both queues are always told to stop, even when the span queue gave up
	// first: with an expired ctx the trace queue then cancels its exports
	// and drops (and counts) what is still queued instead of running on.
	var errs []error
	if e.spanQ != nil {
		if err := e.spanQ.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if e.traceQ != nil {
		if err := e.traceQ.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errs[0] // ctx's error
	}
	e.finalOnce.Do(func() {
		var errs []error
		if e.dest != nil {
			errs = append(errs, e.dest.Shutdown(ctx))
		}
		if e.otlp != nil {
			errs = append(errs, e.otlp.Shutdown(ctx))
		}
		e.finalErr = errors.Join(errs...)
	})
	return e.finalErr
}

func (e *Exporter) beginShutdown() {
	e.closed.Store(true)
	if e.janitorStop != nil {
		close(e.janitorStop)
		<-e.janitorDone
	}
	if e.dest == nil {
		return
	}
	var finished, dropped []*traceState
	e.mu.Lock()
	for ts := e.oldest; ts != nil; {
		next := ts.next
		e.unlinkLocked(ts)
		if ts.rootEnd != nil {
			finished = append(finished, ts)
		} else {
			dropped = append(dropped, ts)
		}
		ts = next
	}
	e.mu.Unlock()
	for _, ts := range finished {
		e.enqueueTrace(ts)
	}
	for _, ts := range dropped {
		e.countDroppedTrace(ts)
	}
	if len(dropped) > 0 {
		e.report(fmt.Errorf("exporter: %d traces still open at shutdown were dropped (their root span had not ended)", len(dropped)))
	}
	// From here on nothing reports through the channel that matters: OnStart
	// and OnEnd are no-ops and the workers report directly.
	close(e.reporterStop)
	<-e.reporterDone
}

// droppedAtShutdown counts the finished traces the trace queue abandoned
// because Shutdown's ctx ended (batch.Config.OnDrop).
func (e *Exporter) droppedAtShutdown(states []*traceState) {
	spans := 0
	for _, ts := range states {
		e.countDroppedTrace(ts)
		spans += len(ts.ended) + len(ts.open)
	}
	e.shutdownDropped.Add(int64(len(states)))
	e.shutdownDroppedSpans.Add(int64(spans))
}

// reportShutdownDrops reports, once, the traces dropped at Shutdown
// (batch.Config.OnStop: after the trace queue's last export).
func (e *Exporter) reportShutdownDrops() {
	if n := e.shutdownDropped.Load(); n > 0 {
		e.report(fmt.Errorf("exporter: %d finished traces (%d spans) still queued when Shutdown's context ended were dropped", n, e.shutdownDroppedSpans.Load()))
	}
}

// UpdateTrace applies fn to the pending update of the open trace id, under the
// exporter's lock (fn must be quick, and must neither end spans nor call the
// Exporter). It
// reports false when the trace is not open here (unknown, unsampled or
// already finished).
func (e *Exporter) UpdateTrace(id trace.TraceID, fn func(*TraceUpdate)) bool {
	if e.dest == nil || fn == nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ts := e.traces[id]
	if ts == nil {
		return false
	}
	if ts.upd == nil {
		ts.upd = &TraceUpdate{}
	}
	fn(ts.upd)
	return true
}

// Stats returns the Exporter's counters.
func (e *Exporter) Stats() Stats { return e.counters.stats() }

// requestIDAttr is the mlflow.traceRequestId attribute: the JSON string of
// the trace's MLflow id, quotes included.
func (e *Exporter) requestIDAttr(id trace.TraceID) attribute.KeyValue {
	return attribute.String(keys.TraceRequestID, `"`+e.TraceID(id)+`"`)
}

// TraceID returns the MLflow id of the OpenTelemetry trace id: "tr-<32 hex>",
// or "trace:/<catalog>.<schema>/<32 hex>" when traces go to Unity Catalog
// tables (MLFLOW_TRACING_DESTINATION=<catalog>.<schema>). It is safe on a nil
// Exporter ("tr-…").
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
	if e.idSource == nil {
		return "", ""
	}
	return e.idSource.TraceIDPrefix()
}

// --- open-trace buffer ---------------------------------------------------

func (e *Exporter) linkLocked(ts *traceState) {
	ts.prev, ts.next = e.newest, nil
	if e.newest != nil {
		e.newest.next = ts
	} else {
		e.oldest = ts
	}
	e.newest = ts
}

// unlinkLocked detaches ts from the buffer.
func (e *Exporter) unlinkLocked(ts *traceState) {
	delete(e.traces, ts.id)
	if ts.prev != nil {
		ts.prev.next = ts.next
	} else if e.oldest == ts {
		e.oldest = ts.next
	}
	if ts.next != nil {
		ts.next.prev = ts.prev
	} else if e.newest == ts {
		e.newest = ts.prev
	}
	ts.prev, ts.next = nil, nil
}

// makeRoomLocked detaches the traces that must leave the buffer before a new
// one is added: those older than the buffer TTL (only when no trace timeout
// is set, as in MLflow), then the oldest while the buffer is full.
func (e *Exporter) makeRoomLocked(now time.Time) []*traceState {
	var out []*traceState
	if e.cfg.traceTimeout == 0 {
		for ts := e.oldest; ts != nil && now.Sub(ts.created) >= e.cfg.bufferTTL; ts = e.oldest {
			e.unlinkLocked(ts)
			out = append(out, ts)
		}
	}
	for len(e.traces) >= e.cfg.maxOpenTraces && e.oldest != nil {
		ts := e.oldest
		e.unlinkLocked(ts)
		out = append(out, ts)
	}
	return out
}

// disposeEvicted exports evicted traces whose root has ended (their open
// spans are included) and drops the others, as MLflow's buffer does.
func (e *Exporter) disposeEvicted(evicted []*traceState) {
	for _, ts := range evicted {
		if ts.rootEnd != nil {
			e.enqueueTrace(ts)
			continue
		}
		e.countDroppedTrace(ts)
		e.warnDrop(dropEvicted, ts.id, "trace dropped: evicted from the open-trace buffer (MLFLOW_TRACE_BUFFER_MAX_SIZE / MLFLOW_TRACE_BUFFER_TTL_SECONDS)")
	}
}

func (e *Exporter) countDroppedTrace(ts *traceState) {
	ts.settle(false)
	e.counters.addTracesDropped(1)
	e.counters.addSpansDropped(len(ts.ended) + len(ts.open))
}

func (e *Exporter) enqueueTrace(ts *traceState) {
	ts.settle(true) // finished: a watcher can have it even if the queue is full
	if e.traceQ.Enqueue(ts) {
		ts.queued.Store(true)
	} else {
		e.countDroppedTrace(ts)
		e.warnDrop(dropTraceQueue, ts.id, "trace dropped: the trace export queue is full (MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE)")
	}
}

// idPrefix is the prefix of MLflow trace ids ("tr-" unless Unity Catalog).
func (e *Exporter) idPrefix() string {
	if p, _ := e.traceIDPrefix(); p != "" {
		return p
	}
	return tracemodel.RequestIDPrefix
}

// --- timeout janitor -------------------------------------------------------

func (e *Exporter) janitor(interval time.Duration) {
	defer close(e.janitorDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-e.janitorStop:
			return
		case <-t.C:
			e.expire(e.cfg.now())
		}
	}
}

// expire halts the traces open longer than the trace timeout, as MLflow's
// MlflowTraceTimeoutCache does: the root span gets status ERROR and an
// "exception" event with MLflow's message, then ends, so the trace is
// exported with state ERROR. Spans of the trace still open are included,
// ended at the root's end time.
func (e *Exporter) expire(now time.Time) {
	var due []*traceState
	e.mu.Lock()
	for ts := e.oldest; ts != nil && now.Sub(ts.created) >= e.cfg.traceTimeout; ts = ts.next {
		due = append(due, ts)
	}
	e.mu.Unlock()
	for _, ts := range due {
		// Reading rootEnd without the lock would race; ending an ended span
		// is a no-op in the SDK, and so are SetStatus and AddEvent.
		msg := timeoutMessage(e.idPrefix(), ts.id, e.cfg.traceTimeout)
		ts.root.SetStatus(codes.Error, "")
		ts.root.AddEvent("exception", trace.WithAttributes(
			attribute.String("exception.message", msg),
			attribute.String("exception.type", "MlflowTracingException"),
			attribute.String("exception.stacktrace", "mlflow.exceptions.MlflowTracingException: "+msg),
		))
		ts.root.End() // OnEnd exports the trace unless spans are still open

		e.mu.Lock()
		still := e.traces[ts.id] == ts
		if still {
			e.unlinkLocked(ts)
		}
		e.mu.Unlock()
		if still {
			e.enqueueTrace(ts)
		}
	}
}

// timeoutMessage is MLflow's _TRACE_EXPIRATION_MSG.
func timeoutMessage(prefix string, id trace.TraceID, timeout time.Duration) string {
	return "Trace " + prefix + id.String() + " is timed out after " +
		strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64) + " seconds. " +
		"The operation may be stuck or taking too long to complete. " +
		"To increase the timeout, set the environment variable MLFLOW_TRACE_TIMEOUT_SECONDS to a larger value."
}

// --- background export -------------------------------------------------------

// assembleTrace converts and assembles a detached trace (worker side).
func (e *Exporter) assembleTrace(ts *traceState) *Trace {
	spans := make([]*Span, 0, len(ts.ended)+len(ts.open))
	var root *Span
	for _, es := range ts.ended {
		ms := es.converted()
		if ms.SpanID == ts.rootID {
			root = ms
		}
		spans = append(spans, ms)
	}
	if root == nil {
		// The root never reached OnEnd here (timed out in a race, or
		// evicted): convert the live span.
		root = assemble.ConvertSpan(ts.root)
		if root.EndTime.IsZero() {
			root.EndTime = e.cfg.now()
		}
		spans = append(spans, root)
	}
	for _, s := range ts.open {
		ms := assemble.ConvertSpan(s)
		if ms.EndTime.IsZero() {
			ms.EndTime = root.EndTime
			if ms.EndTime.Before(ms.StartTime) {
				ms.EndTime = ms.StartTime
			}
		}
		spans = append(spans, ms)
	}
	sort.SliceStable(spans, func(i, j int) bool {
		if spans[j] == root {
			return false
		}
		if spans[i] == root {
			return true
		}
		return spans[i].StartTime.Before(spans[j].StartTime)
	})
	prefix, version := e.traceIDPrefix()
	return assemble.Build(root, spans, ts.upd, assemble.Options{
		PreviewMaxChars: e.cfg.previewMaxChars,
		Metadata:        e.meta,
		TraceIDPrefix:   prefix,
		SchemaVersion:   version,
	})
}

func (e *Exporter) exportTraces(ctx context.Context, states []*traceState) (err error) {
	traces := make([]*Trace, 0, len(states))
	nspans := 0
	for _, ts := range states {
		t := e.builtTrace(ts)
		nspans += len(t.Spans)
		traces = append(traces, t)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("destination panicked: %v", r)
		}
		if err != nil {
			ids := make([]string, len(traces))
			for i, t := range traces {
				ids[i] = t.Info.TraceID
			}
			err = &ExportError{TraceIDs: ids, Err: err}
			return
		}
		e.counters.addTracesExported(len(traces))
		e.counters.addSpansExported(nspans)
	}()
	if e.spanQ != nil && !e.carrier {
		// Stream the spans of these traces (queued in OnEnd, before the
		// trace) first, as MLflow's exporter logs a batch's spans before
		// the traces it completes. Failures there are reported by the span
		// pipeline; the trace is exported regardless. A carrier sends
		// the spans its stream missed itself, so it does not wait.
		_ = e.spanQ.ForceFlush(ctx)
	}
	return e.dest.ExportTraces(ctx, traces)
}

func (e *Exporter) exportSpans(ctx context.Context, ended []*endedSpan) (err error) {
	spans := make([]*Span, 0, len(ended))
	for _, es := range ended {
		if e.carrier && es.trace.queued.Load() {
			// The trace is finished and queued: it carries this span, in
			// one request for the whole trace batch.
			continue
		}
		spans = append(spans, es.converted())
	}
	if len(spans) == 0 {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("destination panicked: %v", r)
		}
		if err != nil {
			err = &ExportError{TraceIDs: e.spanTraceIDs(spans), Spans: true, Err: err}
			return
		}
		if r, ok := e.streamer.(streamingReporter); ok && !r.StreamingSupported() {
			// The destination accepted the call without streaming (a
			// server without the OTLP route): the spans go with their
			// trace, they were not streamed.
			return
		}
		e.counters.addSpansStreamed(len(spans))
	}()
	return e.streamer.ExportSpans(ctx, spans)
}

func (e *Exporter) spanTraceIDs(spans []*Span) []string {
	var ids []string
	seen := make(map[trace.TraceID]bool, len(spans))
	for _, s := range spans {
		if !seen[s.TraceID] {
			seen[s.TraceID] = true
			ids = append(ids, e.TraceID(s.TraceID))
		}
	}
	return ids
}

// ExportError is what the error handler receives when the destination fails:
// the MLflow ids of the traces involved and the destination's error.
type ExportError struct {
	TraceIDs []string // "tr-…"
	Spans    bool     // streaming spans failed (the trace itself may still be exported)
	Err      error
}

func (e *ExportError) Error() string {
	what := "traces"
	if e.Spans {
		what = "spans of traces"
	}
	ids := e.TraceIDs
	more := ""
	if len(ids) > 3 {
		more = fmt.Sprintf(" and %d more", len(ids)-3)
		ids = ids[:3]
	}
	return fmt.Sprintf("exporter: exporting %s %v%s failed: %v", what, ids, more, e.Err)
}

func (e *ExportError) Unwrap() error { return e.Err }

// --- error reporting ---------------------------------------------------------

type dropKind int

const (
	dropTraceQueue dropKind = iota
	dropSpanQueue
	dropEvicted
	dropSpanCap
	numDropKinds
)

// dropWarnEvery rate-limits drop reports per kind, like MLflow's 30 s
// "queue is full" warning; every drop is counted in Stats.
const dropWarnEvery = 30 * time.Second

func (e *Exporter) warnDrop(kind dropKind, id trace.TraceID, what string) {
	now := time.Now().UnixNano()
	last := e.lastDropWarn[kind].Load()
	if last != 0 && now-last < int64(dropWarnEvery) {
		return
	}
	if !e.lastDropWarn[kind].CompareAndSwap(last, now) {
		return
	}
	err := fmt.Errorf("exporter: %s: %s (further drops in the next %v are only counted in Stats)",
		e.TraceID(id), what, dropWarnEvery)
	select {
	case e.reports <- err:
	default: // the reporter is behind: the drop is still counted
	}
}

// report hands err to the error handler. Call it from background goroutines
// only; the caller's path uses warnDrop.
func (e *Exporter) report(err error) {
	if err != nil {
		e.cfg.errorHandler(err)
	}
}

func (e *Exporter) reporter() {
	defer close(e.reporterDone)
	for {
		select {
		case err := <-e.reports:
			e.report(err)
		case <-e.reporterStop:
			for {
				select {
				case err := <-e.reports:
					e.report(err)
				default:
					return
				}
			}
		}
	}
}
