package tracing

import (
	"context"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

// ContextWithTraceOptions returns a copy of ctx in which every trace that
// starts — a root span started with ctx or a context derived from it, by
// this package, an integration of package autoinstrument or any
// OpenTelemetry instrumentation — gets opts when it starts, without a span
// of its own: MLflow's mlflow.tracing.context(metadata=, tags=, session_id=,
// user=). Use it to put a user, a session or tags on traces whose root span
// code you do not own (an instrumented LLM client's call):
//
//	ctx = tracing.ContextWithTraceOptions(ctx, tracing.WithUser(u), tracing.WithSession(s))
//	resp, err := client.Chat.Completions.New(ctx, params) // its trace has the user and session
//
// Scopes nest: an inner scope's options are added to the outer's, the inner
// value winning per key. UpdateCurrentTrace, later, wins over both. A span
// started inside an open trace does not change that trace. WithState is
// ignored: a trace's state is decided when it ends.
func ContextWithTraceOptions(ctx context.Context, opts ...TraceOption) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	var upd exporter.TraceUpdate
	if outer, ok := ctx.Value(keys.TraceScope{}).(func(*exporter.TraceUpdate)); ok {
		outer(&upd)
	}
	var inner exporter.TraceUpdate
	for _, o := range opts {
		if o != nil {
			o.applyTrace(&inner)
		}
	}
	inner.State = ""
	mergeUpdate(&upd, &inner)
	apply := func(u *exporter.TraceUpdate) { mergeUpdate(u, &upd) }
	keys.ScopesUsed.Store(true)
	return context.WithValue(ctx, keys.TraceScope{}, apply)
}

// ContextWithTracingEnabled returns a copy of ctx in which spans are
// recorded only when enabled is true: MLflow's
// mlflow.tracing.context(enabled=...). With false, StartSpan, Do, Run, Func,
// Wrap and the integrations record nothing in ctx or the contexts derived
// from it (they run the code, untraced), and neither do OpenTelemetry
// instrumentations when Init made the tracer provider (with
// WithTracerProvider, your sampler decides for them). An open trace goes on
// without the spans of the scope. A nested call with true records again —
// under spans of this package; an OpenTelemetry span started where tracing
// was off is dropped as unsampled, and so are its children. It does not
// change the Provider: see WithDisabled for that.
func ContextWithTracingEnabled(ctx context.Context, enabled bool) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	keys.ScopesUsed.Store(true)
	return context.WithValue(ctx, keys.TracingScope{}, enabled)
}

// tracingOffIn reports whether ctx is inside ContextWithTracingEnabled(false).
func tracingOffIn(ctx context.Context) bool {
	if !keys.ScopesUsed.Load() {
		return false
	}
	on, ok := ctx.Value(keys.TracingScope{}).(bool)
	return ok && !on
}

// scopeSampler drops every span started in a context where tracing is off
// and asks the next sampler about the others.
type scopeSampler struct{ next sdktrace.Sampler }

func (s scopeSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	if tracingOffIn(p.ParentContext) {
		return sdktrace.SamplingResult{
			Decision:   sdktrace.Drop,
			Tracestate: trace.SpanContextFromContext(p.ParentContext).TraceState(),
		}
	}
	return s.next.ShouldSample(p)
}

func (s scopeSampler) Description() string { return "TracingScope{" + s.next.Description() + "}" }
