// Package tracemodel defines MLflow's trace data model (spec §2, §3) shared by the
// exporter, the trace assembly and every destination. Package exporter
// re-exports these types under the same names.
package tracemodel

import (
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Trace is one finished MLflow trace: its TraceInfo and every span, in the
// shape MLflow stores (spec §2 and §3). Destinations receive it from the
// exporter's background workers and must treat it as read-only: the same
// value may be handed to more than one destination.
type Trace struct {
	Info  TraceInfo
	Spans []*Span
}

// ContinuesRemote reports whether t is the part of a distributed trace that
// this process continued from a remote parent (a W3C traceparent): its root
// span (the first, see assemble.Build) has a parent. As in MLflow's Python
// SDK, only the process that started a trace writes its trace info.
func (t *Trace) ContinuesRemote() bool {
	return len(t.Spans) > 0 && t.Spans[0] != nil && t.Spans[0].ParentSpanID.IsValid()
}

// TraceInfo is MLflow's TraceInfo (schema v3).
type TraceInfo struct {
	TraceID           string // "tr-" + 32 lowercase hex digits
	ClientRequestID   string
	ExperimentID      string // trace_location.mlflow_experiment.experiment_id; set by the destination when empty
	RequestPreview    string
	ResponsePreview   string
	RequestTime       time.Time     // root span start
	ExecutionDuration time.Duration // root span end − start
	State             string        // StateOK, StateError or StateInProgress
	Metadata          map[string]string
	Tags              map[string]string
	// Assessments are the feedback, expectations and issue references
	// logged on the trace (read back from a backend; the exporter writes
	// none).
	Assessments []Assessment
	// UCSchema, when set, makes the trace a Unity Catalog trace (schema v4):
	// trace_location is {"type": "UC_SCHEMA", "uc_schema": {...}} instead of
	// the experiment.
	UCSchema *UCSchemaLocation
	// UCTablePrefix, when set (and UCSchema is not), makes the trace a Unity
	// Catalog trace of a table-prefix location (schema v4): trace_location
	// is {"type": "UC_TABLE_PREFIX", "uc_table_prefix": {...}}. It is where
	// MLflow sends the traces of an experiment linked to Unity Catalog
	// tables.
	UCTablePrefix *UCTablePrefixLocation
}

// UCTablePrefixLocation is a Unity Catalog location of trace tables named
// <catalog>.<schema>.<table prefix>… (MLflow's UnityCatalog entity; the
// table names are fully qualified and come from the backend).
type UCTablePrefixLocation struct {
	CatalogName          string
	SchemaName           string
	TablePrefix          string
	SpansTableName       string
	LogsTableName        string
	AnnotationsTableName string
}

// Location returns "<catalog>.<schema>.<table prefix>", the location in v4
// trace ids and REST paths.
func (l *UCTablePrefixLocation) Location() string {
	return l.CatalogName + "." + l.SchemaName + "." + l.TablePrefix
}

// UCSchemaLocation is a Unity Catalog schema holding trace tables (MLflow's
// UCSchemaLocation; the table names are the backend's).
type UCSchemaLocation struct {
	CatalogName        string
	SchemaName         string
	OTelSpansTableName string
	OTelLogsTableName  string
}

// Trace states.
const (
	StateOK         = "OK"
	StateError      = "ERROR"
	StateInProgress = "IN_PROGRESS"
)

// Span is one span in MLflow's traces.json form.
type Span struct {
	TraceID      trace.TraceID
	SpanID       trace.SpanID
	ParentSpanID trace.SpanID // invalid (zero) for a root span
	Name         string
	StartTime    time.Time
	EndTime      time.Time
	Status       Status
	Events       []Event
	// Attributes maps each key to the JSON encoding of its value: a string
	// attribute "LLM" is stored as `"LLM"` (with the quotes).
	Attributes map[string]string
	// Scope is the OpenTelemetry instrumentation scope that created the span.
	Scope string
	// Links are the span's links to spans of other traces (or of this one).
	Links []Link
}

// Link is a span link. Attribute values are raw (not JSON-encoded).
type Link struct {
	TraceID    trace.TraceID
	SpanID     trace.SpanID
	Attributes map[string]any
}

// Status is a span status; Code is one of the StatusCode* constants.
type Status struct {
	Code    string
	Message string
}

// Span status codes as MLflow writes them.
const (
	StatusCodeUnset = "STATUS_CODE_UNSET"
	StatusCodeOK    = "STATUS_CODE_OK"
	StatusCodeError = "STATUS_CODE_ERROR"
)

// Event is a span event. Attribute values are raw (not JSON-encoded), as
// MLflow stores them.
type Event struct {
	Name       string
	Time       time.Time
	Attributes map[string]any
}

// RequestIDPrefix is the prefix of schema v3 trace ids ("tr-").
const RequestIDPrefix = "tr-"

// RequestID returns the trace's MLflow id ("tr-…").
func RequestID(id trace.TraceID) string { return RequestIDPrefix + id.String() }

// UCRequestIDPrefix returns the prefix of the ids of Unity Catalog traces
// stored in location "<catalog>.<schema>": "trace:/<catalog>.<schema>/"; the
// id is the prefix followed by the 32 hex digits of the trace id.
func UCRequestIDPrefix(location string) string { return "trace:/" + location + "/" }

// TraceUpdate is what a program sets on its current trace while it is open
// (tracing.UpdateCurrentTrace). Trace assembly applies it over the values it
// derives from the spans.
type TraceUpdate struct {
	Tags            map[string]string
	Metadata        map[string]string // includes mlflow.trace.user / mlflow.trace.session
	ClientRequestID string
	RequestPreview  *string // nil: derive from the root span's inputs
	ResponsePreview *string // nil: derive from the root span's outputs
	State           string  // "": derive from the root span's status
}
