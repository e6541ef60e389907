package exporter_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
)

// ctxDest blocks every export until its ctx ends (a destination whose
// transport retries until cancelled) and records that it saw the ctx end.
type ctxDest struct {
	entered   chan struct{}
	cancelled atomic.Int64
}

func (d *ctxDest) ExportTraces(ctx context.Context, _ []*exporter.Trace) error {
	select {
	case d.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	d.cancelled.Add(1)
	return ctx.Err()
}

func (d *ctxDest) Shutdown(context.Context) error { return nil }

// ctxStreamer also blocks span streaming until its ctx ends.
type ctxStreamer struct{ ctxDest }

func (d *ctxStreamer) ExportSpans(ctx context.Context, _ []*exporter.Span) error {
	select {
	case d.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	d.cancelled.Add(1)
	return ctx.Err()
}

// errLog collects what the error handler receives.
type errLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errLog) handle(err error) { l.mu.Lock(); l.errs = append(l.errs, err); l.mu.Unlock() }

func (l *errLog) snapshot() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

// An expired Shutdown cancels the exports in flight (the destination's ctx
// ends), counts every finished trace still queued as dropped (with its
// spans) and reports that once; a second Shutdown waits for the goroutines,
// and none is left afterwards.
func TestExpiredShutdownCountsQueuedTraces(t *testing.T) {
	const n = 8 // traces of 2 spans
	for _, tt := range []struct {
		name string
		dest interface {
			exporter.Destination
			cancelledCount() int64
			enteredC() chan struct{}
		}
	}{
		{"trace export blocks", &ctxDestW{ctxDest{entered: make(chan struct{}, 1)}}},
		{"span stream blocks", &ctxStreamerW{ctxStreamer{ctxDest{entered: make(chan struct{}, 1)}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var log errLog
			opts := []exporter.Option{exporter.WithGetenv(noEnv),
				exporter.WithDestination(tt.dest), exporter.WithMaxWorkers(1), exporter.WithBatchSize(1),
				exporter.WithErrorHandler(log.handle)}
			if st, ok := tt.dest.(exporter.SpanStreamer); ok {
				opts = append(opts, exporter.WithSpanStreamer(st))
			}
			exp, err := exporter.New(context.Background(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
			tr := tp.Tracer("x")
			for range n {
				ctx, root := tr.Start(context.Background(), "root")
				_, child := tr.Start(ctx, "child")
				child.End()
				root.End()
			}
			<-tt.dest.enteredC() // an export is in flight
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := exp.Shutdown(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Shutdown(expired) = %v, want Canceled", err)
			}
			wantUndelivered(t, exp, exp.Shutdown(context.Background()))
			goleak.VerifyNone(t)

			if tt.dest.cancelledCount() == 0 {
				t.Error("the destination's ctx never ended")
			}
			st := exp.Stats()
			var failedTraces, dropReports int
			for _, err := range log.snapshot() {
				var ee *exporter.ExportError
				switch {
				case errors.As(err, &ee) && !ee.Spans:
					failedTraces += len(ee.TraceIDs)
				case strings.Contains(err.Error(), "still queued when Shutdown's context ended"):
					dropReports++
				}
			}
			if st.TracesExported != 0 || st.TracesDropped+int64(failedTraces) != n {
				t.Fatalf("Stats %+v, %d traces failed: want every trace dropped or failed", st, failedTraces)
			}
			if st.TracesDropped == 0 || st.SpansDropped != 2*st.TracesDropped {
				t.Fatalf("Stats %+v: want the queued traces and their spans dropped", st)
			}
			if dropReports != 1 {
				t.Fatalf("%d drop reports, want 1: %v", dropReports, log.snapshot())
			}
		})
	}
}

type ctxDestW struct{ ctxDest }

func (d *ctxDestW) cancelledCount() int64   { return d.cancelled.Load() }
func (d *ctxDestW) enteredC() chan struct{} { return d.entered }

type ctxStreamerW struct{ ctxStreamer }

func (d *ctxStreamerW) cancelledCount() int64   { return d.cancelled.Load() }
func (d *ctxStreamerW) enteredC() chan struct{} { return d.entered }

// streamDest accepts spans; reportingStreamDest may say it did not actually
// stream them (TestCaps.Streaming).
type streamDest struct{ spans atomic.Int64 }

func (d *streamDest) ExportSpans(_ context.Context, s []*exporter.Span) error {
	d.spans.Add(int64(len(s)))
	return nil
}
func (d *streamDest) ExportTraces(context.Context, []*exporter.Trace) error { return nil }
func (d *streamDest) Shutdown(context.Context) error                        { return nil }

type reportingStreamDest struct {
	streamDest
	supported bool
}

func (d *reportingStreamDest) StreamingSupported() bool { return d.supported }

func TestSpansStreamedCountsOnlyStreamedSpans(t *testing.T) {
	reporting := func(supported bool) (exporter.Destination, []exporter.Option) {
		d := &reportingStreamDest{supported: supported}
		return d, []exporter.Option{exporter.WithTestRoute(d, exporter.TestCaps{Spans: d, Streaming: d.StreamingSupported})}
	}
	streamer := &streamDest{}
	supported, supportedOpts := reporting(true)
	unsupported, unsupportedOpts := reporting(false)
	for _, tt := range []struct {
		name string
		dest exporter.Destination
		opts []exporter.Option
		want int64
	}{
		{"streamer", streamer, []exporter.Option{exporter.WithSpanStreamer(streamer)}, 4},
		{"streaming supported", supported, supportedOpts, 4},
		{"server without the OTLP route", unsupported, unsupportedOpts, 0},
		{"not a streamer", discard{}, nil, 0},
		{"a streamer given only with WithDestination", &streamDest{}, nil, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, tt.dest, tt.opts...)
			for range 2 {
				ctx, root := f.tracer.Start(context.Background(), "root")
				_, c := f.tracer.Start(ctx, "c")
				c.End()
				root.End()
			}
			f.flush(t)
			st := f.exp.Stats()
			if st.SpansStreamed != tt.want || st.SpansExported != 4 || st.SpansStreamDropped != 0 {
				t.Fatalf("Stats = %+v, want SpansStreamed %d, SpansExported 4", st, tt.want)
			}
		})
	}
}

// carrierDest records like a Recorder; with TestCaps.Carrier it is, like
// the MLflow server destination, a destination that sends a trace's
// unstreamed spans with the trace.
type carrierDest struct {
	*exportertest.Recorder
	block chan struct{} // when not nil, ExportSpans waits for it
}

func (d carrierDest) ExportSpans(ctx context.Context, spans []*exporter.Span) error {
	if d.block != nil {
		select {
		case <-d.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return d.Recorder.ExportSpans(ctx, spans)
}

func TestCarrierStreamsOnlyOpenTraces(t *testing.T) {
	d := carrierDest{Recorder: exportertest.NewRecorder()}
	f := setup(t, d, exporter.WithBatchInterval(time.Hour), exporter.WithBatchSize(100),
		exporter.WithTestRoute(d, exporter.TestCaps{Spans: d, Carrier: true}))

	// A trace still open: its ended child is streamed.
	ctx, open := f.tracer.Start(context.Background(), "open")
	_, c := f.tracer.Start(ctx, "child")
	c.End()
	f.flush(t)
	if got := len(d.Spans()); got != 1 {
		t.Fatalf("streamed %d spans of the open trace, want 1", got)
	}

	// Finished traces: their spans go with the trace, not the stream.
	for i := range 20 {
		ctx, root := f.tracer.Start(context.Background(), fmt.Sprint("r", i))
		_, c := f.tracer.Start(ctx, "c")
		c.End()
		root.End()
	}
	open.End()
	f.flush(t)

	if got := len(d.Spans()); got != 1 {
		t.Errorf("streamed %d spans, want only the open trace's child", got)
	}
	traces := d.Traces()
	if len(traces) != 21 {
		t.Fatalf("got %d traces, want 21", len(traces))
	}
	for _, tr := range traces {
		if len(tr.Spans) != 2 {
			t.Errorf("trace %s has %d spans, want 2", tr.Info.TraceID, len(tr.Spans))
		}
	}
	st := f.exp.Stats()
	if st.SpansStreamed != 1 || st.SpansExported != 42 || st.SpansStreamDropped != 0 || st.TracesExported != 21 {
		t.Errorf("Stats = %+v, want 1 streamed, 42 exported in 21 traces, none stream-dropped", st)
	}
}

func TestCarrierTraceDoesNotWaitForSpanStream(t *testing.T) {
	d := carrierDest{Recorder: exportertest.NewRecorder(), block: make(chan struct{})}
	f := setup(t, d, exporter.WithBatchSize(1))
	t.Cleanup(func() { close(d.block) }) // runs before the fixture's Shutdown

	// A span of an open trace occupies the span stream.
	ctx, open := f.tracer.Start(context.Background(), "open")
	_, c := f.tracer.Start(ctx, "child")
	c.End()
	defer open.End()

	ctx, root := f.tracer.Start(context.Background(), "done")
	_, c2 := f.tracer.Start(ctx, "c")
	c2.End()
	root.End()
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := d.WaitTraces(wctx, 1); err != nil {
		t.Fatalf("the finished trace waited for the blocked span stream: %v", err)
	}
}

// closedPort returns a loopback URL nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

// TestUnreachableServerIsAnnounced is the new user's experience of
// MLFLOW_TRACKING_URI pointing at a port nobody listens on: Shutdown says
// once, early, what it waits for and why; a Shutdown whose ctx ends first
// says how many traces were waiting and the cause; one that completes
// returns an UndeliveredError naming the cause — never a silent nil.
func TestUnreachableServerIsAnnounced(t *testing.T) {
	for _, tt := range []struct {
		name     string
		deadline time.Duration
	}{
		{"the retry budget runs out first", time.Minute},
		{"Shutdown's deadline comes first", 700 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url := closedPort(t)
			var log errLog
			exp, err := exporter.New(context.Background(), exporter.WithGetenv(noEnv), exporter.WithTrackingURI(url),
				exporter.WithRetryBackoff(100*time.Millisecond, 0), exporter.WithMaxRetries(1000),
				exporter.WithRetryTimeout(3*time.Second), exporter.WithErrorHandler(log.handle))
			if err != nil {
				t.Fatal(err)
			}
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
			for range 3 {
				_, s := tp.Tracer("x").Start(context.Background(), "agent")
				s.End()
			}
			ctx, cancel := context.WithTimeout(context.Background(), tt.deadline)
			defer cancel()
			start := time.Now()
			err = exp.Shutdown(ctx)
			took := time.Since(start)
			if tt.deadline < time.Minute {
				if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "3 traces still waiting to reach "+url) ||
					!strings.Contains(err.Error(), "connection refused") {
					t.Fatalf("Shutdown = %v, want the deadline, the 3 waiting traces, where and why", err)
				}
				wantUndelivered(t, exp, exp.Shutdown(context.Background()))
			} else {
				ue, ok := errors.AsType[*exporter.UndeliveredError](err)
				if !ok || ue.Traces != 3 || ue.Destination != url || !strings.Contains(err.Error(), "connection refused") {
					t.Fatalf("Shutdown = %v, want an UndeliveredError for 3 traces to %s: connection refused", err, url)
				}
				if took > 20*time.Second {
					t.Errorf("Shutdown took %v with a 3 s retry budget", took)
				}
			}
			var notices []*exporter.WaitNotice
			for _, e := range log.snapshot() {
				if n, ok := errors.AsType[*exporter.WaitNotice](e); ok {
					notices = append(notices, n)
				}
			}
			if len(notices) != 1 || notices[0].Traces != 3 || notices[0].Destination != url ||
				!strings.Contains(notices[0].Error(), "connection refused") {
				t.Fatalf("notices %v, want one WaitNotice for the 3 traces with the cause", notices)
			}
			_ = tp.Shutdown(context.Background())
		})
	}
}

// gatedDest hangs on traces whose root is "hang" (until ctx ends) and,
// once gate is closed, refuses the others.
type gatedDest struct{ gate chan struct{} }

func (d *gatedDest) ExportTraces(ctx context.Context, traces []*exporter.Trace) error {
	for _, t := range traces {
		for _, s := range t.Spans {
			if s.Name == "hang" {
				<-ctx.Done()
				return ctx.Err()
			}
		}
	}
	<-d.gate
	return errors.New("400 Bad Request")
}

func (d *gatedDest) Shutdown(context.Context) error { return nil }

// The count of a Shutdown that gives up leaves out the traces that failed
// while it waited: they are lost, not waiting.
func TestGaveUpShutdownCountsOnlyTracesStillWaiting(t *testing.T) {
	var log errLog
	d := &gatedDest{gate: make(chan struct{})}
	exp, err := exporter.New(context.Background(), exporter.WithGetenv(noEnv), exporter.WithDestination(d),
		exporter.WithMaxWorkers(2), exporter.WithBatchSize(1), exporter.WithErrorHandler(log.handle))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	for _, name := range []string{"hang", "refused", "refused"} {
		_, root := tp.Tracer("x").Start(context.Background(), name)
		root.End()
	}
	time.AfterFunc(50*time.Millisecond, func() { close(d.gate) })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err = exp.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "with 1 trace still waiting") {
		t.Fatalf("Shutdown = %v, want it to give up with 1 trace waiting (2 failed)", err)
	}
	if st := exp.Stats(); st.TracesFailed != 2 {
		t.Errorf("TracesFailed = %d, want 2", st.TracesFailed)
	}
	_ = exp.Shutdown(context.Background())
}

// A Shutdown that gives up says so once: its error counts every trace still
// waiting, the one still in flight included. The export it cancelled is not
// reported again afterwards as a failed export ("exporting traces […]
// failed: context canceled", which came after Shutdown had returned): it
// counts as dropped at Shutdown, like the traces still queued.
func TestGaveUpShutdownSaysItOnce(t *testing.T) {
	var log errLog
	d := &ctxDest{entered: make(chan struct{}, 1)}
	exp, err := exporter.New(context.Background(), exporter.WithGetenv(noEnv), exporter.WithDestination(d),
		exporter.WithMaxWorkers(1), exporter.WithBatchSize(1), exporter.WithErrorHandler(log.handle))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	for range 3 {
		_, root := tp.Tracer("x").Start(context.Background(), "root")
		root.End()
	}
	<-d.entered // one export in flight, two queued
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = exp.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "3 traces still waiting") {
		t.Fatalf("Shutdown = %v, want it to give up with 3 traces waiting", err)
	}
	before := len(log.snapshot())
	wantUndelivered(t, exp, exp.Shutdown(context.Background())) // waits for the cancelled export
	if d.cancelled.Load() == 0 {
		t.Fatal("the export in flight was not cancelled")
	}
	if late := log.snapshot()[before:]; len(late) > 0 {
		t.Errorf("reported after Shutdown gave up: %v", late)
	}
	for _, e := range log.snapshot() {
		var xe *exporter.ExportError
		if errors.As(e, &xe) {
			t.Errorf("the cancelled export was reported as failed: %v", e)
		}
	}
	if st := exp.Stats(); st.TracesDropped != 3 || st.TracesFailed != 0 || st.SpansDropped != 3 {
		t.Errorf("Stats %+v, want 3 traces (3 spans) dropped at Shutdown, none failed", st)
	}
	goleak.VerifyNone(t)
}

