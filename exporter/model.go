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
	// Assessment is a feedback, expectation or issue reference on a trace.
	Assessment = tracemodel.Assessment
	// AssessmentSource says who made an assessment.
	AssessmentSource = tracemodel.AssessmentSource
	// FeedbackValue is a feedback's value or error.
	FeedbackValue = tracemodel.FeedbackValue
	// ExpectationValue is an expectation's value.
	ExpectationValue = tracemodel.ExpectationValue
	// IssueValue is the value of an issue reference.
	IssueValue = tracemodel.IssueValue
	// AssessmentError is the error a feedback records instead of a value.
	AssessmentError = tracemodel.AssessmentError
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
