package exporter

import "github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"

// The MLflow trace model. See package internal/tracemodel for field docs.
type (
	// Trace is one finished MLflow trace: its TraceInfo and every span.
	Trace = tracemodel.Trace
	// TraceInfo is MLflow's TraceInfo (schema v3).
	TraceInfo = tracemodel.TraceInfo
	// Span is one span in MLflow's traces.json form.
	Span = tracemodel.Span
	// Status is a span status.
	Status = tracemodel.Status
	// Event is a span event.
	Event = tracemodel.Event
)

// Trace states and span status codes.
const (
	StateOK         = tracemodel.StateOK
	StateError      = tracemodel.StateError
	StateInProgress = tracemodel.StateInProgress

	StatusCodeUnset = tracemodel.StatusCodeUnset
	StatusCodeOK    = tracemodel.StatusCodeOK
	StatusCodeError = tracemodel.StatusCodeError
)
