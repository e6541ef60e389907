// Package assemble converts OpenTelemetry spans into MLflow spans and builds a
// finished MLflow trace (TraceInfo and spans) from them, deriving what MLflow's
// Python SDK derives: previews, trace inputs/outputs, token usage, size stats,
// the trace name tag and the trace state.
package assemble
