package exporter

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/assemble"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// The pipeline's export functions, run by the queues' workers.

// exportTraces assembles and writes a batch of finished traces, then
// settles each (AwaitExport learns the outcome).
func (p *pipeline) exportTraces(ctx context.Context, states []*traceState) error {
	e := p.e
	if p.spoolFailed {
		e.counters.addTracesNotSpooled(len(states))
	}
	traces := make([]*Trace, 0, len(states))
	nspans := 0
	for _, ts := range states {
		t := e.builtTrace(ts)
		nspans += len(t.Spans)
		traces = append(traces, t)
	}
	if p.st != nil && !e.route.carrier {
		// Every span of these traces is streamed first, as MLflow's
		// exporter logs a batch's spans before the traces it completes:
		// what a stream round took (wait for it), then the rest. Failures
		// there are reported as stream failures; the trace is exported
		// regardless. A carrier sends the spans its stream missed itself.
		p.st.idle(ctx)
		var rest []*endedSpan
		for _, ts := range states {
			rest = append(rest, e.buf.takeUnstreamed(ts)...)
		}
		if len(rest) > 0 {
			p.exportSpans(ctx, rest)
		}
	}
	err := callDestination(func() error { return e.route.dest.ExportTraces(ctx, traces) })
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		// Shutdown gave up and cancelled this export (the queue's context
		// is cancelled only then): its error already counted these traces
		// as waiting, so they are dropped at Shutdown like the ones still
		// queued, not reported again as a failed export.
		p.dropAtShutdown(states, errShutdownCancelled)
		return nil
	}
	if err != nil {
		// A destination that names the traces it could not write (only
		// tracemodel.TraceErrors) wrote the others; anything else, or our
		// own cancellation, fails the whole batch.
		failed, partial := tracemodel.FailedTraces(err)
		whole := !partial || ctx.Err() != nil
		lost := func(i int) bool { return whole || failed[traces[i].Info.TraceID] }
		xerr := &ExportError{Err: err}
		okTraces, okSpans := 0, 0
		for i, t := range traces {
			if lost(i) {
				xerr.TraceIDs = append(xerr.TraceIDs, t.Info.TraceID)
			} else {
				okTraces++
				okSpans += len(t.Spans)
			}
		}
		e.counters.addExportFailures(1)
		e.counters.addTracesFailed(len(xerr.TraceIDs))
		p.noteLoss(err)
		if ctx.Err() == nil { // not our own cancellation
			p.rep.noteCause(err)
		}
		if okTraces > 0 {
			p.rep.noteSuccess()
			e.counters.addTracesExported(okTraces)
			e.counters.addSpansExported(okSpans)
		}
		if !tracemodel.OnlyRepeated(err) { // else told once already
			p.report(xerr)
		}
		for i, ts := range states {
			if lost(i) {
				e.buf.settle(ts, xerr)
			} else {
				e.buf.settle(ts, nil)
			}
		}
		return nil // reported here, once
	}
	p.rep.noteSuccess()
	e.counters.addTracesExported(len(traces))
	e.counters.addSpansExported(nspans)
	for _, ts := range states {
		e.buf.settle(ts, nil)
	}
	return nil
}

// exportSpans streams ended spans (the streamer's rounds, a non-carrier
// trace's rest) and reports a failure once.
func (p *pipeline) exportSpans(ctx context.Context, ended []*endedSpan) {
	e := p.e
	spans := make([]*Span, len(ended))
	for i, es := range ended {
		spans[i] = es.converted(e.s.NoContent)
	}
	if e.s.RetryTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.s.RetryTimeout)
		defer cancel()
	}
	err := callDestination(func() error { return e.route.spans.ExportSpans(ctx, spans) })
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		// Cancelled by Shutdown, which has said what it left: counted only.
		e.counters.addStreamDropped(len(spans))
		return
	}
	if err != nil {
		e.counters.addExportFailures(1)
		e.counters.addStreamDropped(len(spans))
		p.report(&ExportError{TraceIDs: e.spanTraceIDs(spans), Spans: true, Err: err})
		return
	}
	if e.route.streaming != nil && !e.route.streaming() {
		// The destination accepted the call without streaming (a server
		// without the OTLP route): the spans go with their trace.
		return
	}
	e.counters.addSpansStreamed(len(spans))
}

// callDestination calls a destination, turning its panic into an error.
func callDestination(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("destination panicked: %v", r)
		}
	}()
	return f()
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

// exportPanicked is the trace queue's OnError. The export functions report
// their failures themselves and return nil, so it only sees a panic of ours
// (assembling or spooling a trace; a destination's panic is an error
// already, callDestination): the traces are lost, counted, settled and
// reported like a failed export, instead of waiting forever.
func (p *pipeline) exportPanicked(states []*traceState, err error) {
	e := p.e
	xerr := &ExportError{Err: fmt.Errorf("exporter: %w", err)}
	for _, ts := range states {
		xerr.TraceIDs = append(xerr.TraceIDs, e.TraceID(ts.id))
	}
	e.counters.addExportFailures(1)
	e.counters.addTracesFailed(len(states))
	p.noteLoss(xerr)
	p.report(xerr)
	for _, ts := range states {
		e.buf.settle(ts, xerr)
	}
}

// droppedAtShutdown counts and settles the finished traces the trace queue
// abandoned because Shutdown's ctx ended (batch.Config.OnDrop).
func (p *pipeline) droppedAtShutdown(states []*traceState) {
	p.dropAtShutdown(states, errShutdownGaveUp)
}

// dropAtShutdown counts and settles traces lost because Shutdown's ctx
// ended; reportShutdownDrops reports them, once.
func (p *pipeline) dropAtShutdown(states []*traceState, why error) {
	spans := 0
	for _, ts := range states {
		spans += len(ts.ended) + len(ts.open)
		p.e.dropTrace(ts, why)
	}
	p.rep.shutdownDropped.Add(int64(len(states)))
	p.rep.shutdownDroppedSpans.Add(int64(spans))
}

// assembleTrace converts and assembles a detached trace (worker side).
func (e *Exporter) assembleTrace(ts *traceState) *Trace {
	spans := make([]*Span, 0, len(ts.ended)+len(ts.open))
	var root *Span
	for _, es := range ts.ended {
		ms := es.converted(e.s.NoContent)
		if ms.SpanID == ts.rootID {
			root = ms
		}
		spans = append(spans, ms)
	}
	if root == nil {
		// The root never reached OnEnd here (timed out in a race, or
		// evicted): convert the live span.
		root = assemble.ConvertSpanContent(ts.root.complete(), !e.s.NoContent)
		if root.EndTime.IsZero() {
			root.EndTime = e.s.Now()
		}
		spans = append(spans, root)
	}
	for _, s := range ts.open {
		ms := assemble.ConvertSpanContent(s.complete(), !e.s.NoContent)
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
		PreviewMaxChars: e.s.PreviewMaxChars,
		Metadata:        e.meta,
		TraceIDPrefix:   prefix,
		SchemaVersion:   version,
	})
}
