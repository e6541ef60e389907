package exporter_test

import (
	"context"
	"errors"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
)

type discard struct{}

type noopProcessor struct{}

func (noopProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (noopProcessor) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (noopProcessor) ForceFlush(context.Context) error                { return nil }
func (noopProcessor) Shutdown(context.Context) error                  { return nil }

// stuck blocks every export until its context ends, so no trace is ever
// assembled: BenchmarkSpan/on-caller-path measures only OnStart/OnEnd (the
// trace is then dropped at the full queue and counted).
type stuck struct{}

func (stuck) ExportTraces(ctx context.Context, _ []*exporter.Trace) error {
	<-ctx.Done()
	return ctx.Err()
}
func (stuck) Shutdown(context.Context) error { return nil }

func (discard) ExportTraces(context.Context, []*exporter.Trace) error { return nil }
func (discard) Shutdown(context.Context) error                        { return nil }

// BenchmarkSpan measures a root with one child (two OnStart + two OnEnd)
// through a real TracerProvider, without and with the Exporter.
func BenchmarkSpan(b *testing.B) {
	for _, bc := range []struct {
		name  string
		on    bool
		dest  exporter.Destination
		queue int
	}{{"off", false, nil, 0}, {"noop-processor", false, nil, 0}, {"on", true, discard{}, 1 << 16}, {"on-caller-path", true, stuck{}, 1}} {
		b.Run(bc.name, func(b *testing.B) {
			var opts []sdktrace.TracerProviderOption
			var exp *exporter.Exporter
			if bc.on {
				var err error
				exp, err = exporter.New(context.Background(), exporter.WithGetenv(noEnv),
					exporter.WithDestination(bc.dest), exporter.WithMaxQueueSize(bc.queue),
					exporter.WithErrorHandler(func(error) {}))
				if err != nil {
					b.Fatal(err)
				}
				opts = append(opts, sdktrace.WithSpanProcessor(exp))
			}
			if bc.name == "noop-processor" { // the SDK snapshots spans only when a processor is registered
				opts = append(opts, sdktrace.WithSpanProcessor(noopProcessor{}))
			}
			tp := sdktrace.NewTracerProvider(opts...)
			b.Cleanup(func() { shutdownBench(b, tp, exp) })
			tr := tp.Tracer("bench")
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				c, root := tr.Start(ctx, "root")
				_, child := tr.Start(c, "child")
				child.End()
				root.End()
			}
			b.StopTimer()
		})
	}
}

// BenchmarkSpanParallel is BenchmarkSpan/on from every P.
func BenchmarkSpanParallel(b *testing.B) {
	exp, err := exporter.New(context.Background(), exporter.WithGetenv(noEnv),
		exporter.WithDestination(discard{}), exporter.WithMaxQueueSize(1<<16),
		exporter.WithErrorHandler(func(error) {}))
	if err != nil {
		b.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	b.Cleanup(func() { shutdownBench(b, tp, exp) })
	tr := tp.Tracer("bench")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			c, root := tr.Start(ctx, "root")
			_, child := tr.Start(c, "child")
			child.End()
			root.End()
		}
	})
}

// shutdownBench stops what a benchmark started: the exporter first with an
// expired ctx (cancelling stuck exports, dropping what is queued), then
// again to wait for its goroutines, then the tracer provider. The
// TracerProvider alone would not do: with an expired ctx it returns before
// calling its processors, and a second call does nothing.
func shutdownBench(b *testing.B, tp *sdktrace.TracerProvider, exp *exporter.Exporter) {
	if exp != nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = exp.Shutdown(ctx)
		// The traces the first call dropped are reported, by this call and
		// by the provider's: that is expected, any other error is not.
		if err := exp.Shutdown(context.Background()); !onlyUndelivered(err) {
			b.Errorf("exporter Shutdown: %v", err)
		}
	}
	if err := tp.Shutdown(context.Background()); !onlyUndelivered(err) {
		b.Errorf("TracerProvider Shutdown: %v", err)
	}
}

func onlyUndelivered(err error) bool {
	var u *exporter.UndeliveredError
	return err == nil || errors.As(err, &u)
}

// BenchmarkTraceStreamed sends 6-span traces (a root and five children, the
// serverbench shape) to a streaming destination and flushes: the whole
// background cost per trace (conversion for the stream and for the trace,
// assembly), not only the caller's path. Run it with -cpu=1 to read ns/op as
// CPU per trace.
func BenchmarkTraceStreamed(b *testing.B) {
	exp, err := exporter.New(context.Background(), exporter.WithGetenv(noEnv),
		exporter.WithDestination(&streamDest{}), exporter.WithMaxQueueSize(1<<16),
		exporter.WithErrorHandler(func(error) {}))
	if err != nil {
		b.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	b.Cleanup(func() { shutdownBench(b, tp, exp) })
	tr := tp.Tracer("bench")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		c, root := tr.Start(ctx, "root")
		for range 5 {
			_, child := tr.Start(c, "child")
			child.End()
		}
		root.End()
		if i%1000 == 999 {
			_ = exp.ForceFlush(ctx)
		}
	}
	_ = exp.ForceFlush(ctx)
	b.StopTimer()
}
