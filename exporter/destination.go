package exporter

import (
	"context"
	"time"
)

// Destination is where finished traces are written: the local MLflow store,
// an MLflow tracking server, a Databricks workspace. The exporter's workers
// call it off the caller's path, possibly from several goroutines at once, so
// implementations must be safe for concurrent use. A returned error is
// reported once through the exporter's error handler; retrying transient
// failures is the transport's job (see package internal/transport), not the
// destination's.
type Destination interface {
	// ExportTraces writes a batch of finished traces.
	ExportTraces(ctx context.Context, traces []*Trace) error
	// Shutdown releases resources. It is called once, after the last export.
	Shutdown(ctx context.Context) error
}

// SpanStreamer is implemented by destinations that also receive spans as they
// end, before their trace is finished (an MLflow server ≥ 3.4 through its OTLP
// route). A destination that implements it still gets the finished Trace,
// with all spans, from ExportTraces. If it also has a
// StreamingSupported() bool method, spans it accepted while that method
// reports false are not counted as streamed (see Stats.SpansStreamed). With
// a SendsUnstreamedSpans() bool method reporting true, it is only streamed
// the spans of traces still open (see unstreamedSpansSender).
type SpanStreamer interface {
	ExportSpans(ctx context.Context, spans []*Span) error
}

// streamingReporter is implemented by SpanStreamers whose ExportSpans may
// accept spans without streaming them (an MLflow server without the OTLP
// route: the spans reach it with their trace). After a successful
// ExportSpans, spans are counted in Stats.SpansStreamed only when
// StreamingSupported reports true.
type streamingReporter interface {
	StreamingSupported() bool
}

// unstreamedSpansSender is implemented by SpanStreamers whose ExportTraces
// first sends the spans of each trace that the stream has not delivered (the
// MLflow server destination). When SendsUnstreamedSpans reports true, the
// exporter streams only spans of traces still open: once a trace is
// finished and queued, its spans still waiting in the span queue go with
// the trace (one request per trace batch instead of one per span batch),
// and a trace export does not wait for the span queue to drain. Spans left
// to the trace are not counted in Stats.SpansStreamed.
type unstreamedSpansSender interface {
	SendsUnstreamedSpans() bool
}

// traceIDPrefixer is implemented by destinations whose trace ids depend on
// what they learn from the backend (a Databricks experiment linked to Unity
// Catalog tables gets "trace:/<catalog>.<schema>.<prefix>/" ids and schema
// version 4). TraceIDPrefix is called on the caller's path: it must be a
// cheap read. "" means the default ("tr-", schema version 3).
type traceIDPrefixer interface {
	TraceIDPrefix() (prefix, schemaVersion string)
}

// starter is implemented by destinations with work to begin in the
// background when the exporter starts (the Databricks destination looks up
// its experiment's Unity Catalog link). Start waits for that work no longer
// than ctx allows; the destination owns it and stops it in Shutdown.
type starter interface {
	Start(ctx context.Context)
}

// startWait bounds how long New waits for a destination's Start.
const startWait = 3 * time.Second