// The counts in Shutdown's reports agree with their nouns.
func TestShutdownReportsSayOneTrace(t *testing.T) {
	var log errLog
	exp, err := exporter.New(context.Background(), exporter.WithGetenv(noEnv),
		exporter.WithDestination(exportertest.NewRecorder()), exporter.WithErrorHandler(log.handle))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	_, root := tp.Tracer("x").Start(context.Background(), "still open")
	wantUndelivered(t, exp, exp.Shutdown(context.Background()))
	root.End()
	want := "exporter: 1 trace still open at shutdown was dropped (its root span had not ended)"
	if errs := log.snapshot(); len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("reports %v, want [%s]", errs, want)
	}
}

// A panic of ours on the export path (here: assembling a trace the
// exporter cannot handle) loses that trace only: it is counted as failed,
// reported once with its id, and the pipeline goes on exporting; Shutdown
// says it was not delivered, and no goroutine is left.
func TestExportPanicIsReportedOnce(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var log errLog
	rec := exportertest.NewRecorder()
	exp, err := exporter.New(context.Background(), exporter.WithGetenv(noEnv), exporter.WithDestination(rec),
		exporter.WithBatchSize(1), exporter.WithErrorHandler(log.handle))
	if err != nil {
		t.Fatal(err)
	}
	id := exp.EnqueueBroken()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	_, root := tp.Tracer("x").Start(context.Background(), "after")
	root.End()
	if err := exp.ForceFlush(context.Background()); err != nil {
		t.Fatalf("ForceFlush = %v", err)
	}
	if got := len(rec.Traces()); got != 1 {
		t.Errorf("%d traces exported after the panic, want 1", got)
	}
	if st := exp.Stats(); st.TracesFailed != 1 || st.TracesExported != 1 {
		t.Errorf("Stats: %d failed, %d exported; want 1, 1", st.TracesFailed, st.TracesExported)
	}
	errs := log.snapshot()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "panicked") || !strings.Contains(errs[0].Error(), id) {
		t.Errorf("reports = %v, want one naming the panic and %s", errs, id)
	}
	var xerr *exporter.ExportError
	if len(errs) == 1 && !errors.As(errs[0], &xerr) {
		t.Errorf("report %T is not an *ExportError", errs[0])
	}
	wantUndelivered(t, exp, exp.Shutdown(context.Background()))
}
