package exporter

import (
	"context"
)

// Destination is where finished traces are written: the local MLflow store,
// an MLflow tracking server, a Databricks workspace, or your own (see
// WithDestination). The exporter's workers call it off the caller's path,
// possibly from several goroutines at once, so implementations must be safe
// for concurrent use. A returned error is reported once through the
// exporter's error handler; retrying transient failures is the
// destination's job, within the ctx it is given (bounded by the retry
// timeout), not the exporter's.
type Destination interface {
	// ExportTraces writes a batch of finished traces.
	ExportTraces(ctx context.Context, traces []*Trace) error
	// Shutdown releases resources. It is called once, after the last export.
	Shutdown(ctx context.Context) error
}

// SpanStreamer receives spans as they end, before their trace is finished
// (an MLflow server ≥ 3.4 through its OTLP route). A streamer is used only
// when it is given explicitly (WithSpanStreamer); the finished Trace, with
// all its spans, still goes to the Destination.
type SpanStreamer interface {
	ExportSpans(ctx context.Context, spans []*Span) error
}
