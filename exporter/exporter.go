package exporter

import (
	"context"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

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
// TODO(pipeline helper): implementation.
type Exporter struct{}

var _ sdktrace.SpanProcessor = (*Exporter)(nil)

// New returns an Exporter configured from the environment, then opts.
func New(ctx context.Context, opts ...Option) (*Exporter, error) { return &Exporter{}, nil }

// OnStart implements sdktrace.SpanProcessor.
func (e *Exporter) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {}

// OnEnd implements sdktrace.SpanProcessor.
func (e *Exporter) OnEnd(s sdktrace.ReadOnlySpan) {}

// ForceFlush implements sdktrace.SpanProcessor.
func (e *Exporter) ForceFlush(ctx context.Context) error { return nil }

// Shutdown implements sdktrace.SpanProcessor.
func (e *Exporter) Shutdown(ctx context.Context) error { return nil }

// UpdateTrace applies fn to the pending update of the open trace id, under the
// exporter's lock. It reports false when the trace is not open (unknown,
// unsampled or already finished).
func (e *Exporter) UpdateTrace(id trace.TraceID, fn func(*TraceUpdate)) bool { return false }
