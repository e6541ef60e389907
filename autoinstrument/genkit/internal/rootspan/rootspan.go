// Package rootspan remembers the MLflow trace id of the last root span that
// ended: a span processor for programs and tests whose traces are rooted in
// Genkit's spans (tracing.LastTraceID knows only the roots package tracing
// starts).
package rootspan

import (
	"context"
	"sync"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Recorder is an OpenTelemetry span processor; give it to
// tracing.WithSpanProcessor. It is safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	last trace.TraceID
}

var _ sdktrace.SpanProcessor = (*Recorder)(nil)

// OnStart does nothing.
func (r *Recorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd remembers the trace of a root span.
func (r *Recorder) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.Parent().IsValid() {
		r.mu.Lock()
		r.last = s.SpanContext().TraceID()
		r.mu.Unlock()
	}
}

// Shutdown does nothing.
func (r *Recorder) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing.
func (r *Recorder) ForceFlush(context.Context) error { return nil }

// TraceID returns the MLflow id ("tr-…") of the last root span's trace.
func (r *Recorder) TraceID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return "tr-" + r.last.String()
}
