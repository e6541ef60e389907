package exporter_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
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
			exp, err := exporter.New(context.Background(), exporter.WithGetenv(noEnv),
				exporter.WithDestination(tt.dest), exporter.WithMaxWorkers(1), exporter.WithBatchSize(1),
				exporter.WithErrorHandler(log.handle))
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
			if err := exp.Shutdown(context.Background()); err != nil {
				t.Fatalf("second Shutdown = %v", err)
			}
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

// streamDest accepts spans; with a StreamingSupported method it may say it
// did not actually stream them.
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
	for _, tt := range []struct {
		name string
		dest exporter.Destination
		want int64
	}{
		{"streamer", &streamDest{}, 4},
		{"streaming supported", &reportingStreamDest{supported: true}, 4},
		{"server without the OTLP route", &reportingStreamDest{supported: false}, 0},
		{"not a streamer", discard{}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, tt.dest)
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
