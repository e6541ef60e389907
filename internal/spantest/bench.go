package spantest

import (
	"context"
	"runtime"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// discard is a destination that drops every trace (the export work still
// runs in the exporter's goroutines).
type discard struct{}

func (discard) ExportTraces(context.Context, []*exporter.Trace) error { return nil }
func (discard) Shutdown(context.Context) error                        { return nil }

// StartDiscard initialises tracing for a benchmark: an empty environment, no
// global tracer provider, a destination that drops every trace, and opts;
// the Provider is shut down when the benchmark ends.
func StartDiscard(b testing.TB, opts ...tracing.Option) *tracing.Provider {
	b.Helper()
	base := []tracing.Option{tracing.WithGetenv(func(string) string { return "" }),
		tracing.WithoutGlobalTracerProvider(), tracing.WithExporterOptions(exporter.WithDestination(discard{}))}
	p, err := tracing.Init(context.Background(), append(base, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

// BenchCalls compares an LLM client without and with instrumentation: it
// runs the sub-benchmarks plain/bare, plain/traced, stream/bare and
// stream/traced, each calling plain or stream with the bare or the traced
// client b.N times, after reset (which keeps a fake API's request log
// bounded). Besides the wall time it reports cpu-ns/op: the CPU time the
// whole process spent per call (the client, the in-process fake API, and
// the exporter's background work), which a machine shared with other work
// skews far less than the wall time; and, on Linux, caller-cpu-ns/op: the
// CPU time of the calling goroutine alone (locked to its OS thread for the
// measurement), i.e. the caller's path — the SDK, the instrumentation's
// middleware and span, and the GC assists charged to them, without the
// fake's serving, net/http's connection goroutines or the exporter's
// background work. traced minus bare of caller-cpu-ns/op is what the
// instrumentation adds on the caller's path; the rest of the added
// cpu-ns/op is work on other goroutines (mostly the exporter's).
func BenchCalls[C any](b *testing.B, bare, traced C, reset func(), plain, stream func(ctx context.Context, c C) error) {
	BenchModes(b, bare, traced, reset, Mode[C]{"plain", plain}, Mode[C]{"stream", stream})
}

// Mode is one kind of call BenchModes measures: Name is its sub-benchmark's
// first element, Call makes one call with the bare or the traced client.
type Mode[C any] struct {
	Name string
	Call func(ctx context.Context, c C) error
}

// BenchModes is BenchCalls with modes of the caller's choosing: for each
// mode the sub-benchmarks <mode>/bare and <mode>/traced, with the same
// metrics.
func BenchModes[C any](b *testing.B, bare, traced C, reset func(), modes ...Mode[C]) {
	ctx := context.Background()
	for _, mode := range modes {
		for _, client := range []struct {
			name string
			c    C
		}{{"bare", bare}, {"traced", traced}} {
			b.Run(mode.Name+"/"+client.name, func(b *testing.B) {
				b.ReportAllocs()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				cpu0, ok := processCPU()
				caller0, callerOK := threadCPU()
				for i := 0; i < b.N; i++ {
					reset()
					if err := mode.Call(ctx, client.c); err != nil {
						b.Fatal(err)
					}
				}
				caller1, callerOK1 := threadCPU()
				if cpu1, ok1 := processCPU(); ok && ok1 && b.N > 0 {
					b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
				}
				if callerOK && callerOK1 && b.N > 0 {
					b.ReportMetric(float64(caller1-caller0)/float64(b.N), "caller-cpu-ns/op")
				}
			})
		}
	}
}
