// Package keys holds the attribute, metadata and tag keys of MLflow's trace
// format (spec §2, §3) and the instrumentation scope of this SDK, so every
// package spells them the same way.
package keys

import "sync/atomic"

// ScopeName is the OpenTelemetry instrumentation scope of spans created through
// package tracing. Attribute values of spans in this scope are always stored as
// JSON-encoded strings, as MLflow's Python SDK does.
const ScopeName = "github.com/mlflowtrace/mlflowtrace-go/tracing"

// Span attribute keys (values are JSON-encoded strings).
const (
	TraceRequestID   = "mlflow.traceRequestId"
	SpanType         = "mlflow.spanType"
	SpanInputs       = "mlflow.spanInputs"
	SpanOutputs      = "mlflow.spanOutputs"
	SpanFunctionName = "mlflow.spanFunctionName"
	ChatTools        = "mlflow.chat.tools"
	ChatTokenUsage   = "mlflow.chat.tokenUsage"
	ChatMessages     = "mlflow.chat.messages"
	MessageFormat    = "mlflow.message.format"
	LLMModel         = "mlflow.llm.model"
	LLMProvider      = "mlflow.llm.provider"
	LLMCost          = "mlflow.llm.cost"
	SpanLogLevel     = "mlflow.spanLogLevel"
	// LinkedPrompts lists the prompt versions loaded in the span, as the
	// trace tag TagLinkedPrompts does for the trace.
	LinkedPrompts = "mlflow.linkedPrompts"
	SessionID     = "session.id"
	UserID        = "user.id"
)

// Trace metadata keys (TraceInfo.trace_metadata).
const (
	MetaSchemaVersion = "mlflow.trace_schema.version"
	MetaTraceInputs   = "mlflow.traceInputs"
	MetaTraceOutputs  = "mlflow.traceOutputs"
	MetaTokenUsage    = "mlflow.trace.tokenUsage"
	MetaCost          = "mlflow.trace.cost"
	MetaSizeStats     = "mlflow.trace.sizeStats"
	MetaSizeBytes     = "mlflow.trace.sizeBytes"
	MetaUser          = "mlflow.trace.user"
	MetaSession       = "mlflow.trace.session"
	MetaMLflowUser    = "mlflow.user"
	MetaSourceName    = "mlflow.source.name"
	MetaSourceType    = "mlflow.source.type"
	MetaGitCommit     = "mlflow.source.git.commit"
	MetaGitBranch     = "mlflow.source.git.branch"
	MetaGitRepoURL    = "mlflow.source.git.repoURL"
	MetaGitDirty      = "mlflow.source.git.dirty"
	MetaSourceRun     = "mlflow.sourceRun"
	MetaModelID       = "mlflow.modelId"
)

// Trace tag keys.
const (
	TagTraceName        = "mlflow.traceName"
	TagArtifactLocation = "mlflow.artifactLocation"
	TagSpansLocation    = "mlflow.trace.spansLocation"
	// TagLinkedPrompts lists the prompt versions loaded in the trace:
	// [{"name": "<prompt>", "version": "<n>"}, ...] (package promptlink).
	TagLinkedPrompts = "mlflow.linkedPrompts"
)

// Limits MLflow applies to trace info fields.
const (
	MaxMetadataKeyLen    = 250
	MaxMetadataValueLen  = 250
	MaxTagKeyLen         = 250
	MaxTagValueLen       = 4096
	MaxTraceIOLen        = 250  // mlflow.traceInputs / mlflow.traceOutputs
	PreviewLenOSS        = 1000 // request/response preview, open-source servers and local store
	PreviewLenDatabricks = 10000
)

// StartingSpan is the context key under which the context package tracing
// passes to tracer.Start answers, while Start runs, with the span being
// started as a StartAttributesWriter. A span of package tracing keeps the
// attributes it starts with until its first change or End; the exporter's
// OnStart keeps the writer so that a span exported while still open (trace
// timeout, eviction, Shutdown) is written with them.
type StartingSpan struct{}

// StartAttributesWriter writes a span's waiting start attributes to its
// OpenTelemetry span (nothing when they were written already).
type StartAttributesWriter interface{ WriteStartAttributes() }

// TraceScope is the context key of the trace options a context gives every
// trace started in it (tracing.ContextWithTraceOptions): the value is a
// func(*exporter.TraceUpdate) the exporter applies when a root span starts.
type TraceScope struct{}

// ScopesUsed is set once a context has trace options (TraceScope) or a
// tracing switch (TracingScope), so that a program that uses neither pays
// no context look-up per span or per trace.
var ScopesUsed atomic.Bool

// TracingScope is the context key of tracing.ContextWithTracingEnabled: the
// value is a bool, false when no span may be recorded in the context.
type TracingScope struct{}
