package tracing

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

// discardDest drops every trace.
type discardDest struct{}

func (discardDest) ExportTraces(context.Context, []*exporter.Trace) error { return nil }
func (discardDest) Shutdown(context.Context) error                        { return nil }

// nopProcessor is a span processor that does nothing; both sides of the
// comparison use it next to an exporter with a discarding destination, so the
// ratio measures the API layer.
type nopProcessor struct{}

func (nopProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (nopProcessor) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (nopProcessor) Shutdown(context.Context) error                  { return nil }
func (nopProcessor) ForceFlush(context.Context) error                { return nil }

// withoutExporter (tests only) leaves the MLflow exporter out, so a benchmark
// measures the API layer alone.
func withoutExporter() Option {
	return optionFunc(func(c config) config { c.noExporter = true; return c })
}

func benchInit(b *testing.B, opts ...Option) *Provider {
	b.Helper()
	p, err := Init(context.Background(), append([]Option{
		WithGetenv(env{}.get), WithoutGlobalTracerProvider(), WithSpanProcessor(nopProcessor{}),
		WithExporterOptions(exporter.WithDestination(discardDest{})),
	}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

func benchFn(_ context.Context, q query) (answer, error) { return answer{Text: q.Q}, nil }

var benchIn = query{Q: "what is mlflow?", TopK: 3}

func doStep(context.Context) (int, error) { return 1, nil }

// BenchmarkFunc: a call wrapped by Func, recording inputs and outputs.
// NoopProcessor: only a no-op processor on the provider (the API layer);
// Exporter: plus the real exporter with a discarding destination.
func BenchmarkFunc(b *testing.B) {
	for _, withExp := range []bool{false, true} {
		b.Run(procName(withExp), func(b *testing.B) {
			if withExp {
				benchInit(b)
			} else {
				benchInit(b, withoutExporter())
			}
			fn := Func("retrieve", benchFn, WithSpanType(SpanTypeRetriever))
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := fn(ctx, benchIn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func procName(withExp bool) string {
	if withExp {
		return "Exporter"
	}
	return "NoopProcessor"
}

// BenchmarkRawOTelSpan: the same call on a plain OpenTelemetry span on an
// sdktrace provider with the same processors, doing the same JSON work.
func BenchmarkRawOTelSpan(b *testing.B) {
	for _, withExp := range []bool{false, true} {
		b.Run(procName(withExp), func(b *testing.B) { benchRaw(b, withExp) })
	}
}

func benchRaw(b *testing.B, withExp bool) {
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(1))),
		sdktrace.WithSpanProcessor(nopProcessor{}),
	}
	if withExp {
		exp, err := exporter.New(context.Background(), exporter.WithGetenv(env{}.get), exporter.WithDestination(discardDest{}))
		if err != nil {
			b.Fatal(err)
		}
		opts = append(opts, sdktrace.WithSpanProcessor(exp))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tracer := tp.Tracer(keys.ScopeName)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		cctx, span := tracer.Start(ctx, "retrieve")
		in, _ := json.Marshal(benchIn)
		span.SetAttributes(attribute.String(keys.SpanInputs, string(in)))
		out, err := benchFn(cctx, benchIn)
		if err != nil {
			b.Fatal(err)
		}
		o, _ := json.Marshal(out)
		span.SetAttributes(attribute.String(keys.SpanOutputs, string(o)))
		span.SetStatus(codes.Ok, "")
		span.End()
	}
}

// BenchmarkStartSpan: a manual span with inputs and outputs (API layer).
func BenchmarkStartSpan(b *testing.B) {
	benchInit(b, withoutExporter())
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_, s := StartSpan(ctx, "retrieve", WithSpanType(SpanTypeRetriever))
		s.SetInputs(benchIn)
		s.SetOutputs(answer{Text: benchIn.Q})
		s.End()
	}
}

// BenchmarkDisabled: tracing off (WithDisabled), and no Init at all: 0 allocs.
func BenchmarkDisabled(b *testing.B) {
	cases := []struct {
		name string
		init bool
	}{{"WithDisabled", true}, {"NoInit", false}}
	for _, c := range cases {
		b.Run(c.name+"/Func", func(b *testing.B) {
			if c.init {
				benchInit(b, WithDisabled())
			}
			fn := Func("retrieve", benchFn, WithSpanType(SpanTypeRetriever))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_, _ = fn(ctx, benchIn)
			}
		})
		b.Run(c.name+"/Do", func(b *testing.B) {
			if c.init {
				benchInit(b, WithDisabled())
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_, _ = Do(ctx, "step", doStep)
			}
		})
		b.Run(c.name+"/StartSpan", func(b *testing.B) {
			if c.init {
				benchInit(b, WithDisabled())
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_, s := StartSpan(ctx, "retrieve", WithSpanType(SpanTypeRetriever))
				s.SetAttribute("k", "v") // a string fits an interface without allocating
				s.End()
			}
		})
	}
}

// BenchmarkUnsampledChild: a child of an unsampled root.
func BenchmarkUnsampledChild(b *testing.B) {
	benchInit(b, WithSamplingRatio(0), withoutExporter())
	ctx, _ := StartSpan(context.Background(), "root")
	fn := Func("retrieve", benchFn)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = fn(ctx, benchIn)
	}
}

// BenchmarkFuncVsRaw runs the wrapped call and raw OpenTelemetry spans (all
// with only the no-op processor) in alternating short rounds and reports the
// fastest round of each: on a shared, loaded machine the minimum of
// interleaved rounds is far steadier than separate benchmarks.
//
//   - raw: the brief's baseline — json.Marshal of inputs and outputs set as two
//     string attributes, status OK;
//   - raw-mlflow: a raw span carrying the same four attributes the wrapper
//     writes (type, function name, inputs, outputs; the default log level is
//     the exporter's to add) encoded with internal/encode, i.e. the cost of
//     the API layer alone.
func BenchmarkFuncVsRaw(b *testing.B) {
	benchInit(b, withoutExporter())
	fn := Func("retrieve", benchFn, WithSpanType(SpanTypeRetriever))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(1))),
		sdktrace.WithSpanProcessor(nopProcessor{}),
	)
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tracer := tp.Tracer(keys.ScopeName)
	ctx := context.Background()
	raw := func() {
		cctx, span := tracer.Start(ctx, "retrieve")
		in, _ := json.Marshal(benchIn)
		span.SetAttributes(attribute.String(keys.SpanInputs, string(in)))
		out, _ := benchFn(cctx, benchIn)
		o, _ := json.Marshal(out)
		span.SetAttributes(attribute.String(keys.SpanOutputs, string(o)))
		span.SetStatus(codes.Ok, "")
		span.End()
	}
	rawMLflow := func() {
		cctx, span := tracer.Start(ctx, "retrieve")
		span.SetAttributes(attribute.String(keys.SpanType, `"RETRIEVER"`),
			attribute.String(keys.SpanFunctionName, `"tracing.benchFn"`),
			attribute.String(keys.SpanInputs, encode.JSON(benchIn)))
		out, _ := benchFn(cctx, benchIn)
		span.SetAttributes(attribute.String(keys.SpanOutputs, encode.JSON(out)))
		span.SetStatus(codes.Ok, "")
		span.End()
	}
	wrapped := func() { _, _ = fn(ctx, benchIn) }
	const round = 200
	timeRound := func(f func()) float64 {
		start := time.Now()
		for range round {
			f()
		}
		return float64(time.Since(start).Nanoseconds()) / round
	}
	bestRaw, bestRawMLflow, bestWrapped := math.Inf(1), math.Inf(1), math.Inf(1)
	for i := 0; b.Loop(); i++ {
		if i%round != 0 {
			continue
		}
		bestRaw = min(bestRaw, timeRound(raw))
		bestRawMLflow = min(bestRawMLflow, timeRound(rawMLflow))
		bestWrapped = min(bestWrapped, timeRound(wrapped))
	}
	b.ReportMetric(bestWrapped, "wrapped-ns/op")
	b.ReportMetric(bestRaw, "raw-ns/op")
	b.ReportMetric(bestRawMLflow, "raw-mlflow-ns/op")
	b.ReportMetric(bestWrapped/bestRaw, "ratio")
	b.ReportMetric(bestWrapped/bestRawMLflow, "ratio-api")
}
